"""ONNX export: one `.onnx` file with the device contract
(`gated_inpaint.inference.device_contract`), converted by tf2onnx at opset 17, with dynamic
height and width (named `height` and `width`), for onnxruntime and onnxruntime-web.

Float32 only: onnxruntime's dynamic int8 quantization of this graph ran about 4x slower than
float32 on a CPU (bench/device_formats.py), and float16 is slower on CPUs too; LiteRT has both.
"""

from __future__ import annotations

from gated_inpaint.inference.device_contract import METADATA_KEY, DeviceInfo
from gated_inpaint.models import InpaintGenerator
from gated_inpaint.serving.device_graph import (
    DeviceModule,
    check_writable,
    device_file_path,
    write_file,
)
from gated_inpaint.serving.options import ONNX_MAX_PIXELS

EXTENSION = "onnx"
OPSET = 17
# The attention's scores in blocks of 2**22 values (16 MB), in an ONNX Loop: onnxruntime frees
# what a block no longer needs, so memory grows linearly with the pixels (see `options`), and
# it ran as fast as the attention all at once.
ONNX_CHUNK_ELEMENTS = 2**22
INSTALL_HINT = 'pip install "gated_inpaint[onnx]"'


def convert_onnx(module: DeviceModule):
    """The `onnx.ModelProto` of `module.inpaint` (no metadata), its sizes named `height` and
    `width`."""
    try:
        import tf2onnx
    except ImportError as error:
        raise ImportError(f"ONNX export needs tf2onnx: {INSTALL_HINT}") from error
    model, _ = tf2onnx.convert.from_function(
        module.inpaint, input_signature=module.input_signature, opset=OPSET
    )
    for value in [*model.graph.input, *model.graph.output]:
        dims = value.type.tensor_type.shape.dim
        dims[1].dim_param, dims[2].dim_param = "height", "width"
    return model


def with_metadata(model, info: DeviceInfo) -> bytes:
    """The file content of `model` (from `convert_onnx`) with `info` as its metadata."""
    entry = model.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, info.to_json()
    return model.SerializeToString()


def export_onnx(
    generator: InpaintGenerator,
    export_dir: str,
    quantize: str = "none",
    max_pixels: int = ONNX_MAX_PIXELS,
    overwrite: bool = False,
    chunk_elements: int | None = ONNX_CHUNK_ELEMENTS,
) -> str:
    """Writes `EXPORT_DIR/gated_inpaint.onnx` (atomically); returns its path.

    Args: as `litert_export.export_litert`; `quantize` must be `"none"`.

    Raises:
        FileExistsError: the file exists and `overwrite` is false.
        ValueError: bad arguments.
    """
    if quantize != "none":
        raise ValueError(
            f"--quantize {quantize} is not available for ONNX, whose files are float32 "
            f"(onnxruntime ran this graph slower quantized); it is a LiteRT option."
        )
    path = device_file_path(export_dir, EXTENSION, quantize)
    check_writable(path, overwrite)
    module = DeviceModule(generator, chunk_elements)
    info = module.info("onnx", quantize, max_pixels)
    return write_file(path, with_metadata(convert_onnx(module), info), overwrite)
