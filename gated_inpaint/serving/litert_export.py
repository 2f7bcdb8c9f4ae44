"""LiteRT (TensorFlow Lite) export: one `.tflite` file with the device contract
(`gated_inpaint.inference.device_contract`), built-in operators only, dynamic height and width.

Converted with TensorFlow's `tf.lite.TFLiteConverter` (ai-edge-litert ships the runtime, not a
converter for TensorFlow graphs). `quantize`: `none` (float32), `float16` (weights stored in
float16, half the file) or `int8` (dynamic-range: int8 weights, a quarter of the file; the
convolutions and matmuls quantize their activations on the fly).
"""

from __future__ import annotations

import flatbuffers
import numpy as np
import tensorflow as tf

from gated_inpaint.inference.device_contract import METADATA_KEY, QUANTIZATIONS
from gated_inpaint.inference.litert_runner import CUSTOM_OPERATOR, litert_operators
from gated_inpaint.models import InpaintGenerator
from gated_inpaint.serving.device_graph import (
    DeviceModule,
    check_writable,
    device_file_path,
    write_file,
)
from gated_inpaint.serving.options import LITERT_MAX_PIXELS

EXTENSION = "tflite"
FILE_IDENTIFIER = b"TFL3"
# The attention computes all its scores at once: in a loop (`chunk_elements`), LiteRT ran the
# blocks outside its XNNPACK delegate, 1.5-2x slower at 512x512 (memory: `options`).
LITERT_CHUNK_ELEMENTS = None


def convert_litert(module: DeviceModule, quantize: str = "none") -> bytes:
    """The `.tflite` content of `module.inpaint` with builtin operators only (no metadata).

    Raises:
        ValueError: unknown `quantize`, or the conversion needs non-builtin operators.
    """
    if quantize not in QUANTIZATIONS:
        raise ValueError(f"Unknown quantize {quantize!r}: expected one of {QUANTIZATIONS}.")
    function = module.inpaint.get_concrete_function()
    # With the module as trackable object the converter saves it first, which names the
    # signature (serving_default) and its inputs.
    converter = tf.lite.TFLiteConverter.from_concrete_functions([function], module)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if quantize != "none":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantize == "float16":
        converter.target_spec.supported_types = [tf.float16]
    try:
        content = converter.convert()
    except Exception as error:  # the converter raises ConverterError with MLIR diagnostics
        raise ValueError(f"LiteRT conversion failed: {str(error)[:2000]}") from error
    extra = [op for op in litert_operators(content) if op.startswith(CUSTOM_OPERATOR)]
    if extra:
        raise ValueError(f"The LiteRT model needs non-builtin operators: {', '.join(extra)}.")
    return content


def with_metadata(content: bytes, name: str, value: bytes) -> bytes:
    """`.tflite` content with a metadata entry `name` holding `value` (replaced if present)."""
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(bytearray(content), 0)
    model.buffers = model.buffers or []
    model.metadata = [entry for entry in model.metadata or [] if entry.name != name.encode()]
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(value, np.uint8)
    model.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name, entry.buffer = name, len(model.buffers) - 1
    model.metadata.append(entry)
    builder = flatbuffers.Builder(len(content) + len(value) + 1024)
    builder.Finish(model.Pack(builder), file_identifier=FILE_IDENTIFIER)
    return bytes(builder.Output())


def export_litert(
    generator: InpaintGenerator,
    export_dir: str,
    quantize: str = "none",
    max_pixels: int = LITERT_MAX_PIXELS,
    overwrite: bool = False,
    chunk_elements: int | None = LITERT_CHUNK_ELEMENTS,
) -> str:
    """Writes `EXPORT_DIR/gated_inpaint[_float16|_int8].tflite` (atomically); returns its path.

    Args:
        generator: a built `InpaintGenerator` taking RGB.
        export_dir: the folder of the file.
        quantize: `"none"`, `"float16"` or `"int8"`.
        max_pixels: the largest image (height * width) the file's runners accept.
        overwrite: replace an existing file.
        chunk_elements: score values the attention holds at once, None for all.

    Raises:
        FileExistsError: the file exists and `overwrite` is false.
        ValueError: bad arguments, or the conversion failed.
    """
    path = device_file_path(export_dir, EXTENSION, quantize)
    check_writable(path, overwrite)
    module = DeviceModule(generator, chunk_elements)
    info = module.info("litert", quantize, max_pixels)
    content = with_metadata(convert_litert(module, quantize), METADATA_KEY, info.to_json().encode())
    return write_file(path, content, overwrite)
