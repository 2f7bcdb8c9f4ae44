"""LiteRT exports of a seeded tiny generator, one per quantization, run in
ai-edge-litert's interpreter and compared with the in-memory uint8 graph."""

import json

import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter

from gated_inpaint import Inpainter
from gated_inpaint.inference.device_contract import METADATA_KEY, SIGNATURE
from gated_inpaint.inference.litert_runner import LiteRTRunner, litert_metadata, litert_operators
from gated_inpaint.serving.litert_export import export_litert
from gated_inpaint.testing import device_cases, hole_differences, tiny_generator

# Largest and mean differences from the in-memory graph, in uint8 levels in the hole. Measured
# on these cases: float32 0; float16 at most 1 (mean 0.005); int8 at most 1 (mean 0.12).
TOLERANCE = {"none": (1, 0.02), "float16": (2, 0.05), "int8": (3, 0.4)}  # (max, mean)


@pytest.fixture(scope="module")
def generator():
    """Seeded, so that the quantized outputs and their tolerances are the same every run."""
    return tiny_generator(8)


@pytest.fixture(scope="module")
def files(generator, tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("litert"))
    return {q: export_litert(generator, folder, quantize=q, max_pixels=60 * 60) for q in TOLERANCE}


@pytest.fixture(scope="module")
def cases(generator):
    return device_cases(generator)


def test_builtin_operators_only_and_the_contract_in_metadata(files):
    for quantize, path in files.items():
        with open(path, "rb") as f:
            content = f.read()
        operators = litert_operators(content)
        assert "CONV_2D" in operators and "BATCH_MATMUL" in operators
        assert "WHILE" not in operators  # the attention at once: LiteRT runs loops slowly
        assert not [op for op in operators if op.startswith("CUSTOM")], operators
        info = json.loads(litert_metadata(content)[METADATA_KEY])
        assert info["quantize"] == quantize and info["max_pixels"] == 3600
        assert not info["guided"] and info["cnum"] == 8


@pytest.mark.parametrize("quantize", list(TOLERANCE))
def test_each_quantization_matches_the_graph_at_two_sizes(files, cases, quantize):
    runner = LiteRTRunner(files[quantize])
    largest, mean = TOLERANCE[quantize]
    for image, mask, expected in cases:
        out = runner(image, mask, None)
        np.testing.assert_array_equal(out[mask[..., 0] == 0], image[mask[..., 0] == 0])
        worst, average = hole_differences(out, expected, mask)
        assert worst <= largest and average <= mean, (quantize, image.shape, worst, average)


def test_signature_runner_resizes_for_each_size(files, cases):
    signature = Interpreter(model_path=files["none"]).get_signature_runner(SIGNATURE)
    for image, mask, expected in cases:
        out = signature(image=image, mask=mask)["output"]
        assert out.shape == image.shape and out.dtype == np.uint8
        assert hole_differences(out, expected, mask)[0] <= 1


def test_inpainter_loads_the_file(files, cases):
    inpainter = Inpainter.load(files["none"])
    assert inpainter.guided is False and "LiteRT" in repr(inpainter)
    image, mask, expected = cases[0]
    out = inpainter.inpaint(image[0], mask[0] * 255)
    assert hole_differences(out[None], expected, mask)[0] <= 1
    with pytest.raises(ValueError, match="fixed at export"):
        Inpainter.load(files["none"], hd_strategy="resize")


@pytest.mark.parametrize(
    ("image", "mask", "message"),
    [
        ((1, 20, 30, 4), (1, 20, 30, 1), "image must have 3 channel"),
        ((1, 20, 30, 3), (1, 20, 31, 1), "mask is 20x31 pixels but image is 20x30"),
        ((1, 20, 30, 3), (1, 20, 30, 3), "mask must have 1 channel"),
        ((1, 61, 60, 3), (1, 61, 60, 1), "3660 pixels, above the 3600"),
    ],
)
def test_bad_inputs_name_the_input(files, image, mask, message):
    runner = LiteRTRunner(files["none"])
    with pytest.raises(ValueError, match=message):
        runner(np.zeros(image, np.uint8), np.zeros(mask, np.uint8), None)


def test_files_are_not_silently_replaced(generator, files):
    folder = files["none"].rsplit("/", 1)[0]
    with pytest.raises(FileExistsError, match="--overwrite"):
        export_litert(generator, folder)
