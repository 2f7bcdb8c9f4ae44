"""The `gated-inpaint` command (also `python -m gated_inpaint`): one subcommand per module."""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Callable

from gated_inpaint.commands import convert, evaluate, export, inpaint, masks, serve
from gated_inpaint.commands.files import Interrupted, PartialFailure
from gated_inpaint.commands.flags import add_to_parser
from gated_inpaint.commands.startup import VERBOSE_FLAG, start_tensorflow
from gated_inpaint.inference.input_rules import MaskWarning

COMMANDS = (convert, inpaint, export, masks, evaluate, serve)


def build_parser() -> argparse.ArgumentParser:
    """The parser of `gated-inpaint`, with a subparser per module of `COMMANDS`."""
    parser = argparse.ArgumentParser(
        prog="gated-inpaint",
        description="DeepFill v2 free-form image inpainting (gated convolution + SN-PatchGAN).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        subparser = commands.add_parser(
            command.NAME,
            help=command.HELP,
            description=command.DESCRIPTION,
            formatter_class=argparse.RawDescriptionHelpFormatter,  # descriptions are laid out
        )
        command.add_arguments(subparser)
        add_to_parser(subparser, [VERBOSE_FLAG])
        subparser.set_defaults(run=command.run)
    return parser


INTERRUPTED_STATUS = 130  # 128 + SIGINT, as shells report Ctrl-C


def run_command(name: str, run: Callable[[argparse.Namespace], str], args) -> int:
    """Runs one command: prints its summary and returns 0, or prints its error on stderr as
    one line (`gated-inpaint NAME: error: ...`) and returns 1; Ctrl-C returns 130 after a
    summary of what was done. Warnings (e.g. a mask with no hole) are one line on stderr.
    TensorFlow starts first, quietly unless `args.verbose` (`startup.start_tensorflow`)."""

    def show_warning(message, category, filename, lineno, file=None, line=None):
        print(f"gated-inpaint {name}: warning: {message}", file=sys.stderr, flush=True)

    start_tensorflow(args.verbose)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always", MaskWarning)  # one line per image, not per place
            warnings.showwarning = show_warning
            message = run(args)
    except (OSError, ValueError, PartialFailure) as error:
        print(f"gated-inpaint {name}: error: {error}", file=sys.stderr)
        return 1
    except (Interrupted, KeyboardInterrupt) as stop:
        print(f"gated-inpaint {name}: {stop or 'interrupted'}", file=sys.stderr)
        return INTERRUPTED_STATUS
    print(message)
    return 0


def main(argv: list[str] | None = None) -> int:
    """`gated-inpaint [COMMAND] ...`; returns the exit status."""
    args = build_parser().parse_args(argv)
    return run_command(args.command, args.run, args)


if __name__ == "__main__":
    sys.exit(main())
