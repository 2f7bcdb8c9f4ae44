"""A fixed evaluation set of official free-form masks, balanced over the hole-coverage buckets
of `metrics.BUCKETS` (written by `gated-inpaint masks`).

Mask `i` targets bucket `i % 5` and is a pure function of `(seed, i, size)`: official brush
stroke masks (`data.masks.brush_stroke_mask`) are drawn from a numpy Generator seeded with
`(seed, i)` and OR'ed together until the hole covers at least the bucket's low end; a union
that reaches the high end is dropped and the next draw starts a new one.
"""

from __future__ import annotations

import numpy as np

from gated_inpaint.data.masks import brush_stroke_mask
from gated_inpaint.evaluation.metrics import BUCKETS, bucket_label, coverage_percent

MAX_DRAWS = 2000  # stroke masks drawn for one mask before giving up
# Third seed word (non-zero: numpy ignores trailing zeros), so that mask i of seed K is not the
# training mask i of `data.masks.mask_dataset(seed=K)`.
_MASK_SET_STREAM = 0x45564C


def bucket_mask(seed: int, index: int, size: int) -> np.ndarray:
    """Mask `index` of the set of `seed`: bool `[size, size]`, True = hole, with a coverage in
    bucket `BUCKETS[index % 5]`.

    Raises:
        ValueError: no union hit the bucket in `MAX_DRAWS` stroke masks (only at sizes where
            one stroke mask covers most of the image, e.g. below 32 px).
    """
    low, high = BUCKETS[index % len(BUCKETS)]
    rng = np.random.default_rng([seed, index, _MASK_SET_STREAM])
    hole = np.zeros((size, size), bool)
    for _ in range(MAX_DRAWS):
        hole |= brush_stroke_mask(size, size, rng) > 0
        coverage = coverage_percent(hole)
        if coverage >= high:
            hole[:] = False
        elif coverage >= low:
            return hole
    raise ValueError(
        f"mask {index} (seed {seed}): {MAX_DRAWS} stroke masks gave no hole of "
        f"{bucket_label(low, high)} % of a {size}x{size} image; use a larger --size"
    )


def mask_name(index: int, count: int) -> str:
    """File name of mask `index` in a set of `count`: 00000.png, ... (more digits if needed)."""
    return f"{index:0{max(5, len(str(count - 1)))}d}.png"
