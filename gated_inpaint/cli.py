"""The `gated-inpaint` command."""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow is imported

from gated_inpaint import convert  # noqa: E402


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gated-inpaint",
        description="DeepFill v2 free-form image inpainting (gated convolution + SN-PatchGAN).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    convert_parser = commands.add_parser(
        "convert",
        help="convert an official TF1 checkpoint into a Keras generator weights file",
        description="Convert an official DeepFill v2 TF1 checkpoint (Places2, CelebA-HQ) into a "
        "Keras generator weights file; cnum and guided mode are read from the checkpoint.",
    )
    convert.add_convert_arguments(convert_parser)
    convert_parser.set_defaults(run=convert.run_convert)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        message = args.run(args)
    except (OSError, ValueError) as error:
        print(f"gated-inpaint {args.command}: error: {error}", file=sys.stderr)
        return 1
    print(message)
    return 0


if __name__ == "__main__":
    sys.exit(main())
