import argparse

import keras
import numpy as np
import pytest
import tensorflow as tf

from gated_inpaint.commands.flags import add_to_parser
from gated_inpaint.commands.options import HD_FLAGS, hd_from_args
from gated_inpaint.inference.hd_strategy import HDStrategy, hole_box, inpaint_uint8_hd
from gated_inpaint.inference.uint8_graph import inpaint_uint8
from gated_inpaint.models import InpaintGenerator
from gated_inpaint.testing import amplify_weights, smooth_photo

HEIGHT, WIDTH = 120, 200  # long side above MAX_SIZE, so the strategies apply
MAX_SIZE = 64


@pytest.fixture(scope="module")
def generator():
    keras.utils.set_random_seed(0)
    g = InpaintGenerator(cnum=8)
    g.build((1, None, None, 3))
    return amplify_weights(g)


def _masks():
    """Two masks: a small hole, and holes spread over the image."""
    masks = np.zeros((2, HEIGHT, WIDTH, 1), np.uint8)
    masks[0, 50:62, 80:100] = 1
    masks[1, 10:20, 10:40] = 1
    masks[1, 90:110, 150:190] = 1
    return masks


_GRAPHS = {}


def _run(generator, images, masks, hd):
    """`inpaint_uint8_hd` in a tf.function, traced once per generator and strategy."""
    key = (id(generator), hd)
    if key not in _GRAPHS:
        _GRAPHS[key] = tf.function(lambda i, m: inpaint_uint8_hd(generator, i, m, None, hd))
    return _GRAPHS[key](tf.constant(images), tf.constant(masks)).numpy()


def _images():
    return np.stack([smooth_photo(HEIGHT, WIDTH, seed=0), smooth_photo(HEIGHT, WIDTH, seed=1)])


@pytest.mark.parametrize("strategy", ["original", "crop", "resize"])
def test_known_pixels_unchanged_and_holes_filled(generator, strategy):
    images, masks = _images(), _masks()
    out = _run(generator, images, masks, HDStrategy(strategy, MAX_SIZE, 8))
    known = masks[..., 0] == 0
    np.testing.assert_array_equal(out[known], images[known])
    assert np.abs(out[~known].astype(int) - images[~known]).mean() > 5


def test_small_images_are_filled_whole_by_every_strategy(generator):
    images, masks = _images(), _masks()
    whole = inpaint_uint8(generator, images, masks).numpy()
    for strategy in ["crop", "resize"]:
        out = _run(generator, images, masks, HDStrategy(strategy, max_size=WIDTH))
        np.testing.assert_array_equal(out, whole)


def test_crop_runs_the_network_on_the_box_around_the_holes(generator):
    images, masks = _images(), _masks()
    margin = 8
    out = _run(generator, images, masks, HDStrategy("crop", MAX_SIZE, margin))
    # Sample 0: hole rows 50-61, columns 80-99, so the box is rows 42-69, columns 72-107:
    # its long side (36) is within MAX_SIZE, so it runs at full resolution.
    box = np.s_[42:70, 72:108]
    expected = inpaint_uint8(generator, images[:1, box[0], box[1]], masks[:1, box[0], box[1]])
    np.testing.assert_array_equal(out[0, box[0], box[1]], expected.numpy()[0])
    # With the original strategy the same hole sees the whole image: a different fill.
    original = _run(generator, images, masks, HDStrategy("original"))
    assert np.abs(original[0].astype(int) - out[0]).max() > 0


def test_resize_runs_the_network_at_max_size_and_scales_the_fill_up(generator):
    images, masks = _images(), _masks()
    out = _run(generator, images, masks, HDStrategy("resize", MAX_SIZE))
    small_size = (38, 64)  # 120x200 scaled by 64/200, rounded
    small = tf.image.resize(tf.cast(images, tf.float32), small_size, method="area")
    small = tf.cast(tf.round(small), tf.uint8)
    small_masks = tf.cast(
        tf.image.resize(tf.cast(masks, tf.float32), small_size, "area") > 0, tf.uint8
    )
    filled = inpaint_uint8(generator, small, small_masks)
    grown = tf.image.resize(tf.cast(filled, tf.float32), (HEIGHT, WIDTH), method="bilinear")
    grown = tf.cast(tf.clip_by_value(tf.round(grown), 0, 255), tf.uint8).numpy()
    expected = np.where(masks > 0, grown, images)
    np.testing.assert_array_equal(out, expected)


def test_crop_of_spread_holes_is_scaled_down(generator):
    """Sample 1's holes span nearly the whole image: the box is scaled to MAX_SIZE."""
    images, masks = _images(), _masks()
    crop = _run(generator, images, masks, HDStrategy("crop", MAX_SIZE, margin=200))
    resize = _run(generator, images, masks, HDStrategy("resize", MAX_SIZE))
    # A margin past the image's edges makes the box the whole image: crop = resize.
    np.testing.assert_array_equal(crop, resize)


