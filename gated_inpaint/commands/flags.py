"""Command-line flags defined once, as data, for both parsers the project uses: argparse (the
`gated-inpaint` subcommands) and absl (the root scripts `train.py` and `export.py`, which take
`--flagfile`, `--helpfull` and `--noFLAG`)."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from absl import app
from absl import flags as absl_flags


@dataclasses.dataclass(frozen=True)
class Flag:
    """One flag: `--name`, of `kind` (str, int, float or bool), with its default and help.

    `choices` makes it an enum; `exclusive_group` names a set of flags of which exactly one
    must be given (`required` is then ignored).
    """

    name: str
    help: str
    kind: type = str
    default: Any = None
    choices: Sequence[str] | None = None
    required: bool = False
    metavar: str | None = None
    exclusive_group: str | None = None


def add_to_parser(parser: argparse.ArgumentParser, flags: Iterable[Flag]) -> None:
    """Adds `flags` to an argparse parser (a bool flag is a switch that sets True)."""
    groups = {}  # exclusive_group -> argparse group
    for flag in flags:
        target = parser
        if flag.exclusive_group is not None:
            if flag.exclusive_group not in groups:
                groups[flag.exclusive_group] = parser.add_mutually_exclusive_group(required=True)
            target = groups[flag.exclusive_group]
        options: dict[str, Any] = {"help": flag.help, "default": flag.default}
        if flag.kind is bool:
            options["action"] = "store_true"
        else:
            options.update(type=flag.kind, metavar=flag.metavar)
            if flag.choices is not None:
                options.update(choices=list(flag.choices), metavar=None)
        if flag.required and flag.exclusive_group is None:
            options["required"] = True
        target.add_argument(f"--{flag.name}", **options)


def define_absl_flags(
    flags: Iterable[Flag], flag_values: absl_flags.FlagValues = absl_flags.FLAGS
) -> None:
    """Defines `flags` as absl flags in `flag_values`, with their requirements."""
    flags = list(flags)
    definers = {str: absl_flags.DEFINE_string, int: absl_flags.DEFINE_integer}
    definers.update({float: absl_flags.DEFINE_float, bool: absl_flags.DEFINE_bool})
    for flag in flags:
        if flag.choices is not None:
            absl_flags.DEFINE_enum(
                flag.name, flag.default, list(flag.choices), flag.help, flag_values=flag_values
            )
        else:
            definers[flag.kind](flag.name, flag.default, flag.help, flag_values=flag_values)
        if flag.required and flag.exclusive_group is None:
            absl_flags.mark_flag_as_required(flag.name, flag_values=flag_values)
    groups: dict[str, list[str]] = {}
    for flag in flags:
        if flag.exclusive_group is not None:
            groups.setdefault(flag.exclusive_group, []).append(flag.name)
    for names in groups.values():
        absl_flags.mark_flags_as_mutual_exclusive(names, required=True, flag_values=flag_values)


def absl_namespace(
    flags: Iterable[Flag], flag_values: absl_flags.FlagValues = absl_flags.FLAGS
) -> argparse.Namespace:
    """The parsed values of `flags` as the Namespace argparse would give."""
    return argparse.Namespace(**{flag.name: flag_values[flag.name].value for flag in flags})


def _exiting_zero(help_flag: type[absl_flags.BooleanFlag]) -> type[absl_flags.BooleanFlag]:
    """`help_flag` (one of absl's help flags, which exit 1 once the help is printed), exiting 0."""

    class ExitingZero(help_flag):
        def __init__(self) -> None:
            super().__init__()
            self.allow_override = True  # replaces absl's own flag of the same name

        def parse(self, argument: str) -> None:
            try:
                super().parse(argument)
            except SystemExit:  # raised only after printing the help
                sys.exit(0)

    return ExitingZero


def define_help_flags_exiting_zero(flag_values: absl_flags.FlagValues = absl_flags.FLAGS) -> None:
    """Makes `--help` (`-?`, `--helpshort`) and `--helpfull` exit with status 0, not absl's 1:
    asking for help is not an error. Call before `app.run`."""
    app.define_help_flags()
    for help_flag in (app.HelpFlag, app.HelpshortFlag, app.HelpfullFlag):
        absl_flags.DEFINE_flag(_exiting_zero(help_flag)(), flag_values=flag_values)
