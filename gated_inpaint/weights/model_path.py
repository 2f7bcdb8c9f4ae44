"""What a model path holds: an exported SavedModel, a Keras `*.weights.h5` file, an official
TF1 checkpoint (told apart from a training run's TF2 checkpoint), or a device export (a LiteRT
`.tflite` or an ONNX `.onnx` file)."""

from __future__ import annotations

import os
import re

import tensorflow as tf

from gated_inpaint.models.generator import FIRST_CONV
from gated_inpaint.weights.official import GENERATOR_SCOPE, resolve_checkpoint

MODEL_KINDS = ("saved_model", "weights", "checkpoint", "litert", "onnx")
DEVICE_EXTENSIONS = {".tflite": "litert", ".onnx": "onnx"}  # device exports, by file extension
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
TF2_CHECKPOINT_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH"
CHECKPOINT_FILE = re.compile(r"\.(index|data-\d+-of-\d+)$")  # a checkpoint's files: prefix + this


def saved_model_version_dir(path: str) -> str:
    """`path` if it holds `saved_model.pb`, else its numeric subdirectory with the largest
    number that holds one.

    Raises:
        FileNotFoundError: neither holds a SavedModel.
    """
    if os.path.isfile(os.path.join(path, "saved_model.pb")):
        return path
    versions = []
    if os.path.isdir(path):
        versions = [
            name
            for name in os.listdir(path)
            if name.isdigit() and os.path.isfile(os.path.join(path, name, "saved_model.pb"))
        ]
    if not versions:
        raise FileNotFoundError(
            f"No SavedModel in {path}: expected saved_model.pb in it or in a numeric version "
            f"subdirectory."
        )
    return os.path.join(path, max(versions, key=int))


def is_hdf5(path: str) -> bool:
    """Whether the file at `path` starts with the HDF5 signature."""
    with open(path, "rb") as f:
        return f.read(len(HDF5_MAGIC)) == HDF5_MAGIC


def model_kind(path: str) -> tuple[str, str]:
    """`(kind, path to load)`, `kind` one of `MODEL_KINDS`, by what `path` holds: a SavedModel
    (`saved_model.pb`, or numeric version directories holding one), a `*.weights.h5` file (or
    a directory with exactly one), an official TF1 checkpoint (directory, prefix or one of
    its files), or a `.tflite` or `.onnx` file.

    Raises:
        FileNotFoundError: nothing exists at `path`.
        ValueError: `path` holds none of them; the message says what was found.
    """
    if os.path.isfile(path):
        extension = os.path.splitext(path)[1].lower()
        if extension in DEVICE_EXTENSIONS:
            return DEVICE_EXTENSIONS[extension], path
        if not CHECKPOINT_FILE.search(path) and (path.endswith(".h5") or is_hdf5(path)):
            return "weights", path
        path = CHECKPOINT_FILE.sub("", path)
    if os.path.exists(path + ".index"):
        return _checkpoint_kind(path), path
    if not os.path.isdir(path):
        if os.path.exists(path):
            raise ValueError(
                f"{path} is not a model: expected a SavedModel directory, a *.weights.h5 file, "
                f"a TF1 checkpoint, or a .tflite or .onnx file."
            )
        raise FileNotFoundError(f"No model at {path}: the path does not exist.")
    try:
        return "saved_model", saved_model_version_dir(path)
    except FileNotFoundError:
        pass
    weights = sorted(name for name in os.listdir(path) if name.endswith(".weights.h5"))
    if len(weights) == 1:
        return "weights", os.path.join(path, weights[0])
    try:
        return _checkpoint_kind(path), path
    except FileNotFoundError:
        pass
    found = f"several weights files ({', '.join(weights)})" if weights else "none of them"
    raise ValueError(
        f"{path} holds no model Inpainter can load: expected saved_model.pb (or numeric version "
        f"directories holding one), one *.weights.h5 file, or a TF1 checkpoint "
        f"('checkpoint' state file or one '<prefix>.index'); found {found}."
    )


def _checkpoint_kind(path: str) -> str:
    """Returns "checkpoint" for an official TF1 checkpoint; raises for a training checkpoint."""
    reader = tf.train.load_checkpoint(resolve_checkpoint(path))
    if not reader.has_tensor(f"{GENERATOR_SCOPE}/{FIRST_CONV}/kernel") and (
        reader.has_tensor(TF2_CHECKPOINT_KEY)
    ):
        raise ValueError(
            f"{path} is a TF2 training checkpoint (as train.py writes), not an official TF1 "
            f"checkpoint: export it to a SavedModel with export.py and load that."
        )
    return "checkpoint"
