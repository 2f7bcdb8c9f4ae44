"""A runner (`runners.Runner`) for ONNX `.onnx` exports, in onnxruntime.

Needs the `onnx` extra: `pip install "gated_inpaint[onnx]"`.
"""

from __future__ import annotations

import os

import numpy as np

from gated_inpaint.inference.device_contract import (
    METADATA_KEY,
    OUTPUT,
    DeviceInfo,
    single_inputs,
)

INSTALL_HINT = 'pip install "gated_inpaint[onnx]"'


class OnnxRunner:
    """Runs an ONNX export one image at a time in an `onnxruntime.InferenceSession` (CPU).

    Args:
        path: a `.onnx` file written by `gated-inpaint export --format onnx`.
        num_threads: intra-op threads (default: all cores).

    Attributes:
        info: the file's `device_contract.DeviceInfo`.
        guided, description: as `runners.Runner`.

    Raises:
        FileNotFoundError: no file at `path`.
        ValueError: not an ONNX export of this package.
        ImportError: onnxruntime is not installed.
    """

    def __init__(self, path: str, num_threads: int | None = None):
        try:
            import onnxruntime
        except ImportError as error:
            raise ImportError(f"ONNX files need onnxruntime: {INSTALL_HINT}") from error
        self.path = os.fspath(path)
        if not os.path.isfile(self.path):
            raise FileNotFoundError(f"No model at {self.path}: the file does not exist.")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = num_threads or os.cpu_count()
        try:
            self._session = onnxruntime.InferenceSession(
                self.path, options, providers=["CPUExecutionProvider"]
            )
        except Exception as error:  # onnxruntime raises its own exception types
            raise ValueError(f"Cannot load the ONNX model {self.path}: {error}") from error
        metadata = self._session.get_modelmeta().custom_metadata_map
        if METADATA_KEY not in metadata:
            raise ValueError(
                f"{self.path} is an ONNX model but not one exported by gated-inpaint export "
                f"(no {METADATA_KEY!r} metadata)."
            )
        self.info = DeviceInfo.from_json(metadata[METADATA_KEY], self.path)
        self.guided = self.info.guided
        self.description = f"ONNX {self.path!r} ({self.info.quantize})"

    def __call__(
        self, images: np.ndarray, masks: np.ndarray, edges: np.ndarray | None
    ) -> np.ndarray:
        """uint8 `[B, H, W, 3]` from images uint8 `[B, H, W, 3]`, masks uint8 `[B, H, W, 1]`
        and, for guided models, edges like masks; one session run per image."""
        outputs = [
            self._session.run([OUTPUT], feeds)[0]
            for feeds in single_inputs(self.info, images, masks, edges, f" ({self.path})")
        ]
        return np.concatenate(outputs)
