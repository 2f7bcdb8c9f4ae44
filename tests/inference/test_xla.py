"""`jit_compile=True`: the network step compiled by XLA gives the uncompiled graph's result up
to rounding, in `Inpainter` and in an exported SavedModel."""

import numpy as np
import pytest
import tensorflow as tf

from gated_inpaint import Inpainter, testing
from gated_inpaint.inference.precision import with_precision
from gated_inpaint.inference.xla import compilable, compiled_inpaint_uint8
from gated_inpaint.serving.export import export_saved_model


def _compiles_with_xla(function: tf.types.experimental.ConcreteFunction) -> bool:
    library = function.graph.as_graph_def().library.function
    return any(f.attr["_XlaMustCompile"].b for f in library)


def _inputs(height, width, seed=0):
    mask = np.zeros((height, width), np.uint8)
    mask[height // 4 : height // 2, width // 3 : width - 4] = 1
    return testing.smooth_photo(height, width, seed=seed), mask


@pytest.mark.parametrize(
    "guided, hd_strategy, size",
    [(False, "original", (40, 56)), (True, "crop", (72, 96))],  # 96 > hd_max_size: a crop
    ids=["original", "guided-crop"],
)
def test_compiled_inpainter_matches_the_uncompiled_one(guided, hd_strategy, size):
    generator = testing.tiny_generator(cnum=8, guided=guided)
    options = {"hd_strategy": hd_strategy, "hd_max_size": 64}
    compiled = Inpainter(generator, jit_compile=True, **options)
    plain = Inpainter(generator, **options)
    for height, width in [size, (size[0] + 8, size[1] - 8)]:
        image, mask = _inputs(height, width)
        edge = np.zeros_like(mask) if guided else None
        expected = plain.inpaint(image, mask, edge)
        assert (expected != image)[mask > 0].any()  # the fill is not a copy of the input
        testing.assert_uint8_equal_up_to_rounding(compiled.inpaint(image, mask, edge), expected)
    graph = compiled.runner.graph
    assert graph.experimental_get_tracing_count() == 1
    assert _compiles_with_xla(graph.get_concrete_function())
    assert not _compiles_with_xla(plain.runner.graph.get_concrete_function())
    assert compiled.generator.attention_chunk_elements is None


def test_export_bakes_xla_in(tmp_path):
    generator = testing.tiny_generator(cnum=4)
    exported = export_saved_model(generator, str(tmp_path), jit_compile=True)
    loaded = tf.saved_model.load(exported)
    assert _compiles_with_xla(loaded.signatures["inpaint_tensors"])
    image, mask = _inputs(40, 56)
    output = testing.run_signature(
        loaded, "inpaint_tensors", {"image": image[None], "mask": mask[None, ..., None]}
    )["output"]
    expected = Inpainter(generator).inpaint(image, mask)
    testing.assert_uint8_equal_up_to_rounding(np.asarray(output)[0], expected)


def test_chunked_attention_is_refused():
    generator = testing.tiny_generator(cnum=4)
    with pytest.raises(ValueError, match="xla.compilable"):
        compiled_inpaint_uint8(generator)


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_compilable_copy_keeps_weights_and_precision(precision):
    generator = with_precision(testing.tiny_generator(cnum=4), precision)
    copy = compilable(generator)
    assert copy.attention_chunk_elements is None and compilable(copy) is copy
    layers = [copy.contextual_attention, *copy.conv_layers().values()]
    assert {layer.compute_dtype for layer in layers} == {generator.compute_dtype}
    for ours, theirs in zip(copy.weights, generator.weights, strict=True):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
