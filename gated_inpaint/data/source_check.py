"""Checking a training image source before a run starts: it exists, it holds images and they
are not all broken. The pipeline skips single bad files as it goes; this check catches a source
that can never give a batch, in one paragraph and before a run writes anything."""

from __future__ import annotations

import os

import tensorflow as tf

from gated_inpaint.data.decoding import decode_rgb, pil_error
from gated_inpaint.data.image_files import list_images
from gated_inpaint.data.tfds_source import TFDS_PREFIX, tfds_builder

DECODE_PROBE = 16  # images decoded up front, in order, until one works
REASONS_SHOWN = 3


def _decodes(path: str) -> bool:
    """Whether the pipeline's decoder (TensorFlow, PIL for WebP) reads the file at `path`."""
    try:
        decode_rgb(tf.io.read_file(path))
    except (tf.errors.OpError, OSError):
        return False
    return True


def check_image_source(
    source: str, flag: str = "--data", data_dir: str | None = None, tfds_download: bool = False
) -> None:
    """Raises unless `source` (a folder, a `.flist` file or `tfds:NAME[:SPLIT]`) can feed
    training: the path or dataset exists, holds images, and one of its first `DECODE_PROBE`
    images decodes. A TFDS dataset is checked without downloading or reading it.

    Raises:
        FileNotFoundError: the path, the files a list names, or the TFDS dataset are missing.
        ValueError: no images, or none of the probed ones decodes.
        Both messages are one paragraph that starts with `flag=source` and says what to do.
    """
    named = f"{flag}={source}"
    try:
        if source.startswith(TFDS_PREFIX):
            tfds_builder(source, data_dir, tfds_download)
            return
        files = list_images(source)
    except (FileNotFoundError, ValueError) as error:
        advice = "Pass a folder of images, a .flist file or tfds:NAME[:SPLIT]."
        raise type(error)(f"{named}: {error} {advice}") from error
    probe = files[:DECODE_PROBE]
    reasons = []
    for path in probe:
        if _decodes(path):
            return
        why = pil_error(path) or "PIL can decode it, TensorFlow cannot"
        reasons.append(f"{os.path.basename(path)}: {why}")
    which = (
        f"its {len(files)}"
        if len(probe) == len(files)
        else f"the first {len(probe)} of its {len(files)}"
    )
    more = len(reasons) - REASONS_SHOWN
    shown = "; ".join(reasons[:REASONS_SHOWN]) + (f"; and {more} more" if more > 0 else "")
    raise ValueError(
        f"{named}: none of {which} images can be decoded ({shown}). Replace or remove the "
        f"broken files, or point {flag} at other images."
    )
