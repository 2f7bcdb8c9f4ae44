"""Forward time of the full-size DeepFill v2 generator (cnum=48), batch 1, fp32.

Usage: python bench/generator_forward.py [--sizes 256 512] [--runs 7]
Prints the median and spread over `--runs` timed calls after two warm-up calls, with
the graph compiled by tf.function for a fixed input shape.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from gated_inpaint.models import InpaintGenerator  # noqa: E402


def time_forward(generator: InpaintGenerator, size: int, runs: int) -> list[float]:
    rng = np.random.default_rng(0)
    image = tf.constant(rng.uniform(-1, 1, (1, size, size, 3)).astype("float32"))
    mask = np.zeros((1, size, size, 1), "float32")
    mask[:, size // 4 : size // 2, size // 4 : 3 * size // 4] = 1
    mask = tf.constant(mask)
    forward = tf.function(lambda i, m: generator(i, m)[1])
    for _ in range(2):
        forward(image, mask).numpy()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        forward(image, mask).numpy()
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args()
    generator = InpaintGenerator()
    generator.build((1, None, None, 3))
    results = {}
    print(f"{'size':>6} {'median s':>9} {'min s':>7} {'max s':>7}")
    for size in args.sizes:
        times = time_forward(generator, size, args.runs)
        results[size] = {
            "median_s": statistics.median(times),
            "min_s": min(times),
            "max_s": max(times),
            "runs": args.runs,
        }
        print(f"{size:>6} {statistics.median(times):9.3f} {min(times):7.3f} {max(times):7.3f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
