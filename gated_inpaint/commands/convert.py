"""`gated-inpaint convert`: an official TF1 checkpoint into a Keras generator weights file."""

from __future__ import annotations

import argparse
import os

from gated_inpaint.weights.options import CHANNEL_ORDERS

NAME = "convert"
HELP = "convert an official TF1 checkpoint into a Keras generator weights file"
DESCRIPTION = """\
Convert an official DeepFill v2 TF1 checkpoint (Places2, CelebA-HQ) into a
Keras generator weights file; cnum and guided mode are read from the
checkpoint.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the arguments of `gated-inpaint convert`."""
    parser.add_argument(
        "--checkpoint_dir", required=True, help="official TF1 checkpoint directory or prefix"
    )
    parser.add_argument(
        "--output", required=True, help="generator weights file to write; must end in .weights.h5"
    )
    parser.add_argument(
        "--channel_order",
        choices=CHANNEL_ORDERS,
        default="rgb",
        help="colour order the converted generator takes and gives (default rgb)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output")


def run(args: argparse.Namespace) -> str:
    """Converts the generator of `args.checkpoint_dir` into `args.output`; returns a summary."""
    from gated_inpaint.weights.official import (
        generator_from_official_checkpoint,
        resolve_checkpoint,
    )

    if not args.output.endswith(".weights.h5"):
        raise ValueError(
            f"--output must end in .weights.h5 (Keras weights file), got {args.output}"
        )
    resolve_checkpoint(args.checkpoint_dir)
    if os.path.exists(args.output) and not args.overwrite:
        raise FileExistsError(f"{args.output} exists; pass --overwrite to replace it.")
    generator = generator_from_official_checkpoint(args.checkpoint_dir, args.channel_order)
    generator.save_weights(args.output)
    return (
        f"Converted {len(generator.weights)} tensors (cnum={generator.cnum}, "
        f"guided={generator.guided}, {args.channel_order.upper()}) from {args.checkpoint_dir} "
        f"into {args.output}"
    )
