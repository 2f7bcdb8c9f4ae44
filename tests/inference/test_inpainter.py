import importlib.metadata
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from gated_inpaint import Inpainter, testing
from gated_inpaint.data.masks import brush_stroke_mask
from gated_inpaint.inference.uint8_graph import inpaint_uint8
from gated_inpaint.testing import official_tensors, smooth_photo, write_tf1_checkpoint

HEIGHT, WIDTH = 250, 333


def write_saved_model(generator, directory):
    """A minimal export with the `inpaint_tensors` signature the export code will write."""
    module = tf.Module()
    module.generator_variables = list(generator.variables)

    @tf.function(
        input_signature=[
            tf.TensorSpec([None, None, None, 3], tf.uint8, name="image"),
            tf.TensorSpec([None, None, None, 1], tf.uint8, name="mask"),
        ]
    )
    def inpaint_tensors(image, mask):
        return {"output": inpaint_uint8(generator, image, mask)}

    module.inpaint_tensors = inpaint_tensors
    tf.saved_model.save(module, str(directory), signatures={"inpaint_tensors": inpaint_tensors})


@pytest.fixture(scope="module")
def generator():
    return testing.tiny_generator()


@pytest.fixture(scope="module")
def inpainter(generator):
    return Inpainter(generator)


@pytest.fixture(scope="module")
def saved_model_base(generator, tmp_path_factory):
    """A base directory: version 12 (real), version 3 (broken), a non-numeric directory."""
    base = tmp_path_factory.mktemp("export")
    write_saved_model(generator, base / "12")
    (base / "3").mkdir()
    (base / "3" / "saved_model.pb").write_bytes(b"not a SavedModel")
    (base / "tmp-13").mkdir()
    return base


@pytest.fixture
def hole(rng):
    return brush_stroke_mask(HEIGHT, WIDTH, rng)


def test_inpaints_a_333x250_photo_and_keeps_known_pixels(inpainter, generator, hole):
    image = smooth_photo(HEIGHT, WIDTH)
    out = inpainter.inpaint(image, hole)
    assert out.shape == (HEIGHT, WIDTH, 3) and out.dtype == np.uint8
    known = hole == 0
    assert 0.02 < hole.mean() < 0.6
    np.testing.assert_array_equal(out[known], image[known])
    assert (out[~known] != image[~known]).any(axis=-1).mean() > 0.5
    direct = inpaint_uint8(generator, image[None], hole[None, ..., None]).numpy()[0]
    assert np.abs(out.astype(int) - direct).max() <= 1


def test_mask_polarity_variants_give_the_same_result(inpainter, hole, rng):
    image = smooth_photo(HEIGHT, WIDTH)
    binary = hole.astype(bool)
    lossy = np.where(binary, rng.integers(150, 256, hole.shape), rng.integers(0, 100, hole.shape))
    variants = {
        "bool": binary,
        "uint8 0/1": binary.astype(np.uint8),
        "uint8 0/255 [H, W, 1]": (binary * 255).astype(np.uint8)[..., None],
        "float 0/1": hole,
        "lossy 8-bit": lossy.astype(np.uint8),
        "PIL L": Image.fromarray((binary * 255).astype(np.uint8)),
        "PIL 1": Image.fromarray(binary),
        "PIL RGB": Image.fromarray((binary * 255).astype(np.uint8)).convert("RGB"),
    }
    expected = inpainter.inpaint(image, binary)
    for name, mask in variants.items():
        np.testing.assert_array_equal(inpainter.inpaint(image, mask), expected, err_msg=name)
    inverted = inpainter.inpaint(image, ~binary)
    np.testing.assert_array_equal(inverted[binary], image[binary])


def test_pil_rgba_and_grayscale_images(inpainter, hole, rng):
    image = smooth_photo(HEIGHT, WIDTH)
    expected = inpainter.inpaint(image, hole)
    alpha = rng.integers(0, 256, (HEIGHT, WIDTH, 1), dtype=np.uint8)
    rgba = np.concatenate([image, alpha], axis=-1)
    np.testing.assert_array_equal(inpainter.inpaint(Image.fromarray(image), hole), expected)
    np.testing.assert_array_equal(inpainter.inpaint(rgba, hole), expected)
    np.testing.assert_array_equal(inpainter.inpaint(Image.fromarray(rgba), hole), expected)

    gray = image[..., 1]
    from_gray = inpainter.inpaint(np.repeat(gray[..., None], 3, axis=-1), hole)
    for variant in (gray, gray[..., None], Image.fromarray(gray)):
        out = inpainter.inpaint(variant, hole)
        assert out.shape == (HEIGHT, WIDTH, 3)
        np.testing.assert_array_equal(out, from_gray)


