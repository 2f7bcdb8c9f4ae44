"""The contract of the device exports (LiteRT `.tflite` and ONNX `.onnx` files), shared by the
exporters (`gated_inpaint.serving`) and the runners that load them.

A device file holds the whole uint8 graph of `uint8_graph.inpaint_uint8`, for one image at a
time, at any height and width:

- inputs `image` uint8 `[1, H, W, 3]` RGB, `mask` uint8 `[1, H, W, 1]` (nonzero = hole) and,
  for guided models, `edge` uint8 `[1, H, W, 1]` (nonzero = sketch line);
- output `output` uint8 `[1, H, W, 3]`: the known pixels exactly as given, the hole filled.

Every pixel runs through the network at full resolution (the `original` hd strategy): large
photos are the caller's to crop or scale. Above `DeviceInfo.max_pixels` the runners refuse an
image, so that it does not exhaust the memory of a small device. The files carry a
`DeviceInfo` as JSON metadata under `METADATA_KEY`.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator

import numpy as np

INPUTS = ("image", "mask", "edge")
OUTPUT = "output"
SIGNATURE = "serving_default"  # the LiteRT signature key
METADATA_KEY = "gated_inpaint"
FORMATS = ("litert", "onnx")
QUANTIZATIONS = ("none", "float16", "int8")


@dataclasses.dataclass(frozen=True)
class DeviceInfo:
    """What a device file holds, stored in it as JSON.

    Args:
        format: `"litert"` or `"onnx"`.
        quantize: `"none"` (float32), `"float16"` or `"int8"` (dynamic-range weights).
        cnum: generator width.
        guided: whether the graph takes an `edge` input.
        max_pixels: the most pixels (height * width) the runners give the graph.
        attention_chunk_elements: score values the attention holds at once (None: all).
    """

    format: str
    quantize: str
    cnum: int
    guided: bool
    max_pixels: int
    attention_chunk_elements: int | None

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str, path: str) -> DeviceInfo:
        """The info written by `to_json`; ValueError naming `path` if it is not one."""
        try:
            return cls(**json.loads(text))
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"{path} has no readable {METADATA_KEY!r} metadata: {error}"
            ) from error

    @property
    def inputs(self) -> tuple[str, ...]:
        """The graph's input names, in order."""
        return INPUTS if self.guided else INPUTS[:2]


def check_inputs(
    info: DeviceInfo, image: np.ndarray, mask: np.ndarray, edge: np.ndarray | None, where: str
) -> None:
    """Raises ValueError naming the input unless `image` is uint8 `[1, H, W, 3]`, `mask` (and
    `edge` for guided models) uint8 `[1, H, W, 1]`, with at most `info.max_pixels` pixels;
    `where` (e.g. the file) ends the messages."""
    arrays = {"image": image, "mask": mask, "edge": edge}
    for name in info.inputs:
        array, channels = arrays[name], 3 if name == "image" else 1
        if array is None:
            raise ValueError(f"{name} is missing: this model is guided{where}.")
        if array.dtype != np.uint8 or array.ndim != 4 or array.shape[0] != 1:
            raise ValueError(
                f"{name} must be uint8 [1, height, width, {channels}], got {array.dtype} "
                f"{list(array.shape)}{where}."
            )
        if array.shape[3] != channels:
            raise ValueError(
                f"{name} must have {channels} channel(s), got {array.shape[3]} "
                f"(shape {list(array.shape)}){where}."
            )
        if array.shape[1:3] != image.shape[1:3]:
            raise ValueError(
                f"{name} is {array.shape[1]}x{array.shape[2]} pixels but image is "
                f"{image.shape[1]}x{image.shape[2]}{where}."
            )
    height, width = image.shape[1:3]
    if height * width == 0:
        raise ValueError(f"image is empty: shape {list(image.shape)}{where}.")
    if height * width > info.max_pixels:
        raise ValueError(
            f"image is {height}x{width} = {height * width} pixels, above the {info.max_pixels} "
            f"this {info.format} model takes (set at export, --max_pixels){where}: crop or "
            f"scale the photo first, or use the SavedModel or weights, whose hd strategies do."
        )


def single_inputs(
    info: DeviceInfo,
    images: np.ndarray,
    masks: np.ndarray,
    edges: np.ndarray | None,
    where: str,
) -> Iterator[dict[str, np.ndarray]]:
    """The inputs of one file run per image of a batch (device files take batch 1), by input
    name (`info.inputs`), each checked by `check_inputs` first."""
    for i in range(len(images)):
        arrays = {
            "image": images[i : i + 1],
            "mask": masks[i : i + 1],
            "edge": None if edges is None else edges[i : i + 1],
        }
        check_inputs(info, *arrays.values(), where)
        yield {name: arrays[name] for name in info.inputs}
