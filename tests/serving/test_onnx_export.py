"""The ONNX export of a seeded tiny generator, run in onnxruntime and compared with the in-memory
uint8 graph."""

import json

import numpy as np
import onnx
import pytest

from gated_inpaint import Inpainter
from gated_inpaint.inference.device_contract import METADATA_KEY
from gated_inpaint.inference.onnx_runner import OnnxRunner
from gated_inpaint.serving.onnx_export import export_onnx
from gated_inpaint.testing import device_cases, hole_differences, tiny_generator


@pytest.fixture(scope="module")
def generator():
    """Seeded, as in test_litert_export.py."""
    return tiny_generator(8)


@pytest.fixture(scope="module")
def path(generator, tmp_path_factory):
    return export_onnx(generator, str(tmp_path_factory.mktemp("onnx")), max_pixels=60 * 60)


@pytest.fixture(scope="module")
def cases(generator):
    return device_cases(generator)


def test_opset_dynamic_sizes_and_the_contract_in_metadata(path):
    model = onnx.load(path)
    assert max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx")) >= 17
    for value in [*model.graph.input, *model.graph.output]:
        dims = value.type.tensor_type.shape.dim
        assert [dims[0].dim_value, dims[1].dim_param, dims[2].dim_param] == [1, "height", "width"]
    assert [value.name for value in model.graph.input] == ["image", "mask"]
    assert "Loop" in {node.op_type for node in model.graph.node}  # the attention in blocks
    info = json.loads({p.key: p.value for p in model.metadata_props}[METADATA_KEY])
    assert (info["format"], info["quantize"], info["max_pixels"]) == ("onnx", "none", 3600)


def test_matches_the_graph_at_two_sizes(path, cases):
    """Measured: identical to the in-memory graph on these cases; 1 level is allowed."""
    runner = OnnxRunner(path)
    for image, mask, expected in cases:
        out = runner(image, mask, None)
        np.testing.assert_array_equal(out[mask[..., 0] == 0], image[mask[..., 0] == 0])
        worst, average = hole_differences(out, expected, mask)
        assert worst <= 1 and average <= 0.02, (image.shape, worst, average)


def test_inpainter_loads_the_file_and_checks_inputs(path, cases):
    inpainter = Inpainter.load(path)
    assert "ONNX" in repr(inpainter)
    image, mask, expected = cases[1]
    out = inpainter.inpaint(image[0], mask[0])
    assert hole_differences(out[None], expected, mask)[0] <= 1
    runner = inpainter.runner
    with pytest.raises(ValueError, match="mask is 48x63 pixels but image is 48x64"):
        runner(image, mask[:, :, :63], None)
    with pytest.raises(ValueError, match="image must have 3 channel"):
        runner(image[..., :2], mask, None)
    with pytest.raises(ValueError, match="above the 3600"):
        runner(np.zeros((1, 70, 60, 3), np.uint8), np.zeros((1, 70, 60, 1), np.uint8), None)


def test_quantization_is_a_litert_option(generator, tmp_path):
    with pytest.raises(ValueError, match="it is a LiteRT option"):
        export_onnx(generator, str(tmp_path), quantize="int8")
