"""Inference precision: a float32 generator rebuilt to compute in bfloat16 or float16.

Weights stay float32 (Keras mixed precision); activations and matmuls use the lower
precision. bfloat16 is the fast choice on CPUs with AVX512-BF16 or AMX and on TPUs,
float16 on GPUs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import keras

from gated_inpaint.inference.options import PRECISIONS
from gated_inpaint.models.generator import InpaintGenerator


@contextlib.contextmanager
def dtype_policy(precision: str) -> Iterator[str]:
    """Sets Keras' global dtype policy for `precision` (a key of `PRECISIONS`) inside the
    block, restoring the previous one after; yields the policy name."""
    if precision not in PRECISIONS:
        raise ValueError(
            f"Unknown precision {precision!r}: expected one of {', '.join(PRECISIONS)}."
        )
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(PRECISIONS[precision])
    try:
        yield PRECISIONS[precision]
    finally:
        keras.mixed_precision.set_global_policy(previous)


def with_precision(generator: InpaintGenerator, precision: str) -> InpaintGenerator:
    """`generator` if it already computes in `precision`, else a copy with the same weights
    that does. Outputs are cast to float32 by the callers (`uint8_graph.inpaint_uint8`)."""
    with dtype_policy(precision) as policy:
        if generator.dtype_policy.name == policy:
            return generator
        copy = InpaintGenerator(cnum=generator.cnum, guided=generator.guided)
        copy.build((1, None, None, 3))
    copy.set_weights(generator.get_weights())
    return copy
