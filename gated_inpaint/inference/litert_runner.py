"""A runner (`runners.Runner`) for LiteRT `.tflite` exports, in `ai-edge-litert`'s interpreter,
and what a `.tflite` file says about itself (its operators and `device_contract` metadata).

Needs the `litert` extra: `pip install "gated_inpaint[litert]"`.
"""

from __future__ import annotations

import os

import numpy as np

from gated_inpaint.inference.device_contract import (
    METADATA_KEY,
    OUTPUT,
    SIGNATURE,
    DeviceInfo,
    single_inputs,
)

INSTALL_HINT = 'pip install "gated_inpaint[litert]"'
CUSTOM_OPERATOR = "CUSTOM"


def _schema():
    try:
        from ai_edge_litert import schema_py_generated
    except ImportError as error:
        raise ImportError(f"LiteRT files need ai-edge-litert: {INSTALL_HINT}") from error
    return schema_py_generated


def _model(content: bytes, path: str):
    schema = _schema()
    if not schema.Model.ModelBufferHasIdentifier(content, 0):
        raise ValueError(f"{path} is not a LiteRT (.tflite) model file.")
    return schema.Model.GetRootAs(content, 0)


def litert_operators(content: bytes, path: str = "the model") -> list[str]:
    """The distinct operators of a `.tflite` file's content, sorted: builtin names such as
    `CONV_2D`, and `CUSTOM:<code>` for custom or Flex (TensorFlow) operators."""
    schema = _schema()
    model = _model(content, path)
    names = {value: name for name, value in vars(schema.BuiltinOperator).items() if name.isupper()}
    operators = set()
    for i in range(model.OperatorCodesLength()):
        code = model.OperatorCodes(i)
        name = names[max(code.BuiltinCode(), code.DeprecatedBuiltinCode())]
        if name == CUSTOM_OPERATOR:
            name = f"{CUSTOM_OPERATOR}:{code.CustomCode().decode()}"
        operators.add(name)
    return sorted(operators)


def litert_metadata(content: bytes, path: str = "the model") -> dict[str, bytes]:
    """The metadata entries of a `.tflite` file's content, by name."""
    model = _model(content, path)
    entries = {}
    for i in range(model.MetadataLength()):
        entry = model.Metadata(i)
        entries[entry.Name().decode()] = model.Buffers(entry.Buffer()).DataAsNumpy().tobytes()
    return entries


class LiteRTRunner:
    """Runs a LiteRT export one image at a time in `ai_edge_litert.interpreter.Interpreter`:
    the inputs are resized (`resize_tensor_input`) whenever the image size changes.

    Args:
        path: a `.tflite` file written by `gated-inpaint export --format litert`.
        num_threads: CPU threads of the interpreter (default: all cores).

    Attributes:
        info: the file's `device_contract.DeviceInfo`.
        guided, description: as `runners.Runner`.

    Raises:
        FileNotFoundError: no file at `path`.
        ValueError: not a LiteRT export of this package.
        ImportError: ai-edge-litert is not installed.
    """

    def __init__(self, path: str, num_threads: int | None = None):
        self.path = os.fspath(path)
        with open(self.path, "rb") as f:
            content = f.read()
        metadata = litert_metadata(content, self.path)
        if METADATA_KEY not in metadata:
            raise ValueError(
                f"{self.path} is a LiteRT model but not one exported by gated-inpaint export "
                f"(no {METADATA_KEY!r} metadata)."
            )
        self.info = DeviceInfo.from_json(metadata[METADATA_KEY].decode(), self.path)
        from ai_edge_litert.interpreter import Interpreter

        self._interpreter = Interpreter(
            model_content=content, num_threads=num_threads or os.cpu_count()
        )
        signature = self._interpreter.get_signature_runner(SIGNATURE)
        self._inputs = {
            name: detail["index"] for name, detail in signature.get_input_details().items()
        }
        self._output = signature.get_output_details()[OUTPUT]["index"]
        self._size = None
        self.guided = self.info.guided
        self.description = f"LiteRT {self.path!r} ({self.info.quantize})"

    def __call__(
        self, images: np.ndarray, masks: np.ndarray, edges: np.ndarray | None
    ) -> np.ndarray:
        """uint8 `[B, H, W, 3]` from images uint8 `[B, H, W, 3]`, masks uint8 `[B, H, W, 1]`
        and, for guided models, edges like masks; one interpreter run per image."""
        outputs = []
        for arrays in single_inputs(self.info, images, masks, edges, f" ({self.path})"):
            if arrays["image"].shape != self._size:
                for name, index in self._inputs.items():
                    self._interpreter.resize_tensor_input(index, arrays[name].shape, strict=True)
                self._interpreter.allocate_tensors()
                self._size = arrays["image"].shape
            for name, index in self._inputs.items():
                self._interpreter.set_tensor(index, arrays[name])
            self._interpreter.invoke()
            outputs.append(self._interpreter.get_tensor(self._output))
        return np.concatenate(outputs)
