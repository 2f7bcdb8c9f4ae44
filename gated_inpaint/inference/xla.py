"""XLA compilation of the network step of the uint8 graph (`jit_compile=True`).

The step from uint8 pixels to uint8 pixels (`uint8_graph.inpaint_uint8`: padding, the
generator, the paste of the known pixels) runs as one XLA computation. XLA compiles it for
each size it meets, once: worth it when images come at a few fixed sizes (e.g. a service
on GPU), slow when every image has its own size. The high-resolution strategies stay
outside (their crop boxes depend on the masks' values), so a `crop` box is compiled at each
new box size.

The graph is traced once at unknown sizes, where the contextual attention's row-chunk loop
(`attention_chunk_elements`) builds blocks whose shapes change with the loop index, which XLA
cannot compile; so the compiled generator computes all the attention scores at once (more
memory at large sizes). (At static shapes, as in a compiled training step, the blocks are
unrolled and compile.)
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import tensorflow as tf

from gated_inpaint.inference.options import PRECISIONS
from gated_inpaint.inference.precision import dtype_policy
from gated_inpaint.inference.uint8_graph import inpaint_uint8
from gated_inpaint.models.generator import InpaintGenerator


def compilable(generator: InpaintGenerator) -> InpaintGenerator:
    """`generator` if its attention is not chunked, else a copy with the same weights and
    dtype policy whose attention computes all its scores at once."""
    if generator.attention_chunk_elements is None:
        return generator
    precisions = {policy: name for name, policy in PRECISIONS.items()}
    with dtype_policy(precisions[generator.dtype_policy.name]):  # the sublayers' policy too
        copy = InpaintGenerator(
            cnum=generator.cnum, guided=generator.guided, attention_chunk_elements=None
        )
        copy.build((1, None, None, 3))
    copy.set_weights(generator.get_weights())
    return copy


def compiled_inpaint_uint8(generator: InpaintGenerator) -> Callable[..., tf.Tensor]:
    """`inpaint_uint8(generator, images, masks[, edges])` as an XLA-compiled `tf.function`
    (`generator` from `compilable`)."""
    if generator.attention_chunk_elements is not None:
        raise ValueError(
            "XLA cannot compile a generator whose attention is chunked: pass "
            "xla.compilable(generator)."
        )
    return tf.function(functools.partial(inpaint_uint8, generator), jit_compile=True)
