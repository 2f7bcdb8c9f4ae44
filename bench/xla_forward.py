"""XLA against no XLA: the generator forward and the uint8 graph at fixed sizes.

Usage: python bench/xla_forward.py [--sizes 256 512] [--runs 5] [--official_checkpoint DIR]

In one process, at each size (batch 1, smooth random image, free-form hole of ~10 %):

- the generator forward in a `tf.function` on float inputs: as built by default (attention
  in row chunks), with its attention unchunked, and compiled by XLA (`jit_compile=True`, on
  the unchunked copy `inference.xla.compilable` makes, as the compiled uint8 graph uses);
- the uint8 graph through `Inpainter(..., hd_strategy="original")` without and with
  `jit_compile=True`, and how far their results are apart in the hole: the share of hole
  values that differ at all and by more than one level, and the largest difference.

`first_s` is the first call (tracing, plus XLA's compilation); then `common.timings`: median,
min and max of `--runs` calls after two warm-up calls. The generator is the bench's cnum=48
one with amplified random weights (`common.random_generator`), or an official TF1 checkpoint
with `--official_checkpoint`; amplified weights magnify rounding differences, so the
agreement figures are a bound for real weights. Prints JSON.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import tensorflow as tf
from common import freeform_mask, random_generator, smooth_image, timings

from gated_inpaint import Inpainter
from gated_inpaint.inference.xla import compilable
from gated_inpaint.models import InpaintGenerator


def _forwards(generator: InpaintGenerator) -> dict:
    unchunked = compilable(generator)  # the same weights, attention unchunked
    return {
        "forward_chunked": tf.function(lambda x, m: generator(x, m)[1]),
        "forward_unchunked": tf.function(lambda x, m: unchunked(x, m)[1]),
        "forward_xla": tf.function(lambda x, m: unchunked(x, m)[1], jit_compile=True),
    }


def measure(generator: InpaintGenerator, size: int, runs: int) -> dict:
    """Timings of every variant at `size`, and the agreement of the uint8 results."""
    image, mask = smooth_image(size, size), freeform_mask(size, size)
    x = tf.constant(image[None].astype(np.float32) / 127.5 - 1.0)
    m = tf.constant(mask[None, ..., None].astype(np.float32))
    result = {"size": size}
    for name, forward in _forwards(generator).items():
        result[name] = timings(lambda f=forward: f(x, m).numpy(), runs)
    outputs = {}
    for name, jit in [("uint8_graph", False), ("uint8_graph_xla", True)]:
        inpainter = Inpainter(generator, hd_strategy="original", jit_compile=jit)
        result[name] = timings(lambda i=inpainter: i.inpaint(image, mask), runs)
        outputs[name] = inpainter.inpaint(image, mask).astype(int)
    hole = mask > 0
    difference = np.abs(outputs["uint8_graph_xla"] - outputs["uint8_graph"])[hole]
    result["hole_values_differing"] = float((difference > 0).mean())
    result["hole_values_differing_by_more_than_1"] = float((difference > 1).mean())
    result["max_difference"] = int(difference.max())
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--official_checkpoint", help="official TF1 checkpoint to use instead")
    args = parser.parse_args()
    if args.official_checkpoint:
        from gated_inpaint.weights.official import generator_from_official_checkpoint

        generator = generator_from_official_checkpoint(args.official_checkpoint)
    else:
        generator = random_generator()
    results = [measure(generator, size, args.runs) for size in args.sizes]
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
