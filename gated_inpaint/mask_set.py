"""`gated-inpaint masks`: a fixed evaluation set of official free-form masks, balanced over the
hole-coverage buckets of `evaluation.BUCKETS`.

Mask `i` targets bucket `i % 5` and is a pure function of `(seed, i, size)`: official brush
stroke masks (`masks.brush_stroke_mask`) are drawn from a numpy Generator seeded with
`(seed, i)` and OR'ed together until the hole covers at least the bucket's low end; a union
that reaches the high end is dropped and the next draw starts a new one.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys

import numpy as np
from PIL import Image

from gated_inpaint.evaluation import BUCKETS, bucket_label, bucket_of, coverage_percent
from gated_inpaint.masks import brush_stroke_mask

MASKS_CSV = "masks.csv"
MIN_SIZE = 32
MAX_DRAWS = 2000  # stroke masks drawn for one mask before giving up
PROGRESS_EVERY = 100
# Third seed word (non-zero: numpy ignores trailing zeros), so that mask i of seed K is not the
# training mask i of `masks.mask_dataset(seed=K)`.
_MASK_SET_STREAM = 0x45564C

MASKS_DESCRIPTION = f"""\
Write a fixed evaluation set of free-form masks: OUT/00000.png, OUT/00001.png,
... (8-bit PNG, 255 = hole, 0 = known pixel) and OUT/{MASKS_CSV} (name,
coverage_percent, bucket).

The set is balanced over five hole-coverage buckets, 10-20, 20-30, 30-40, 40-50
and 50-60 % of the pixels (low end included): mask i falls in bucket i % 5.
Each mask is a union of the official DeepFill v2 brush-stroke masks (1 to 3
strokes, 12 to 39 px wide), drawn until the hole reaches the bucket's low end;
a union that overshoots the high end is dropped and the drawing starts over.

Mask i depends only on --seed, i and --size: the same arguments always give the
same files, and a larger --count extends a set without changing its first masks.
They differ from the training masks of train.py with the same --seed.

Evaluate a model on the set with `gated-inpaint evaluate --masks OUT ...`.
"""


def add_masks_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the arguments of `gated-inpaint masks`."""
    parser.add_argument("--count", type=int, required=True, help="number of masks to write")
    parser.add_argument(
        "--size",
        type=int,
        default=256,
        help=f"side of the square masks in pixels (default 256): a multiple of 8, as the "
        f"networks need, and at least {MIN_SIZE}, below which strokes 12 px wide or more "
        f"cannot make holes of 10-20 %%",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="non-negative seed of the set (default 0)"
    )
    parser.add_argument(
        "--out", required=True, metavar="DIR", help="folder to write into (created if needed)"
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace existing mask files and masks.csv"
    )


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


def _check_args(args: argparse.Namespace) -> None:
    if args.count < 1:
        raise ValueError(f"--count must be at least 1, got {args.count}")
    if args.size < MIN_SIZE or args.size % 8:
        raise ValueError(
            f"--size must be a multiple of 8 (the networks need it) and at least {MIN_SIZE} "
            f"(the strokes are 12 to 39 px wide, so smaller masks cannot have holes of "
            f"10-20 %), got {args.size}"
        )
    if args.seed < 0:
        raise ValueError(f"--seed must be non-negative, got {args.seed}")
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise ValueError(f"--out {args.out} is a file; give a folder")


def run_masks(args: argparse.Namespace) -> str:
    """Runs `gated-inpaint masks`; returns a summary, raises ValueError or OSError on errors."""
    _check_args(args)
    names = [mask_name(i, args.count) for i in range(args.count)]
    csv_path = os.path.join(args.out, MASKS_CSV)
    existing = [
        p for p in [*(os.path.join(args.out, n) for n in names), csv_path] if os.path.exists(p)
    ]
    if existing and not args.overwrite:
        others = (
            f" (and {len(existing) - 1} more of the files to write)" if len(existing) > 1 else ""
        )
        raise FileExistsError(f"{existing[0]} exists{others}; pass --overwrite to replace it")
    os.makedirs(args.out, exist_ok=True)
    with open(csv_path, "w", newline="") as table:
        writer = csv.writer(table)
        writer.writerow(["name", "coverage_percent", "bucket"])
        for index, name in enumerate(names):
            hole = bucket_mask(args.seed, index, args.size)
            Image.fromarray(hole.astype(np.uint8) * 255).save(os.path.join(args.out, name))
            coverage = coverage_percent(hole)  # written exactly: never rounded into a bucket's end
            writer.writerow([name, coverage, bucket_of(coverage)])
            if (index + 1) % PROGRESS_EVERY == 0 or index + 1 == args.count:
                print(f"[{index + 1}/{args.count}] masks written", file=sys.stderr, flush=True)
    return (
        f"Wrote {args.count} mask{'' if args.count == 1 else 's'} of {args.size}x{args.size} "
        f"(seed {args.seed}) and {MASKS_CSV} into {args.out}"
    )
