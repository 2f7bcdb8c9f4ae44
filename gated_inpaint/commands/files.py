"""What the file-processing commands (`gated-inpaint inpaint`, `evaluate`) share: listing image
files, pairing images with masks by file stem, output paths, progress lines, and running a
folder item by item with a summary of the failures."""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Callable, Sequence
from typing import TextIO, TypeVar

import numpy as np
from PIL import Image

MASK_SUFFIX = "_mask"
Item = TypeVar("Item")


class PartialFailure(Exception):
    """Some items of a folder run failed; the message is the summary."""


class Interrupted(Exception):
    """The user stopped a run (Ctrl-C); the message is the summary of what was done."""


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


@dataclasses.dataclass
class ImageMasks:
    """An image file of a folder and the files of the mask folder named as its mask."""

    image: str  # file name in the image folder
    masks: list[str]  # file names in the mask folder: STEM.* or STEM_mask.*


def masks_by_stem(image_dir: str, mask_dir: str) -> list[ImageMasks]:
    """Every image of `image_dir` with its candidate masks in `mask_dir`: the files named
    `STEM.*` or `STEM_mask.*` (any image extension). When both are the same folder, only
    `STEM_mask.*` counts and the `*_mask.*` files are not images."""
    same_folder = same_file_key(image_dir) == same_file_key(mask_dir)
    names = image_files(image_dir)
    mask_names = names if same_folder else image_files(mask_dir)
    if same_folder:
        names = [n for n in names if not os.path.splitext(n)[0].endswith(MASK_SUFFIX)]
    by_stem: dict[str, list[str]] = {}
    for name in mask_names:
        by_stem.setdefault(os.path.splitext(name)[0], []).append(name)
    pairs = []
    for name in names:
        stem = os.path.splitext(name)[0]
        candidates = by_stem.get(stem + MASK_SUFFIX, [])
        if not same_folder:
            candidates = by_stem.get(stem, []) + candidates
        pairs.append(ImageMasks(name, candidates))
    return pairs


def mask_names_for(stem: str, same_folder: bool) -> str:
    """The names `masks_by_stem` looks for, for the help text and error messages."""
    if same_folder:
        return f"{stem}{MASK_SUFFIX}.*"
    return f"{stem}.* or {stem}{MASK_SUFFIX}.*"


def same_file_key(path: str) -> str:
    """A key under which two names of the same file compare equal."""
    return os.path.normcase(os.path.realpath(path))


def output_problem(output: str, inputs: set[str], overwrite: bool) -> str | None:
    """Why `output` must not be written (it is one of the `same_file_key`s in `inputs`, or
    exists without `overwrite`), or None."""
    if same_file_key(output) in inputs:
        return f"the output {output} is an input file; choose another output"
    if os.path.exists(output) and not overwrite:
        return f"{output} exists; pass --overwrite to replace it"
    return None


def make_dirs(folder: str) -> None:
    """Creates `folder` and its parents if needed, with an error naming it."""
    if not folder:
        return
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as error:
        raise OSError(f"cannot create the output folder {folder}: {error.strerror}") from error


# Pillow's save options per format: lossy formats at high quality without chroma subsampling,
# WebP losslessly (so known pixels stay exact).
SAVE_OPTIONS = {"JPEG": {"quality": 95, "subsampling": 0}, "WEBP": {"lossless": True}}
LOSSY_FORMATS = ("JPEG", "MPO")


def extension_format(extension: str, where: str) -> str:
    """Pillow's format name for a file extension such as ".png" ("PNG"); ValueError, naming
    `where` (the flag or file it came from), if Pillow cannot write it."""
    name = Image.registered_extensions().get(extension.lower())
    if name not in Image.SAVE:
        raise ValueError(
            f"cannot write {extension or 'extension-less'} images ({where}); use e.g. .png or .jpg"
        )
    return name


def image_format(path: str) -> str:
    """Pillow's format name for the extension of `path` (ValueError if it cannot write it)."""
    return extension_format(os.path.splitext(path)[1], path)


def print_note(message: str) -> None:
    """`note: message` on stderr: something the user should know, not an error."""
    print(f"note: {message}", file=sys.stderr, flush=True)


def lossy_note(path: str) -> str | None:
    """What to tell the user once when outputs like `path` do not keep the known pixels."""
    name = image_format(path)
    if name not in LOSSY_FORMATS:
        return None
    return (
        f"{name} is lossy: the known pixels are re-encoded too (quality 95, no chroma "
        f"subsampling); write .png or .webp (lossless here) to keep them exact"
    )


def write_image(result: np.ndarray, output: str) -> None:
    """Saves a uint8 `[H, W, 3]` array in the format of the extension, atomically: into a
    temporary file beside `output`, renamed over it once complete, so an interrupted write
    never leaves a truncated image under the final name."""
    name = image_format(output)
    folder, base = os.path.split(output)
    temporary = os.path.join(folder, f".{base}.{os.getpid()}.tmp")
    try:
        Image.fromarray(result).save(temporary, format=name, **SAVE_OPTIONS.get(name, {}))
        os.replace(temporary, output)
    except (OSError, ValueError) as error:
        raise OSError(f"cannot write {output}: {error}") from error
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def tensorflow_errors() -> tuple[type[Exception], ...]:
    """`(tf.errors.OpError,)` once TensorFlow is imported, else `()` (nothing can raise it
    before; the commands import TensorFlow only when they need it)."""
    tf = sys.modules.get("tensorflow")
    return () if tf is None else (tf.errors.OpError,)


def failure_reason(error: Exception) -> str:
    """What went wrong, in one line: TensorFlow's message without its traceback."""
    return error.message if isinstance(error, tensorflow_errors()) else str(error)


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

    def warn(self, message: str) -> None:
        """`warning: message` on its own line (after the progress line on a terminal)."""
        newline = "\n" if self.tty and self.done else ""
        self.stream.write(f"{newline}warning: {message}\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty and self.done:
            self.stream.write("\n")
            self.stream.flush()


def run_each(
    items: Sequence[Item],
    name: Callable[[Item], str],
    work: Callable[[Item], None],
    warn: bool = False,
) -> list[str]:
    """Calls `work(item)` for every item with a progress line on stderr; an item whose work
    raises OSError, ValueError or a TensorFlow error does not stop the others. Returns the
    failures as `"name: reason"` lines, each also printed as a warning if `warn`.

    Raises:
        Interrupted: on Ctrl-C, with a summary of the items done, failed and not started.
    """
    failures = []
    progress = Progress(len(items), sys.stderr)
    done = 0
    try:
        for item in items:
            progress.update(name(item))
            try:
                work(item)
            except (OSError, ValueError, *tensorflow_errors()) as error:
                failures.append(f"{name(item)}: {failure_reason(error)}")
                if warn:
                    progress.warn(f"skipped {failures[-1]}")
            done += 1
    except KeyboardInterrupt:
        progress.close()
        succeeded = done - len(failures)
        raise Interrupted(
            f"interrupted after {succeeded} of {len(items)} images ({len(failures)} failed, "
            f"{len(items) - done} not done)" + "".join(f"\n  {failure}" for failure in failures)
        ) from None
    progress.close()
    return failures


def failure_summary(failures: list[str], total: int, outcome: str) -> PartialFailure:
    """`N of TOTAL images failed (outcome):` and a line per failure."""
    return PartialFailure(
        f"{len(failures)} of {total} images failed ({outcome}):\n  " + "\n  ".join(failures)
    )
