import keras
import numpy as np
import pytest
import tensorflow as tf

from gated_inpaint.layers import GatedConv2D, GatedDeconv2D, resize_nearest_align_corners


def _conv(x, layer):
    return (
        tf.nn.conv2d(x, layer.kernel, layer.strides, "SAME", dilations=layer.dilation_rate)
        + layer.bias
    )


@pytest.mark.parametrize("strides,dilation", [(1, 1), (2, 1), (1, 4)])
def test_gated_output_is_elu_features_times_sigmoid_gate(rng, strides, dilation):
    x = rng.normal(size=(2, 17, 22, 5)).astype("float32")
    layer = GatedConv2D(
        6, 3, strides=strides, dilation_rate=dilation, bias_initializer="glorot_uniform"
    )
    y = layer(x).numpy()
    raw = _conv(x, layer).numpy()
    expected = tf.nn.elu(raw[..., :6]) * tf.sigmoid(raw[..., 6:])
    assert layer.kernel.shape == (3, 3, 5, 12)
    assert y.shape == (2, -(-17 // strides), -(-22 // strides), 6)
    np.testing.assert_allclose(y, expected, atol=1e-6)


def test_relu_gate_and_ungated(rng):
    x = rng.normal(size=(1, 8, 8, 4)).astype("float32")
    relu = GatedConv2D(3, 3, activation="relu", bias_initializer="ones")
    y = relu(x)
    raw = _conv(x, relu).numpy()
    np.testing.assert_allclose(y, np.maximum(raw[..., :3], 0) * tf.sigmoid(raw[..., 3:]), atol=1e-6)
    plain = GatedConv2D(3, 3, activation=None)
    y = plain(x)
    assert plain.kernel.shape == (3, 3, 4, 3)
    np.testing.assert_allclose(y, _conv(x, plain), atol=1e-6)


@pytest.mark.parametrize("activation", ["elu", None])
@pytest.mark.parametrize("height,width", [(5, 7), (1, 1), (8, 6)])
def test_deconv_is_pixel_repeat_then_conv(rng, activation, height, width):
    x = rng.normal(size=(2, height, width, 4)).astype("float32")
    layer = GatedDeconv2D(3, activation=activation, name="up")
    layer.build(x.shape)
    layer.conv.bias.assign(rng.normal(size=layer.conv.bias.shape).astype("float32"))
    y = layer(x)
    assert layer.conv.name == "up_conv"
    repeated = np.repeat(np.repeat(x, 2, axis=1), 2, axis=2)
    np.testing.assert_array_equal(
        repeated, resize_nearest_align_corners(x, (2 * height, 2 * width))
    )
    np.testing.assert_allclose(y, layer.conv(repeated), atol=1e-5)
    assert y.shape == (2, 2 * height, 2 * width, 3)


def test_deconv_gradients_and_unknown_sizes_match_pixel_repeat_then_conv(rng):
    x = tf.constant(rng.normal(size=(1, 6, 9, 4)).astype("float32"))
    layer = GatedDeconv2D(5, name="up")
    layer.build(x.shape)
    layer.conv.bias.assign(rng.normal(size=layer.conv.bias.shape).astype("float32"))
    weight = tf.constant(rng.normal(size=(1, 12, 18, 5)).astype("float32"))

    def gradients(forward):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(forward(x) * weight)
        return tape.gradient(loss, [x, *layer.trainable_weights])

    def repeat_then_conv(inputs):
        return layer.conv(tf.repeat(tf.repeat(inputs, 2, axis=1), 2, axis=2))

    for ours, expected in zip(gradients(layer), gradients(repeat_then_conv), strict=True):
        np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-5)
    unknown = tf.function(layer, input_signature=[tf.TensorSpec([None, None, None, 4])])
    np.testing.assert_allclose(unknown(x), repeat_then_conv(x), atol=1e-5)


def test_config_round_trip_and_keras_file(tmp_path, rng):
    inputs = keras.Input((None, None, 4))
    x = GatedConv2D(6, 5, strides=2, dilation_rate=1, activation="relu", name="g")(inputs)
    outputs = GatedDeconv2D(2, name="d")(x)
    model = keras.Model(inputs, outputs)
    layer = model.get_layer("g")
    clone = GatedConv2D.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    path = str(tmp_path / "m.keras")
    model.save(path)
    restored = keras.models.load_model(path)
    data = rng.normal(size=(1, 12, 20, 4)).astype("float32")
    np.testing.assert_array_equal(model(data), restored(data))


def test_gradients_are_finite(rng):
    layer = GatedConv2D(4, 3, strides=2)
    x = tf.constant(rng.normal(size=(2, 9, 9, 3)).astype("float32"))
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_sum(layer(x) ** 2)
    grads = tape.gradient(loss, [x, *layer.trainable_weights])
    assert all(np.isfinite(g.numpy()).all() and np.abs(g.numpy()).sum() > 0 for g in grads)
