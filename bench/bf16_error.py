"""How far the bfloat16 generator's uint8 result is from float32's, in the hole.

Usage: python bench/bf16_error.py [--size 512] [--seeds 0 1 2]

Rows:
- the full-size generator (cnum=48) with random weights that keep its activations away from
  zero (bench/common.py's `random_generator`, one per seed), at `--size` square, on a smooth
  random image with a centred rectangular hole (25 % of the area), as the forward rows of
  bench/run.py; and the same with a free-form hole (~10 %);
- the setting of tests/inference/test_precision.py (cnum=8, 64x96, its rectangle), whose
  mean the test bounds.

Each row: `inpaint_uint8` of the float32 generator and of its bfloat16 copy
(`inference.precision.with_precision`), and the absolute difference in uint8 levels over
the hole values (pixels x channels): mean, 99th percentile, max, and the share that differs.
The known pixels are returned unchanged by both, so they are left out.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from common import freeform_mask, random_generator, rect_mask, smooth_image  # noqa: E402

from gated_inpaint.inference.precision import with_precision  # noqa: E402
from gated_inpaint.inference.uint8_graph import inpaint_uint8  # noqa: E402
from gated_inpaint.testing import smooth_photo, tiny_generator  # noqa: E402


def hole_error(generator, image: np.ndarray, mask: np.ndarray) -> dict:
    """|uint8 bfloat16 - uint8 float32| over the hole of `image` (`[H, W, 3]`) and `mask`
    (`[H, W]`, nonzero = hole): `mean`, `p99`, `max`, `differs` (fraction) and `values`."""
    fast = with_precision(generator, "bfloat16")
    images, masks = image[None], mask[None, ..., None]
    exact = inpaint_uint8(generator, images, masks).numpy().astype(int)
    approx = inpaint_uint8(fast, images, masks).numpy().astype(int)
    hole = np.broadcast_to(masks > 0, exact.shape)
    diff = np.abs(exact - approx)[hole]
    return {
        "mean": float(diff.mean()),
        "p99": float(np.percentile(diff, 99)),
        "max": int(diff.max()),
        "differs": float((diff > 0).mean()),
        "values": int(diff.size),
    }


def test_setting() -> dict:
    """The figure tests/inference/test_precision.py checks: its generator, photo and hole."""
    mask = np.zeros((64, 96), np.uint8)
    mask[16:48, 24:72] = 1
    return hole_error(tiny_generator(cnum=8), smooth_photo(64, 96), mask)


def full_size(size: int, seed: int, hole: str) -> dict:
    mask = rect_mask(size, size) if hole == "rect" else freeform_mask(size, size, seed=seed)
    return hole_error(random_generator(48, seed), smooth_image(size, size, seed), mask)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512, help="full-size rows: square side")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    print(f"TensorFlow {tf.__version__}; |uint8 bfloat16 - uint8 float32| in the hole, levels")
    print(f"{'case':<44} {'values':>8} {'mean':>6} {'p99':>4} {'max':>4} {'differs':>8}")
    rows = [("test_precision.py: cnum=8, 64x96, rectangle", test_setting())]
    for hole in ("rect", "freeform"):
        for seed in args.seeds:
            name = f"cnum=48, {args.size}x{args.size}, {hole} hole, seed {seed}"
            rows.append((name, full_size(args.size, seed, hole)))
    for name, r in rows:
        print(
            f"{name:<44} {r['values']:>8} {r['mean']:>6.3f} {r['p99']:>4.0f} {r['max']:>4} "
            f"{r['differs']:>8.1%}"
        )


if __name__ == "__main__":
    main()