@pytest.mark.parametrize(
    ("image", "mask", "error", "message"),
    [
        (np.zeros((20, 30, 3), np.float32), np.zeros((20, 30)), TypeError, "uint8"),
        (np.zeros((20, 30, 2), np.uint8), np.zeros((20, 30)), ValueError, r"\(20, 30, 2\)"),
        (
            np.zeros((20, 30, 3), np.uint8),
            np.zeros((30, 20)),
            ValueError,
            r"mask has shape \(30, 20\) but the image has shape \(20, 30, 3\)",
        ),
        (np.zeros((20, 30, 3), np.uint8), np.zeros((20, 30, 3)), ValueError, r"\[H, W, 1\]"),
        (np.zeros((20, 30, 3), np.uint8), np.full((20, 30), 300), ValueError, "max 300"),
        (np.zeros((20, 30, 3), np.uint8), np.full((20, 30), -1.0), ValueError, "min -1"),
    ],
)
def test_bad_inputs_raise_clear_errors(inpainter, image, mask, error, message):
    with pytest.raises(error, match=message):
        inpainter.inpaint(image, mask)


def test_edge_map_for_an_unguided_generator_is_refused(inpainter):
    image, mask = np.zeros((8, 8, 3), np.uint8), np.ones((8, 8), bool)
    with pytest.raises(ValueError, match="not guided"):
        inpainter.inpaint(image, mask, edge=mask)


def test_batch_of_mixed_sizes_equals_single_calls(inpainter, rng, monkeypatch):
    sizes = [(40, 56), (33, 47), (40, 56), (33, 47), (17, 9), (40, 56)]
    images = [smooth_photo(h, w, seed=i) for i, (h, w) in enumerate(sizes)]
    masks = [brush_stroke_mask(h, w, rng) for h, w in sizes]
    singles = [inpainter.inpaint(i, m) for i, m in zip(images, masks, strict=True)]

    batch_shapes = []
    run = inpainter.runner

    def spy(images, masks, edges):
        batch_shapes.append(images.shape)
        return run(images, masks, edges)

    monkeypatch.setattr(inpainter, "runner", spy)
    outs = inpainter.inpaint_batch(images, masks, batch_size=2)
    assert sorted(batch_shapes) == sorted(
        [(2, 40, 56, 3), (1, 40, 56, 3), (2, 33, 47, 3), (1, 17, 9, 3)]
    )
    assert [o.shape[:2] for o in outs] == sizes
    for out, single in zip(outs, singles, strict=True):
        assert np.abs(out.astype(int) - single).max() <= 1


@pytest.mark.parametrize("guided", [False, True])
def test_one_trace_for_every_size_and_batch_size(guided):
    inpainter = Inpainter(testing.tiny_generator(cnum=4, guided=guided))
    for height, width, batch in [(24, 32, 1), (20, 28, 1), (24, 32, 3), (41, 17, 2), (9, 9, 1)]:
        mask = np.zeros((height, width), bool)
        mask[2:6, 3:7] = True
        inpainter.inpaint_batch([np.zeros((height, width, 3), np.uint8)] * batch, [mask] * batch)
    assert inpainter.runner.graph.experimental_get_tracing_count() == 1


def test_from_weights_reads_cnum_and_guided(tmp_path, tiny_generator):
    tiny_generator.save_weights(tmp_path / "g.weights.h5")
    loaded = Inpainter.from_weights(tmp_path / "g.weights.h5")
    assert (loaded.generator.cnum, loaded.guided) == (8, False)
    for ours, theirs in zip(loaded.generator.weights, tiny_generator.weights, strict=True):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy(), err_msg=ours.path)