def test_no_hole_returns_the_image(generator):
    images = _images()
    masks = np.zeros((2, HEIGHT, WIDTH, 1), np.uint8)
    out = _run(generator, images, masks, HDStrategy("crop", MAX_SIZE))
    np.testing.assert_array_equal(out, images)


@pytest.mark.parametrize("strategy", ["original", "crop", "resize"])
def test_the_graph_calls_the_generator_once(generator, strategy):
    """Tracing a generator is the slow part of a first call: every branch shares one call."""
    calls = []

    def counted(*inputs):
        calls.append(len(inputs))
        return generator(*inputs)

    graph = tf.function(
        lambda i, m: inpaint_uint8_hd(counted, i, m, None, HDStrategy(strategy, MAX_SIZE, 8))
    )
    graph.get_concrete_function(
        tf.TensorSpec([None, None, None, 3], tf.uint8),
        tf.TensorSpec([None, None, None, 1], tf.uint8),
    )
    assert len(calls) == 1


def test_hole_box_adds_the_margin_and_clips():
    hole = np.zeros((50, 60), bool)
    hole[3:10, 40:55] = True
    box = [int(v) for v in hole_box(tf.constant(hole), margin=5)]
    assert box == [0, 35, 15, 60]  # top, left, bottom, right
    assert [int(v) for v in hole_box(tf.zeros((50, 60), tf.bool), margin=5)] == [0, 0, 50, 60]


def test_guided_generator_gets_its_edges_cropped_and_scaled():
    keras.utils.set_random_seed(0)
    g = amplify_weights(InpaintGenerator(cnum=8, guided=True))
    g.build((1, None, None, 3))
    amplify_weights(g)
    images, masks = _images()[:1], _masks()[1:]
    edges = np.zeros_like(masks)
    edges[0, 95:105, 150:190] = 1
    for strategy in ["crop", "resize"]:
        hd = HDStrategy(strategy, MAX_SIZE)
        with_edges = inpaint_uint8_hd(g, images, masks, edges, hd).numpy()
        without = inpaint_uint8_hd(g, images, masks, np.zeros_like(edges), hd).numpy()
        assert np.abs(with_edges.astype(int) - without).max() > 0
        np.testing.assert_array_equal(with_edges[masks[..., 0] == 0], images[masks[..., 0] == 0])


def test_settings_are_checked():
    with pytest.raises(ValueError, match="Unknown hd_strategy 'tile'"):
        HDStrategy("tile")
    with pytest.raises(ValueError, match="hd_max_size must be at least 64"):
        HDStrategy("crop", max_size=32)
    with pytest.raises(ValueError, match="hd_margin must be 0 or more"):
        HDStrategy("crop", margin=-1)


def test_flags():
    parser = argparse.ArgumentParser()
    add_to_parser(parser, HD_FLAGS)
    assert hd_from_args(parser.parse_args([])) == HDStrategy()
    args = parser.parse_args(["--hd_strategy", "resize", "--hd_max_size", "512"])
    assert hd_from_args(args) == HDStrategy("resize", 512, HDStrategy().margin)


def test_inpainter_export_and_command_apply_the_strategy(generator, tmp_path, capsys):
    """The three entry points give the same pixels as `inpaint_uint8_hd` with their options."""
    from PIL import Image

    from gated_inpaint import Inpainter
    from gated_inpaint.commands.main import main as cli_main
    from gated_inpaint.serving.export import export_saved_model

    image, mask = _images()[1], _masks()[1]
    hd = HDStrategy("resize", MAX_SIZE)
    expected = _run(generator, image[None], mask[None], hd)[0]
    options = {"hd_strategy": "resize", "hd_max_size": MAX_SIZE}
    np.testing.assert_array_equal(Inpainter(generator, **options).inpaint(image, mask), expected)

    weights = str(tmp_path / "g.weights.h5")
    generator.save_weights(weights)
    np.testing.assert_array_equal(Inpainter.load(weights, **options).inpaint(image, mask), expected)
    Image.fromarray(image).save(tmp_path / "photo.png")
    Image.fromarray(mask[..., 0] * 255).save(tmp_path / "mask.png")
    flags = ["--hd_strategy", "resize", "--hd_max_size", str(MAX_SIZE)]
    files = ["--image", str(tmp_path / "photo.png"), "--mask", str(tmp_path / "mask.png")]
    output = tmp_path / "out.png"
    code = cli_main(["inpaint", "--model", weights, *files, "--output", str(output), *flags])
    assert code == 0, capsys.readouterr().err
    np.testing.assert_array_equal(np.asarray(Image.open(output)), expected)

    exported = export_saved_model(generator, str(tmp_path / "exports"), hd=hd)
    inpainter = Inpainter.load(exported)
    np.testing.assert_array_equal(inpainter.inpaint(image, mask), expected)
    with pytest.raises(ValueError, match="its hd_strategy were fixed at export"):
        Inpainter.load(exported, hd_strategy="crop")
    output = tmp_path / "out_exported.png"
    code = cli_main(["inpaint", "--model", exported, *files, "--output", str(output), *flags])
    assert code == 1 and "fixed at export" in capsys.readouterr().err
