"""`gated-inpaint masks`: write a fixed evaluation mask set (`evaluation.mask_set`) as PNG files
and `masks.csv`."""

from __future__ import annotations

import argparse
import csv
import os
import sys

import numpy as np
from PIL import Image

from gated_inpaint.evaluation.metrics import bucket_of, coverage_percent
from gated_inpaint.evaluation.options import MIN_SIZE

NAME = "masks"
HELP = "write a fixed evaluation mask set, balanced over hole-coverage buckets"
MASKS_CSV = "masks.csv"
PROGRESS_EVERY = 100
DESCRIPTION = f"""\
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


def add_arguments(parser: argparse.ArgumentParser) -> None:
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


def run(args: argparse.Namespace) -> str:
    """Runs `gated-inpaint masks`; returns a summary, raises ValueError or OSError on errors."""
    from gated_inpaint.evaluation.mask_set import bucket_mask, mask_name

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
