"""Time and memory of the contextual attention alone, as the full-size generator runs it.

Usage: python bench/attention.py [--sizes 512 2048] [--runs 3] [--precision float32]

For each image size S: `ContextualAttention` (its default `chunk_elements`) in a
`tf.function` on random features `[1, S/4, S/4, C]` (C the attention encoder's output width
at cnum=48) with the centred rectangular hole of bench/run.py's forward rows (25 %): median,
min and max of `--runs` calls after one warm-up call, the attention's GFLOP (its two
matmuls, `gated_inpaint.models.flops`) per second and as a fraction of the machine's matmul
rate measured in the same process (`tf.linalg.matmul`, n=4096, median of 3), and this
process's peak RSS after the size. To compare two versions of the code, run it twice with
`PYTHONPATH` pointing at each checkout, alternately, and compare the fractions (the machine
may be shared).
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from common import peak_rss_mb, rect_mask, timings  # noqa: E402

from gated_inpaint.layers import ContextualAttention  # noqa: E402
from gated_inpaint.models import InpaintGenerator  # noqa: E402
from gated_inpaint.models.flops import attention_flops  # noqa: E402

CNUM = 48
MATMUL_N = 4096


def matmul_gflops(precision: str) -> float:
    """Median GFLOP/s of `MATMUL_N`-square `tf.linalg.matmul` in `precision` (3 runs)."""
    a = tf.cast(tf.random.normal([MATMUL_N, MATMUL_N], seed=1), precision)
    b = tf.cast(tf.random.normal([MATMUL_N, MATMUL_N], seed=2), precision)
    t = timings(lambda: tf.linalg.matmul(a, b)[0, 0].numpy(), 3)
    return 2 * MATMUL_N**3 / t["median_s"] / 1e9


def measure(size: int, runs: int, channels: int) -> dict:
    """The attention on `[1, size/4, size/4, channels]` features: `timings` plus `gflop`."""
    side = size // 4
    rng = np.random.default_rng(0)
    features = tf.constant(rng.uniform(0, 1, (1, side, side, channels)).astype("float32"))
    mask = tf.constant(rect_mask(side, side)[None, ..., None].astype("float32"))
    layer = ContextualAttention(name="contextual_attention")
    call = tf.function(layer.call)
    result = timings(lambda: call(features, mask)[0, 0, 0, 0].numpy(), runs, warmup=1)
    flops = attention_flops(layer, side, side, channels)
    result["gflop"] = sum(entry["flops"] for entry in flops.values()) / 1e9
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[512, 2048])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--precision", choices=("float32", "bfloat16"), default="float32")
    args = parser.parse_args()
    keras.mixed_precision.set_global_policy(
        "mixed_bfloat16" if args.precision == "bfloat16" else "float32"
    )
    channels = InpaintGenerator(cnum=CNUM).attention_encoder[-1].filters
    rate = matmul_gflops(args.precision)
    print(f"matmul rate ({args.precision}, n={MATMUL_N}): {rate:.0f} GFLOP/s", flush=True)
    for size in args.sizes:
        r = measure(size, args.runs, channels)
        achieved = r["gflop"] / r["median_s"]
        print(
            f"{size}x{size} ({size // 4}x{size // 4}x{channels} features): "
            f"median {r['median_s']:.2f} s (min {r['min_s']:.2f}, max {r['max_s']:.2f}), "
            f"{r['gflop']:.0f} GFLOP, {achieved:.0f} GFLOP/s = {achieved / rate:.0%} of matmul; "
            f"peak RSS {peak_rss_mb() / 1024:.2f} GB",
            flush=True,
        )


if __name__ == "__main__":
    main()
