import keras
import numpy as np
import pytest
import tensorflow as tf

from gated_inpaint.layers import SpectralNorm


def _sn_conv(filters=6):
    return SpectralNorm(
        keras.layers.Conv2D(filters, 5, strides=2, padding="same", bias_initializer="ones")
    )


def test_output_is_conv_with_kernel_over_sigma(rng):
    layer = _sn_conv()
    x = rng.normal(size=(2, 16, 12, 4)).astype("float32")
    layer.build(x.shape)
    sigma, _ = layer.power_iteration()
    expected = tf.nn.conv2d(x, layer.layer.kernel / sigma, 2, "SAME") + layer.layer.bias
    np.testing.assert_allclose(layer(x), expected, atol=1e-5)


def test_power_iteration_formula(rng):
    layer = _sn_conv()
    layer.build((1, 8, 8, 4))
    w = layer.layer.kernel.numpy().reshape(-1, 6)
    u = layer.u.numpy()

    def l2n(a):
        return a / (np.sqrt((a**2).sum()) + 1e-12)

    v = l2n(u @ w.T)
    u_new = l2n(v @ w)
    sigma, u_got = layer.power_iteration()
    np.testing.assert_allclose(u_got, u_new, rtol=1e-5)
    np.testing.assert_allclose(sigma, v @ w @ u_new.T, rtol=1e-5)


def test_training_calls_update_u_and_converge_to_largest_singular_value(rng):
    layer = _sn_conv()
    x = rng.normal(size=(1, 8, 8, 4)).astype("float32")
    layer(x, training=False)
    u0 = layer.u.numpy().copy()
    layer(x, training=False)
    np.testing.assert_array_equal(layer.u.numpy(), u0)
    for _ in range(50):
        layer(x, training=True)
    assert not np.allclose(layer.u.numpy(), u0)
    largest = np.linalg.svd(layer.layer.kernel.numpy().reshape(-1, 6), compute_uv=False)[0]
    sigma, _ = layer.power_iteration()
    np.testing.assert_allclose(float(sigma[0, 0]), largest, rtol=1e-4)


def test_u_is_non_trainable_and_gradients_flow(rng):
    layer = _sn_conv()
    x = tf.constant(rng.normal(size=(2, 8, 8, 4)).astype("float32"))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(x, training=True) ** 2)
    assert [w.name for w in layer.non_trainable_weights] == ["u"]
    grads = tape.gradient(loss, layer.trainable_weights)
    assert len(grads) == 2
    assert all(np.isfinite(g.numpy()).all() and np.abs(g.numpy()).sum() > 0 for g in grads)


def test_dense_is_supported_and_other_layers_rejected(rng):
    dense = SpectralNorm(keras.layers.Dense(3, activation="relu"))
    x = rng.normal(size=(4, 5)).astype("float32")
    y = dense(x)
    sigma, _ = dense.power_iteration()
    expected = np.maximum(
        x @ (dense.layer.kernel.numpy() / sigma.numpy()) + dense.layer.bias.numpy(), 0
    )
    np.testing.assert_allclose(y, expected, atol=1e-5)
    with pytest.raises(ValueError, match="Dense or ConvND"):
        SpectralNorm(keras.layers.ReLU())
    with pytest.raises(ValueError, match="channels_last"):
        SpectralNorm(keras.layers.Conv2D(2, 3, data_format="channels_first"))


def test_keras_file_round_trip_keeps_u(tmp_path, rng):
    inputs = keras.Input((16, 16, 4))
    model = keras.Model(inputs, _sn_conv()(inputs))
    layer = model.layers[-1]
    layer.u.assign(rng.normal(size=(1, 6)).astype("float32"))
    config = layer.get_config()
    assert SpectralNorm.from_config(dict(config)).get_config()["layer"] == config["layer"]
    path = str(tmp_path / "sn.keras")
    model.save(path)
    restored = keras.models.load_model(path)
    np.testing.assert_array_equal(restored.layers[-1].u.numpy(), layer.u.numpy())
    x = rng.normal(size=(1, 16, 16, 4)).astype("float32")
    np.testing.assert_array_equal(model(x), restored(x))


def _official_kernel_gradient(kernel, bias, u, x, reference_variables):
    """d sum(sin(y)) / d kernel for neuralgym's spectral-norm conv in a TF1 graph, whose `u`
    update runs before the backward pass; `reference_variables` as TF1 made them by default."""
    graph = tf.Graph()
    with graph.as_default():
        k = tf.compat.v1.Variable(kernel, use_resource=not reference_variables)
        u_var = tf.compat.v1.Variable(u, use_resource=not reference_variables, trainable=False)
        w = tf.reshape(k, [-1, kernel.shape[-1]])

        def l2n(a):
            return a / (tf.reduce_sum(a**2) ** 0.5 + 1e-12)

        v = l2n(tf.matmul(u_var, tf.transpose(w)))
        u_new = l2n(tf.matmul(v, w))
        sigma = tf.matmul(tf.matmul(v, w), tf.transpose(u_new))
        with tf.control_dependencies([u_var.assign(u_new)]):
            w_sn = tf.reshape(w / sigma, kernel.shape)
        y = tf.nn.conv2d(x, w_sn, [1, 2, 2, 1], "SAME") + bias
        gradient = tf.gradients(tf.reduce_sum(tf.sin(y)), [k])[0]
        with tf.compat.v1.Session(graph=graph) as session:
            session.run(tf.compat.v1.global_variables_initializer())
            return session.run(gradient)


def test_training_call_kernel_gradient_is_the_official_tf1_graphs(rng):
    layer = _sn_conv()
    x = rng.normal(size=(2, 16, 12, 4)).astype("float32")
    layer.build(x.shape)
    kernel, bias, u = (w.numpy() for w in (layer.layer.kernel, layer.layer.bias, layer.u))
    official = _official_kernel_gradient(kernel, bias, u, x, reference_variables=True)
    textbook = _official_kernel_gradient(kernel, bias, u, x, reference_variables=False)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.sin(layer(x, training=True)))
    ours = tape.gradient(loss, layer.layer.kernel).numpy()

    def relative_error(a, b):
        return np.linalg.norm(a - b) / np.linalg.norm(b)

    assert relative_error(textbook, official) > 1e-3  # the read-after-write matters here
    assert relative_error(ours, official) < 1e-5
