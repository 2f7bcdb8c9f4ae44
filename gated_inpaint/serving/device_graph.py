"""The graph that the device exports (LiteRT, ONNX) convert, and what their exporters share.

It is `uint8_graph.inpaint_uint8`, the graph of the SavedModel and of `Inpainter`, for one
image of any size (the contract is `gated_inpaint.inference.device_contract`), run by a copy
of the generator built with `portable=True`: the same weights and values, with a contextual
attention that converts. With `chunk_elements` its scores are computed a block of rows at a
time in a loop (without a `TensorArray`), so its memory grows linearly with the pixels; with
None all at once, a graph without a loop.
"""

from __future__ import annotations

import functools
import os

import tensorflow as tf

from gated_inpaint.inference.device_contract import INPUTS, OUTPUT, DeviceInfo
from gated_inpaint.inference.uint8_graph import inpaint_uint8
from gated_inpaint.models import InpaintGenerator


def portable_generator(generator: InpaintGenerator, chunk_elements: int | None) -> InpaintGenerator:
    """A float32 copy of `generator` with `portable=True` and `chunk_elements`, same weights."""
    copy = InpaintGenerator(
        cnum=generator.cnum,
        guided=generator.guided,
        attention_chunk_elements=chunk_elements,
        portable=True,
    )
    copy.build((1, None, None, 3))
    copy.set_weights(generator.get_weights())
    return copy


class DeviceModule(tf.Module):
    """`inpaint`: the device contract's function, `{"output": uint8 [1, H, W, 3]}` from `image`,
    `mask` (and `edge`) uint8 tensors, traced for any H and W.

    Args:
        generator: a built `InpaintGenerator` taking RGB.
        chunk_elements: score values the attention holds at once, or None (all).

    Attributes:
        generator_weights: the variables of the portable copy that runs (tracked, so that the
            converters, which save the module first, find them; the Keras model itself is not
            tracked, as in `module.InpaintServingModule`).
    """

    def __init__(self, generator: InpaintGenerator, chunk_elements: int | None):
        super().__init__(name="gated_inpaint_device")
        portable = portable_generator(generator, chunk_elements)
        self.generator_weights = [w.value for w in portable.weights]
        self._forward = functools.partial(inpaint_uint8, portable)
        self.cnum, self.guided = generator.cnum, generator.guided
        self.chunk_elements = chunk_elements
        names = INPUTS if generator.guided else INPUTS[:2]
        self.input_signature = [
            tf.TensorSpec([1, None, None, 3 if name == "image" else 1], tf.uint8, name=name)
            for name in names
        ]
        self.inpaint = tf.function(
            self._inpaint, input_signature=self.input_signature, autograph=False
        )

    def _inpaint(self, image, mask, edge=None):
        return {OUTPUT: self._forward(image, mask, edge)}

    def info(self, format: str, quantize: str, max_pixels: int) -> DeviceInfo:
        """The `DeviceInfo` of this graph exported as `format` with `quantize`."""
        if max_pixels < 1:
            raise ValueError(f"max_pixels must be positive, got {max_pixels}.")
        return DeviceInfo(
            format=format,
            quantize=quantize,
            cnum=self.cnum,
            guided=self.guided,
            max_pixels=int(max_pixels),
            attention_chunk_elements=self.chunk_elements,
        )


def device_file_path(export_dir: str, extension: str, quantize: str) -> str:
    """`EXPORT_DIR/gated_inpaint[_float16|_int8].<extension>`."""
    suffix = "" if quantize == "none" else f"_{quantize}"
    return os.path.join(export_dir, f"gated_inpaint{suffix}.{extension}")


def check_writable(path: str, overwrite: bool) -> None:
    """Raises FileExistsError if `path` exists and not `overwrite` (before a long conversion)."""
    if os.path.exists(path) and not overwrite:
        raise FileExistsError(f"{path} exists; pass --overwrite to replace it.")


def write_file(path: str, content: bytes, overwrite: bool) -> str:
    """Writes `content` to `path` through a temporary sibling renamed into place (an app or a
    server never reads half a model); an existing `path` is an error unless `overwrite`."""
    check_writable(path, overwrite)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    temp = f"{path}.tmp-{os.getpid()}"
    try:
        with open(temp, "wb") as f:
            f.write(content)
        os.replace(temp, path)
    finally:
        if os.path.exists(temp):
            os.remove(temp)
    return path
