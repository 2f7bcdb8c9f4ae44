import keras
import numpy as np
import pytest
import tensorflow as tf

from gated_inpaint.models import InpaintGenerator
from gated_inpaint.testing import amplify_weights


def _batch(rng, b=2, h=64, w=96):
    image = rng.uniform(-1, 1, size=(b, h, w, 3)).astype("float32")
    mask = np.zeros((b, h, w, 1), "float32")
    mask[0, 8:40, 16:48] = 1
    if b > 1:
        mask[1, 24:56, 40:88] = 1
    return image, mask


def test_parameter_counts_are_the_official_ones():
    g = InpaintGenerator()
    g.build((1, None, None, 3))
    assert g.count_params() == 4_052_478
    assert len(g.weights) == 84
    guided = InpaintGenerator(guided=True)
    guided.build((1, None, None, 3))
    assert guided.count_params() == 4_053_678


def test_layer_names_are_the_official_scopes():
    g = InpaintGenerator(cnum=8)
    names = set(g.conv_layers())
    assert len(names) == 42
    assert {
        "conv1",
        "conv13_upsample_conv",
        "xconv10_atrous",
        "pmconv6",
        "pmconv9",
        "allconv15_upsample_conv",
        "allconv17",
    } <= names
    assert "pmconv7" not in names


@pytest.mark.parametrize("size", [(64, 96), (136, 200)])
def test_non_square_multiples_of_eight(rng, size):
    g = InpaintGenerator(cnum=8)
    image, mask = _batch(rng, h=size[0], w=size[1])
    x1, x2 = g(image, mask)
    assert x1.shape == x2.shape == (2, *size, 3)
    assert np.abs(x2.numpy()).max() <= 1.0 and np.isfinite(x2.numpy()).all()


@pytest.mark.parametrize("size", [(60, 64), (64, 100), (4, 8)])
def test_other_sizes_raise_a_clear_error(rng, size):
    g = InpaintGenerator(cnum=8)
    image = np.zeros((1, *size, 3), "float32")
    with pytest.raises(ValueError, match="multiples of 8"):
        g(image, np.zeros((1, *size, 1), "float32"))


def test_hole_content_is_ignored_and_masks_are_per_sample(rng, tiny_generator):
    g = tiny_generator
    image, mask = _batch(rng)
    x1, x2 = g(image, mask)
    noisy = np.where(mask > 0, rng.uniform(-1, 1, image.shape), image).astype("float32")
    assert np.abs(x2.numpy()).mean() > 1e-2
    np.testing.assert_allclose(g(noisy, mask)[1], x2, atol=1e-6)
    same_image = np.repeat(image[:1], 2, axis=0)
    _, y2 = g(same_image, mask)
    assert np.abs(y2[0] - y2[1]).max() > 1e-3
    np.testing.assert_allclose(y2[1:], g(same_image[1:], mask[1:])[1], atol=1e-5)


def test_guided_mode_needs_an_edge(rng):
    image, mask = _batch(rng)
    guided = InpaintGenerator(cnum=8, guided=True)
    edge = (rng.uniform(size=mask.shape) > 0.8).astype("float32")
    x1, _ = guided(image, mask, edge)
    assert x1.shape == image.shape
    assert guided.conv_layers()["conv1"].kernel.shape[2] == 6
    with pytest.raises(ValueError, match="guided=True"):
        guided(image, mask)
    with pytest.raises(ValueError, match="guided=False"):
        InpaintGenerator(cnum=8)(image, mask, edge)


def test_dynamic_shapes_under_tf_function(rng, tiny_generator):
    g = tiny_generator
    fn = tf.function(
        lambda i, m: g(i, m)[1],
        input_signature=[
            tf.TensorSpec([None, None, None, 3]),
            tf.TensorSpec([None, None, None, 1]),
        ],
    )
    for size in [(64, 96), (32, 40)]:
        image, mask = _batch(rng, h=size[0], w=size[1])
        np.testing.assert_allclose(fn(image, mask), g(image, mask)[1], atol=1e-5)


def test_gradients_reach_every_weight(rng, tiny_generator):
    g = tiny_generator
    image, mask = _batch(rng)
    with tf.GradientTape() as tape:
        x1, x2 = g(image, mask)
        loss = tf.reduce_mean(tf.abs(x1 - image)) + tf.reduce_mean(tf.abs(x2 - image))
    grads = tape.gradient(loss, g.trainable_weights)
    assert all(gr is not None and np.isfinite(gr.numpy()).all() for gr in grads)
    assert all(np.abs(gr.numpy()).sum() > 0 for gr in grads)


def test_config_and_keras_file_round_trip(tmp_path, rng, tiny_generator):
    g = tiny_generator
    image, mask = _batch(rng)
    expected = g(image, mask)
    assert InpaintGenerator.from_config(g.get_config()).get_config() == g.get_config()
    path = str(tmp_path / "g.keras")
    g.save(path)
    restored = keras.models.load_model(path)
    for a, b in zip(restored(image, mask), expected, strict=True):
        np.testing.assert_array_equal(a, b)


def test_cnum_must_be_a_multiple_of_four():
    with pytest.raises(ValueError, match="multiple of 4"):
        InpaintGenerator(cnum=6)


def test_portable_generator_gives_the_same_output(rng):
    generator = InpaintGenerator(cnum=8)
    generator.build((1, None, None, 3))
    amplify_weights(generator)
    portable = InpaintGenerator(cnum=8, attention_chunk_elements=4000, portable=True)
    portable.build((1, None, None, 3))
    portable.set_weights(generator.get_weights())
    assert portable.contextual_attention.portable
    image = rng.uniform(-1, 1, size=(1, 48, 64, 3)).astype("float32")
    mask = np.zeros((1, 48, 64, 1), "float32")
    mask[:, 10:30, 20:50] = 1
    for a, b in zip(portable(image, mask), generator(image, mask), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)
    config = portable.get_config()
    assert config["portable"] and config["attention_chunk_elements"] == 4000
    assert InpaintGenerator.from_config(config).get_config() == config
