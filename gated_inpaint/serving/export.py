"""Atomic, versioned export of a generator's SavedModel in TF Serving's layout:
`EXPORT_DIR/<version>/` with `saved_model.pb`, `variables/` and the warm-up requests."""

from __future__ import annotations

import os
import shutil

import tensorflow as tf

from gated_inpaint.inference import precision
from gated_inpaint.inference.options import DEFAULT_HD, HDStrategy
from gated_inpaint.models import InpaintGenerator
from gated_inpaint.serving.module import InpaintServingModule
from gated_inpaint.serving.options import DEFAULT_MAX_PIXELS
from gated_inpaint.serving.staging import (
    OLD_PREFIX,
    remove_stale,
    sigterm_as_exit,
    temporary_path,
)
from gated_inpaint.serving.warmup import WARMUP_FILE, warmup_requests


def next_version(export_dir: str) -> int:
    """1 + the largest numeric subdirectory of `export_dir` (1 if there is none)."""
    if not os.path.isdir(export_dir):
        return 1
    versions = [
        int(name)
        for name in os.listdir(export_dir)
        if name.isdigit() and os.path.isdir(os.path.join(export_dir, name))
    ]
    return max(versions, default=0) + 1


def export_saved_model(
    generator: InpaintGenerator,
    export_dir: str,
    version: int | None = None,
    overwrite: bool = False,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    hd: HDStrategy = DEFAULT_HD,
    compute_precision: str = "float32",
    jit_compile: bool = False,
) -> str:
    """Writes the SavedModel of `generator` into `export_dir/<version>/`, atomically.

    The model is written into the sibling `export_dir/.tmp-<version>-<pid>` (TF Serving
    only looks at numeric names) and renamed into place, so a server polling
    `export_dir` never sees a half-written version. The temporary directory is removed
    on failure and on SIGTERM; those of killed exports are removed by the next export.

    Args:
        generator: a built `InpaintGenerator` taking RGB.
        export_dir: the model's base directory (TF Serving's `--model_base_path`).
        version: the version number; default `next_version(export_dir)`.
        overwrite: replace an existing version (the old one is renamed aside, the new
            one renamed in, then the old one deleted).
        max_pixels, hd, jit_compile: see `InpaintServingModule`.
        compute_precision: `"float32"`, `"bfloat16"` or `"float16"` (`precision.PRECISIONS`):
            the precision the exported graph computes in; the weights are saved as float32.

    Returns:
        The version directory written.

    Raises:
        FileExistsError: the version exists and `overwrite` is false.
    """
    if version is not None and version < 0:
        raise ValueError(f"--version must be a non-negative integer, got {version}.")
    os.makedirs(export_dir, exist_ok=True)
    remove_stale(export_dir)
    version = next_version(export_dir) if version is None else version
    final = os.path.join(export_dir, str(version))
    if os.path.exists(final) and not overwrite:
        raise FileExistsError(
            f"{final} exists; pass --overwrite to replace it, or omit --version to write "
            f"version {next_version(export_dir)}."
        )
    generator = precision.with_precision(generator, compute_precision)
    module = InpaintServingModule(generator, max_pixels, hd, jit_compile)
    temp = temporary_path(final)
    old = temporary_path(final, OLD_PREFIX)
    with sigterm_as_exit():
        _write(module, temp, final, old if overwrite else None)
    return final


def _write(module: InpaintServingModule, temp: str, final: str, old: str | None) -> None:
    """The SavedModel and its warm-up records into `temp`, then moved to `final`; `temp` is
    removed if anything fails."""
    try:
        tf.saved_model.save(module, temp, signatures=module.signatures())
        os.makedirs(os.path.dirname(os.path.join(temp, WARMUP_FILE)))
        with tf.io.TFRecordWriter(os.path.join(temp, WARMUP_FILE)) as writer:
            for record in warmup_requests(module.guided):
                writer.write(record)
        _move_into_place(temp, final, old)
    finally:
        if os.path.exists(temp):
            shutil.rmtree(temp)


def _move_into_place(temp: str, final: str, old: str | None) -> None:
    """Renames `temp` to `final`; an existing `final` is first renamed to `old` if given."""
    if old is not None and os.path.exists(final):
        os.rename(final, old)
        try:
            os.rename(temp, final)
        except OSError:
            os.rename(old, final)
            raise
        shutil.rmtree(old)
        return
    try:
        os.rename(temp, final)
    except OSError as error:
        raise FileExistsError(
            f"{final} appeared while exporting; nothing was overwritten ({error})."
        ) from error
