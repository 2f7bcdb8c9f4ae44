"""Options that several commands share: the high-resolution strategy, the precision, and
loading the model that `--model` names with them."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from gated_inpaint.commands.flags import Flag
from gated_inpaint.inference.options import DEFAULT_HD, HD_STRATEGIES, PRECISIONS, HDStrategy

if TYPE_CHECKING:
    from gated_inpaint.inference.inpainter import Inpainter

DEFAULT_PRECISION = "float32"

HD_FLAGS = (
    Flag(
        "hd_strategy",
        f"How images with a long side above --hd_max_size are filled: crop = the holes' box "
        f"plus --hd_margin at full resolution (scaled down to --hd_max_size if larger), resize "
        f"= the whole image scaled down to --hd_max_size, original = the whole image at full "
        f"resolution (slow, memory grows with the image). Default {DEFAULT_HD.strategy}.",
        default=DEFAULT_HD.strategy,
        choices=HD_STRATEGIES,
    ),
    Flag(
        "hd_max_size",
        f"Long side above which --hd_strategy applies, and the largest the network is run at "
        f"by crop and resize (default {DEFAULT_HD.max_size}).",
        kind=int,
        default=DEFAULT_HD.max_size,
        metavar="PIXELS",
    ),
    Flag(
        "hd_margin",
        f"crop: context kept around the holes' box on each side (default {DEFAULT_HD.margin}).",
        kind=int,
        default=DEFAULT_HD.margin,
        metavar="PIXELS",
    ),
)

PRECISION_FLAG = Flag(
    "precision",
    "Precision the generator computes in: bfloat16 is about 1.6-2x faster on CPUs with "
    "AVX512-BF16 or AMX, float16 on GPUs; weights stay float32 (default float32).",
    default=DEFAULT_PRECISION,
    choices=tuple(PRECISIONS),
)

JIT_COMPILE_FLAG = Flag(
    "jit_compile",
    "Compile the network with XLA, once for each image size it meets: faster for images of a "
    "few fixed sizes, mostly on GPUs (a first image of each size takes seconds more).",
    kind=bool,
    default=False,
)

INFERENCE_FLAGS = (*HD_FLAGS, PRECISION_FLAG, JIT_COMPILE_FLAG)


def hd_from_args(args: argparse.Namespace) -> HDStrategy:
    """The `HDStrategy` of parsed `HD_FLAGS` (ValueError if invalid)."""
    return HDStrategy(args.hd_strategy, args.hd_max_size, args.hd_margin)


def load_inpainter(args: argparse.Namespace) -> Inpainter:
    """`Inpainter.load(args.model)` with the `INFERENCE_FLAGS` that differ from their defaults
    (a SavedModel refuses them: it has its own, chosen at export), with TensorFlow's loading
    failures reported as ValueError."""
    import tensorflow as tf

    from gated_inpaint.inference.inpainter import Inpainter

    options = {
        flag.name: getattr(args, flag.name)
        for flag in INFERENCE_FLAGS
        if getattr(args, flag.name) != flag.default
    }
    try:
        return Inpainter.load(args.model, **options)
    except tf.errors.OpError as error:
        raise ValueError(f"cannot load the model {args.model}: {error.message}") from error
