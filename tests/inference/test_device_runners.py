"""The device contract's input checks and metadata, and how LiteRT and ONNX files are recognised
and refused, without exporting (the exports are tested in tests/serving)."""

import numpy as np
import pytest

from gated_inpaint import Inpainter
from gated_inpaint.inference.device_contract import DeviceInfo, check_inputs
from gated_inpaint.weights.model_path import model_kind

INFO = DeviceInfo(
    "litert", "int8", cnum=8, guided=True, max_pixels=100, attention_chunk_elements=64
)


def test_info_round_trips_through_json():
    assert DeviceInfo.from_json(INFO.to_json(), "m.tflite") == INFO
    assert INFO.inputs == ("image", "mask", "edge")
    with pytest.raises(ValueError, match="m.tflite has no readable 'gated_inpaint' metadata"):
        DeviceInfo.from_json('{"format": "litert"}', "m.tflite")


def _arrays(image=(1, 8, 9, 3), mask=(1, 8, 9, 1), edge=(1, 8, 9, 1)):
    return [None if s is None else np.zeros(s, np.uint8) for s in (image, mask, edge)]


@pytest.mark.parametrize(
    ("shapes", "message"),
    [
        ({"edge": None}, "edge is missing: this model is guided"),
        (
            {"image": (8, 9, 3)},
            r"image must be uint8 \[1, height, width, 3\], got uint8 \[8, 9, 3\]",
        ),
        ({"image": (2, 8, 9, 3)}, r"image must be uint8 \[1, height, width, 3\]"),
        ({"image": (1, 8, 9, 1)}, "image must have 3 channel"),
        ({"mask": (1, 8, 9, 3)}, "mask must have 1 channel"),
        ({"edge": (1, 9, 9, 1)}, "edge is 9x9 pixels but image is 8x9"),
        (
            {"image": (1, 11, 10, 3), "mask": (1, 11, 10, 1), "edge": (1, 11, 10, 1)},
            "110 pixels, above the 100",
        ),
        ({"image": (1, 0, 9, 3), "mask": (1, 0, 9, 1), "edge": (1, 0, 9, 1)}, "image is empty"),
    ],
)
def test_bad_inputs_name_the_input(shapes, message):
    arrays = _arrays(**shapes)
    with pytest.raises(ValueError, match=f"{message}.* \\(m.tflite\\)"):
        check_inputs(INFO, *arrays, " (m.tflite)")


def test_good_inputs_and_float_images_are_told_apart():
    check_inputs(INFO, *_arrays(), "")
    image, mask, edge = _arrays()
    with pytest.raises(ValueError, match="image must be uint8"):
        check_inputs(INFO, image.astype(np.float32), mask, edge, "")


def test_device_files_are_recognised_by_extension_and_checked(tmp_path):
    (tmp_path / "model.tflite").write_bytes(b"not a model")
    (tmp_path / "model.ONNX").write_bytes(b"not a model")
    assert model_kind(str(tmp_path / "model.tflite")) == ("litert", str(tmp_path / "model.tflite"))
    assert model_kind(str(tmp_path / "model.ONNX"))[0] == "onnx"
    with pytest.raises(ValueError, match=r"model.tflite is not a LiteRT \(.tflite\) model file"):
        Inpainter.load(tmp_path / "model.tflite")
    with pytest.raises(ValueError, match="Cannot load the ONNX model .*model.ONNX"):
        Inpainter.load(tmp_path / "model.ONNX")
