"""What the file-processing commands (`gated-inpaint inpaint`, `evaluate`) share: loading the
model from their flags, listing and reading image files, progress lines, partial failures."""

from __future__ import annotations

import argparse
import dataclasses
import os
from typing import TextIO

import tensorflow as tf
from PIL import Image, ImageOps

from gated_inpaint import hd_strategy
from gated_inpaint.inpainter import Inpainter


class PartialFailure(Exception):
    """Some items of a folder run failed; the message is the summary."""


def load_inpainter(args: argparse.Namespace) -> Inpainter:
    """`Inpainter.load(args.model)` with the --hd_* and --precision flags that differ from
    their defaults (a SavedModel refuses them: it has its own, chosen at export), with
    TensorFlow's loading failures reported as ValueError."""
    defaults = {**dataclasses.asdict(hd_strategy.DEFAULT_HD), "precision": "float32"}
    options = {}
    for name in ("hd_strategy", "hd_max_size", "hd_margin", "precision"):
        if getattr(args, name) != defaults[name.removeprefix("hd_")]:
            options[name] = getattr(args, name)
    try:
        return Inpainter.load(args.model, **options)
    except tf.errors.OpError as error:
        raise ValueError(f"cannot load the model {args.model}: {error.message}") from error


def image_files(folder: str) -> list[str]:
    """Sorted names of the files in `folder` with an extension Pillow can read."""
    readable = {ext for ext, fmt in Image.registered_extensions().items() if fmt in Image.OPEN}
    return sorted(
        name
        for name in os.listdir(folder)
        if not name.startswith(".")
        and os.path.isfile(os.path.join(folder, name))
        and os.path.splitext(name)[1].lower() in readable
    )


def read_image(path: str, mode: str, what: str) -> Image.Image:
    """The image at `path` in PIL `mode`, upright by its EXIF orientation."""
    try:
        with Image.open(path) as image:
            return ImageOps.exif_transpose(image).convert(mode)
    except FileNotFoundError as error:
        raise FileNotFoundError(f"the {what} {path} does not exist") from error
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        raise ValueError(f"cannot read the {what} {path}: {error}") from error


class Progress:
    """`[i/n] name` on `stream`: rewritten in place on a terminal, a line each otherwise."""

    def __init__(self, total: int, stream: TextIO):
        self.total = total
        self.stream = stream
        self.done = 0
        self.tty = stream.isatty()
        self.width = 0

    def update(self, name: str) -> None:
        self.done += 1
        text = f"[{self.done}/{self.total}] {name}"
        if self.tty:
            self.stream.write("\r" + text.ljust(self.width))
            self.width = len(text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty and self.done:
            self.stream.write("\n")
            self.stream.flush()
