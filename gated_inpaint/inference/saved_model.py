"""The exported SavedModel's contract (its signature names) and a runner (`runners.Runner`) for
its `inpaint_tensors` signature, so `Inpainter` can use an export like a Keras generator."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from gated_inpaint.inference.options import TENSOR_SIGNATURE
from gated_inpaint.weights.model_path import saved_model_version_dir


class SavedModelRunner:
    """Calls the `inpaint_tensors` signature of an exported SavedModel on numpy batches.

    Args:
        path: a version directory (holding `saved_model.pb`) or a base directory of numeric
            version directories, of which the largest number is used.

    Attributes:
        directory: the version directory loaded.
        guided: whether the signature takes an `edge` input.
        description: what it runs, for `repr`.

    Raises:
        FileNotFoundError: no SavedModel at `path`.
        ValueError: it cannot be loaded, or lacks the signature or its inputs.
    """

    def __init__(self, path: str):
        self.directory = saved_model_version_dir(path)
        try:
            self._loaded = tf.saved_model.load(self.directory)
        except (OSError, ValueError, tf.errors.OpError) as error:
            raise ValueError(f"Cannot load the SavedModel in {self.directory}: {error}") from error
        if TENSOR_SIGNATURE not in self._loaded.signatures:
            raise ValueError(
                f"The SavedModel in {self.directory} has no {TENSOR_SIGNATURE!r} signature "
                f"(it has {sorted(self._loaded.signatures) or 'none'})."
            )
        self._signature = self._loaded.signatures[TENSOR_SIGNATURE]
        inputs = set(self._signature.structured_input_signature[1])
        if not {"image", "mask"} <= inputs:
            raise ValueError(
                f"The {TENSOR_SIGNATURE!r} signature of {self.directory} takes "
                f"{sorted(inputs)}, expected 'image', 'mask' and, for guided models, 'edge'."
            )
        self.guided = "edge" in inputs
        self.description = f"SavedModel {self.directory!r}"

    def __call__(
        self, images: np.ndarray, masks: np.ndarray, edges: np.ndarray | None
    ) -> np.ndarray:
        """uint8 `[B, H, W, 3]` from images uint8 `[B, H, W, 3]`, masks uint8 `[B, H, W, 1]`
        in {0, 1} and, for guided models, edges like masks."""
        inputs = {"image": tf.constant(images), "mask": tf.constant(masks)}
        if self.guided:
            inputs["edge"] = tf.constant(edges)
        return self._signature(**inputs)["output"].numpy()
