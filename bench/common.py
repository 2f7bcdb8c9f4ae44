"""Helpers shared by the bench scripts: timing, peak RSS, test images, masks and a generator
with random weights that keep its activations away from zero."""

from __future__ import annotations

import os
import resource
import statistics
import time
from collections.abc import Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

WARMUP_CALLS = 2


def timings(f: Callable[[], object], runs: int, warmup: int = WARMUP_CALLS) -> dict:
    """Times `f()`: the first (cold) call, `warmup - 1` more untimed calls, then `runs` timed
    ones; returns `first_call_s`, `median_s`, `min_s`, `max_s`, `runs` and every time."""
    start = time.perf_counter()
    f()
    first = time.perf_counter() - start
    for _ in range(warmup - 1):
        f()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return {
        "first_call_s": first,
        "median_s": statistics.median(times),
        "min_s": min(times),
        "max_s": max(times),
        "runs": runs,
        "times_s": times,
    }


def peak_rss_mb() -> float:
    """This process's peak resident set size so far (`ru_maxrss`, kB on Linux), in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def smooth_image(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A smooth random uint8 RGB image `[height, width, 3]` (bilinear blow-up of noise)."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (max(height // 32, 2), max(width // 32, 2), 3), np.uint8)
    return np.asarray(Image.fromarray(coarse).resize((width, height), Image.BILINEAR))


def rect_mask(height: int, width: int) -> np.ndarray:
    """uint8 `[height, width]`, 1 in a centred rectangle of half the height and half the width
    (a quarter of the area)."""
    mask = np.zeros((height, width), np.uint8)
    mask[height // 4 : height // 4 + height // 2, width // 4 : width // 4 + width // 2] = 1
    return mask


def freeform_mask(height: int, width: int, coverage: float = 0.10, seed: int = 0) -> np.ndarray:
    """uint8 `[height, width]` free-form hole of about `coverage` of the area, reproducible from
    `seed`: official brush-stroke masks drawn at 512 px on the long side are OR'ed until they
    cover `coverage`, for 8 draws, and the draw closest to `coverage` is scaled up (nearest) to
    the image, so strokes are 12-40 px wide at 512 px."""
    from PIL import Image

    from gated_inpaint.data.masks import brush_stroke_mask

    scale = 512 / max(height, width)
    small = (max(round(height * scale), 8), max(round(width * scale), 8))
    rng = np.random.default_rng(seed)
    best = None
    for _ in range(8):
        union = np.zeros(small, np.float32)
        while union.mean() < coverage:
            union = np.maximum(union, brush_stroke_mask(*small, rng))
        if best is None or abs(union.mean() - coverage) < abs(best.mean() - coverage):
            best = union
    mask = Image.fromarray(best.astype(np.uint8)).resize((width, height), Image.NEAREST)
    return np.asarray(mask)


def random_generator(cnum: int = 48, seed: int = 0):
    """A built `InpaintGenerator` (in the current Keras dtype policy) with amplified random
    weights, reproducible from `seed`."""
    import keras

    from gated_inpaint.models import InpaintGenerator
    from gated_inpaint.testing import amplify_weights

    keras.utils.set_random_seed(seed)
    generator = InpaintGenerator(cnum=cnum)
    generator.build((1, None, None, 3))
    return amplify_weights(generator, seed=seed)