def test_guided_weights_take_an_edge_map(tmp_path):
    testing.tiny_generator(cnum=4, guided=True).save_weights(tmp_path / "guided.weights.h5")
    inpainter = Inpainter.from_weights(tmp_path / "guided.weights.h5")
    assert (inpainter.generator.cnum, inpainter.guided) == (4, True)
    image, mask = smooth_photo(32, 40), np.zeros((32, 40), bool)
    mask[4:28, 4:36] = True
    edge = np.zeros((32, 40), np.uint8)
    edge[16, :] = 255
    with_edge = inpainter.inpaint(image, mask, edge=edge)
    without = inpainter.inpaint(image, mask)
    assert (with_edge != without).any()
    np.testing.assert_array_equal(with_edge[~mask], image[~mask])


def test_from_official_checkpoint_converts_bgr_weights_to_rgb(tmp_path, tiny_generator, hole):
    write_tf1_checkpoint(tmp_path / "release", official_tensors(tiny_generator))
    inpainter = Inpainter.from_official_checkpoint(tmp_path / "release")
    rgb = smooth_photo(HEIGHT, WIDTH)
    bgr = rgb[..., ::-1].copy()
    official = inpaint_uint8(tiny_generator, bgr[None], hole[None, ..., None]).numpy()[0]
    out = inpainter.inpaint(rgb, hole)
    assert np.abs(out.astype(int) - official[..., ::-1]).max() <= 1


def test_from_saved_model_uses_the_largest_numeric_version(saved_model_base, inpainter, hole):
    loaded = Inpainter.from_saved_model(saved_model_base)
    assert loaded.generator is None and not loaded.guided
    assert repr(loaded) == f"Inpainter(SavedModel {str(saved_model_base / '12')!r}, guided=False)"
    image = smooth_photo(HEIGHT, WIDTH)
    out = loaded.inpaint(image, hole)
    assert np.abs(out.astype(int) - inpainter.inpaint(image, hole)).max() <= 1
    direct = Inpainter.from_saved_model(saved_model_base / "12")
    np.testing.assert_array_equal(direct.inpaint(image, hole), out)


def test_load_recognises_each_kind(tmp_path, tiny_generator, saved_model_base):
    weights = tmp_path / "weights" / "g.weights.h5"
    weights.parent.mkdir()
    tiny_generator.save_weights(weights)
    write_tf1_checkpoint(tmp_path / "release", official_tensors(tiny_generator))
    prefix = str(tmp_path / "release" / "model.ckpt-0")

    assert Inpainter.load(saved_model_base).generator is None
    assert Inpainter.load(saved_model_base / "12").generator is None
    checkpoint_files = (prefix, prefix + ".index", prefix + ".data-00000-of-00001")
    for path in (weights, weights.parent, tmp_path / "release", *checkpoint_files):
        loaded = Inpainter.load(path)
        assert loaded.generator.cnum == 8, path
        np.testing.assert_array_equal(
            loaded.generator.conv_layers()["conv5"].kernel.numpy(),
            tiny_generator.conv_layers()["conv5"].kernel.numpy(),
        )


def test_load_explains_what_it_could_not_recognise(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "two").mkdir()
    for name in ("a.weights.h5", "b.weights.h5"):
        (tmp_path / "two" / name).write_bytes(b"")
    tf.train.Checkpoint(step=tf.Variable(1)).save(str(tmp_path / "train" / "ckpt"))

    with pytest.raises(ValueError, match=r"holds no model.*saved_model\.pb.*found none"):
        Inpainter.load(tmp_path / "empty")
    with pytest.raises(ValueError, match="several weights files"):
        Inpainter.load(tmp_path / "two")
    with pytest.raises(ValueError, match="is not a model"):
        Inpainter.load(tmp_path / "notes.txt")
    with pytest.raises(ValueError, match="training checkpoint.*export"):
        Inpainter.load(tmp_path / "train")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        Inpainter.load(tmp_path / "missing")


def test_import_is_light_and_exports_the_api():
    code = (
        "import sys, gated_inpaint; "
        "print('tensorflow' in sys.modules, gated_inpaint.__version__, "
        "'Inpainter' in dir(gated_inpaint))"
    )
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    version = importlib.metadata.version("gated_inpaint")
    assert result.stdout.split() == ["False", version, "True"], result.stderr
    import gated_inpaint

    assert gated_inpaint.Inpainter is Inpainter
