"""Masks per second of `mask_dataset` at 256x256, for every mask type.

Masks are read in batches of 16, as training reads them, so the Python-side cost of fetching
single elements does not count. Usage: python bench/bench_masks.py [--batches 125] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from gated_inpaint.data.masks import MASK_TYPES, mask_dataset  # noqa: E402

BATCH_SIZE = 16


def masks_per_second(mask_type: str, num_batches: int, runs: int) -> float:
    """Median rate over `runs` passes of `num_batches` batches, after one warm-up pass."""
    iterator = iter(mask_dataset(256, 256, mask_type, seed=0).batch(BATCH_SIZE))
    rates = []
    for run in range(runs + 1):
        start = time.perf_counter()
        for _ in range(num_batches):
            next(iterator)
        if run:
            rates.append(num_batches * BATCH_SIZE / (time.perf_counter() - start))
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=125, help="batches per timed run")
    parser.add_argument("--runs", type=int, default=5, help="timed runs (median reported)")
    args = parser.parse_args()
    masks = args.batches * BATCH_SIZE
    print(f"256x256, {masks} masks in batches of {BATCH_SIZE}, median of {args.runs} runs")
    print(f"{'mask_type':<10} {'masks/s':>9}")
    for mask_type in MASK_TYPES:
        print(f"{mask_type:<10} {masks_per_second(mask_type, args.batches, args.runs):>9.0f}")


if __name__ == "__main__":
    main()
