import keras
import numpy as np
import pytest
import tensorflow as tf

from gated_inpaint.inference.precision import dtype_policy
from gated_inpaint.models import InpaintGenerator, InpaintingModel, SNPatchGANDiscriminator
from gated_inpaint.testing import amplify_weights
from gated_inpaint.training.trainer import make_checkpoint

SIZE = 32
# Tolerances between train_step and the official step below (same float32 ops, other order).
LOSS_RTOL = 1e-6
DELTA_RTOL = 1e-4  # relative L2 error of each variable's change
U_ATOL = 1e-6


def _batch(batch=4, guided=False):
    ramp = np.linspace(-1, 1, SIZE, dtype="float32")
    image = ramp[None, :, None, None] * np.array([1.0, 0.5, -0.8], "float32")
    image = np.tile(image, (batch, 1, SIZE, 1))
    image = image * np.linspace(0.5, 1, batch, dtype="float32")[:, None, None, None]
    mask = np.zeros((batch, SIZE, SIZE, 1), "float32")
    for i in range(batch):
        mask[i, 4 + i : 16 + i, 6 + 2 * i : 20 + i] = 1
    data = {"image": image, "mask": mask}
    if guided:
        data["edge"] = (
            (np.indices((SIZE, SIZE)).sum(0) % 7 == 0)[None, ..., None]
            .astype("float32")
            .repeat(batch, 0)
        )
    return data


def _model(lr=1e-3, guided=False, g_optimizer=None, d_optimizer=None, **weights):
    """A tiny model, compiled with the given optimizers (default: Adam(lr) for each)."""
    model = InpaintingModel(
        InpaintGenerator(cnum=8, guided=guided),
        SNPatchGANDiscriminator(cnum=8, guided=guided),
        **weights,
    )
    model.compile(
        g_optimizer=g_optimizer or keras.optimizers.Adam(lr, beta_1=0.5),
        d_optimizer=d_optimizer or keras.optimizers.Adam(lr, beta_1=0.5),
    )
    model.build()
    return model


def _amplified(model):
    """`model` with amplified weights (D's biases too, so real and completed images score
    apart)."""
    amplify_weights(model.generator)
    amplify_weights(model.discriminator, seed=1)
    return model


def _sgd_model(g_lr, d_lr, guided=False, **weights):
    """A tiny model trained by plain SGD, with amplified weights."""
    g_optimizer, d_optimizer = keras.optimizers.SGD(g_lr), keras.optimizers.SGD(d_lr)
    return _amplified(
        _model(guided=guided, g_optimizer=g_optimizer, d_optimizer=d_optimizer, **weights)
    )


def _network_copies(model):
    """New networks with the model's weights (and spectral-norm `u`)."""
    g = InpaintGenerator(cnum=8, guided=model.generator.guided)
    d = SNPatchGANDiscriminator(cnum=8, guided=model.discriminator.guided)
    g.build((None, None, None, 3))
    d.build((None, None, None, d.input_channels))
    g.set_weights(model.generator.get_weights())
    d.set_weights(model.discriminator.get_weights())
    return g, d


def _set_same_weights(target, source):
    for t, s in zip(target.generator.weights, source.generator.weights, strict=True):
        t.assign(s.numpy())
    for t, s in zip(target.discriminator.weights, source.discriminator.weights, strict=True):
        t.assign(s.numpy())


def _sgd(lr):
    def update(variables, gradients):
        for variable, gradient in zip(variables, gradients, strict=True):
            variable.assign(variable - lr * gradient)

    return update


class SharedAdamByHand:
    """TF1's `AdamOptimizer` as the official trainer uses it, in float64: one instance serves
    D and G, so its one `beta1_power` / `beta2_power` advance at every update; `m` and `v`
    are per variable. Called as `update(variables, gradients)`."""

    def __init__(self, lr, beta1, beta2, epsilon):
        self.lr, self.beta1, self.beta2, self.epsilon = lr, beta1, beta2, epsilon
        self.beta1_power, self.beta2_power = beta1, beta2
        self.slots = {}

    def __call__(self, variables, gradients):
        lr_t = self.lr * np.sqrt(1 - self.beta2_power) / (1 - self.beta1_power)
        for variable, gradient in zip(variables, gradients, strict=True):
            g = np.float64(gradient)
            m, v = self.slots.get(id(variable), (0.0, 0.0))
            m, v = m + (g - m) * (1 - self.beta1), v + (g * g - v) * (1 - self.beta2)
            self.slots[id(variable)] = (m, v)
            variable.assign(variable.numpy() - lr_t * m / (np.sqrt(v) + self.epsilon))
        self.beta1_power *= self.beta1
        self.beta2_power *= self.beta2


def _official_step(g, d, data, update_d, update_g, gan=1.0, l1_coarse=1.0, l1_fine=1.0):
    """One step as the official training graph computes it (spec sections 5-7), written
    apart from `train_step`: D scores [real; completed] with the mask (and masked edge) tiled
    as extra channels, its halved hinge loss goes to `update_d`; then G's loss, with D
    (updated, its `u` advanced again) scoring [real; completed] once more, goes to
    `update_g`. Returns the losses by their log names."""
    image, mask = tf.constant(data["image"]), tf.constant(data["mask"])
    edge = tf.constant(data["edge"]) if "edge" in data else None
    conditioning = [mask] if edge is None else [mask, edge * mask]

    def discriminate(completed):
        rows = tf.concat([image, completed], 0)
        scores = d(
            tf.concat([rows] + [tf.tile(c, [2, 1, 1, 1]) for c in conditioning], -1), training=True
        )
        return tf.split(scores, 2)

    def complete():
        x1, x2 = g(image, mask, edge)
        return x1, x2, x2 * mask + image * (1 - mask)

    _, _, completed = complete()
    with tf.GradientTape() as tape:
        real, fake = discriminate(completed)
        d_loss = 0.5 * tf.reduce_mean(tf.nn.relu(1 - real)) + 0.5 * tf.reduce_mean(
            tf.nn.relu(1 + fake)
        )
    update_d(d.trainable_variables, tape.gradient(d_loss, d.trainable_variables))
    with tf.GradientTape() as tape:
        x1, x2, completed = complete()
        _, fake = discriminate(completed)
        losses = {
            "d_loss": d_loss,
            "g_adv_loss": -tf.reduce_mean(fake),
            "l1_coarse": tf.reduce_mean(tf.abs(image - x1)),
            "l1_fine": tf.reduce_mean(tf.abs(image - x2)),
        }
        losses["g_loss"] = (
            gan * losses["g_adv_loss"]
            + l1_coarse * losses["l1_coarse"]
            + l1_fine * losses["l1_fine"]
        )
    update_g(g.trainable_variables, tape.gradient(losses["g_loss"], g.trainable_variables))
    return {name: float(value) for name, value in losses.items()}


def _trainable(*networks):
    """Copies of the networks' trainable weights."""
    return [w.numpy().copy() for n in networks for w in n.trainable_weights]


def _assert_same_changes(before, after, expected_after, rtol=DELTA_RTOL):
    """Each variable changed from `before` as in `expected_after`, to `rtol` (relative L2)."""
    for i, (b, a, e) in enumerate(zip(before, after, expected_after, strict=True)):
        change, expected = np.float64(a) - b, np.float64(e) - b
        error = np.linalg.norm(change - expected) / np.linalg.norm(expected)
        assert error <= rtol, f"variable {i} {b.shape}: relative error of its change {error:.3g}"


def _l1(model, data):
    x1, x2 = model.generator(data["image"], data["mask"], data.get("edge"))
    return float(np.abs(x1 - data["image"]).mean() + np.abs(x2 - data["image"]).mean())


def test_training_lowers_l1_on_a_tiny_batch():
    data = _batch()
    model = _model()
    before = _l1(model, data)
    history = model.fit(tf.data.Dataset.from_tensors(data).repeat(), steps_per_epoch=30, verbose=0)
    assert set(history.history) == {"d_loss", "g_loss", "g_adv_loss", "l1_coarse", "l1_fine"}
    after = _l1(model, data)
    assert after < 0.9 * before, (before, after)


@pytest.mark.parametrize("guided", [False, True], ids=["plain", "guided"])
def test_losses_and_updates_follow_the_official_step(guided):
    """Losses, both SGD updates and `u` against `_official_step`: a flipped adversarial sign,
    real and fake swapped, D updated in the G step, another guided channel order or a G-step
    D call that does not advance `u` each make this fail."""
    data = _batch(guided=guided)
    weights = dict(gan_weight=0.5, l1_coarse_weight=2.0, l1_fine_weight=3.0)
    model = _sgd_model(g_lr=0.5, d_lr=2.0, guided=guided, **weights)
    g, d = _network_copies(model)
    expected = _official_step(g, d, data, _sgd(2.0), _sgd(0.5), 0.5, 2.0, 3.0)
    before = _trainable(model.generator, model.discriminator)
    logs = model.train_step(data)
    for name, value in expected.items():
        np.testing.assert_allclose(logs[name], value, rtol=LOSS_RTOL, err_msg=name)
    expected_g = 0.5 * logs["g_adv_loss"] + 2.0 * logs["l1_coarse"] + 3.0 * logs["l1_fine"]
    np.testing.assert_allclose(logs["g_loss"], expected_g, rtol=1e-5)
    after = _trainable(model.generator, model.discriminator)
    _assert_same_changes(before, after, _trainable(g, d))
    for ours, official in zip(model.discriminator.convs, d.convs, strict=True):
        np.testing.assert_allclose(ours.u.numpy(), official.u.numpy(), rtol=0, atol=U_ATOL)


def test_wraps_networks_that_are_already_built_and_loaded():
    g, d = _network_copies(_amplified(_model()))  # as after load_official_checkpoint
    expected = [w.numpy().copy() for w in g.weights + d.weights]
    model = InpaintingModel(g, d)
    model.compile(g_optimizer=keras.optimizers.Adam(), d_optimizer=keras.optimizers.Adam())
    model.build()
    for w, e in zip(model.generator.weights + model.discriminator.weights, expected, strict=True):
        np.testing.assert_array_equal(w.numpy(), e)
    # iterations, learning rate, and m and v for each variable
    assert len(model.d_optimizer.variables) == 2 + 2 * len(d.trainable_weights)


def test_d_step_then_g_step_update_only_their_network():
    data = _batch()
    model = _model()
    g_before = [w.numpy().copy() for w in model.generator.weights]
    d_before = [w.numpy().copy() for w in model.discriminator.trainable_weights]
    model.train_step(data)
    assert model.g_optimizer.iterations.numpy() == 1 == model.d_optimizer.iterations.numpy()
    g_after = model.generator.weights
    assert all(not np.array_equal(w.numpy(), b) for w, b in zip(g_after, g_before, strict=True))
    d_after = model.discriminator.trainable_weights
    assert all(not np.array_equal(w.numpy(), b) for w, b in zip(d_after, d_before, strict=True))


@pytest.mark.parametrize("frozen", ["generator", "discriminator"])
def test_a_network_whose_optimizer_has_learning_rate_0_stays_exactly_unchanged(frozen):
    model = _sgd_model(
        g_lr=0.0 if frozen == "generator" else 0.5, d_lr=0.0 if frozen == "discriminator" else 2.0
    )
    other = "discriminator" if frozen == "generator" else "generator"
    before = {name: _trainable(getattr(model, name)) for name in (frozen, other)}
    model.train_step(_batch())
    for b, a in zip(before[frozen], _trainable(getattr(model, frozen)), strict=True):
        np.testing.assert_array_equal(a, b)
    changed = zip(before[other], _trainable(getattr(model, other)), strict=True)
    assert all(not np.array_equal(a, b) for b, a in changed)


def test_one_shared_adam_follows_the_official_schedule():
    """One Adam for both networks (the official trainer; `--official_optimizer`): two steps
    against TF1's Adam by hand, whose beta powers advance at each of the four updates, so
    step t's D update is bias-corrected with beta**(2t-1) and its G update with beta**(2t)."""
    data = _batch()
    adam = keras.optimizers.Adam(1e-3, beta_1=0.5, beta_2=0.999, epsilon=1e-8)
    model = _amplified(_model(g_optimizer=adam, d_optimizer=adam))
    g, d = _network_copies(model)
    by_hand = SharedAdamByHand(1e-3, beta1=0.5, beta2=0.999, epsilon=1e-8)
    before = _trainable(model.generator, model.discriminator)
    for _ in range(2):
        _official_step(g, d, data, update_d=by_hand, update_g=by_hand)
        model.train_step(data)
    assert by_hand.beta1_power == 0.5**5
    assert int(adam.iterations.numpy()) == 4 and model.completed_steps == 2
    after = _trainable(model.generator, model.discriminator)
    _assert_same_changes(before, after, _trainable(g, d))


def test_float16_discriminator_with_loss_scaling_updates_as_float32():
    """The `mixed_float16` path (loss scaling) on CPU: D computes in float16, G in float32
    (TensorFlow's CPU kernels have no float16 gradient for G's dilated convolutions)."""
    data = _batch()
    exact = _sgd_model(g_lr=0.5, d_lr=2.0)
    with dtype_policy("float16"):
        discriminator = SNPatchGANDiscriminator(cnum=8)
    scaled = keras.optimizers.LossScaleOptimizer
    model = InpaintingModel(InpaintGenerator(cnum=8), discriminator)
    model.compile(
        g_optimizer=scaled(keras.optimizers.SGD(0.5)), d_optimizer=scaled(keras.optimizers.SGD(2.0))
    )
    model.build()
    _set_same_weights(model, exact)
    before = {name: _trainable(getattr(exact, name)) for name in ("generator", "discriminator")}
    logs, expected = model.train_step(data), exact.train_step(data)
    assert discriminator.compute_dtype == "float16"
    assert float(model.d_optimizer.dynamic_scale.numpy()) == 2.0**15  # no overflow, no skip
    assert (
        int(model.d_optimizer.iterations.numpy()) == 1 == int(model.g_optimizer.iterations.numpy())
    )
    for name, value in expected.items():
        np.testing.assert_allclose(logs[name], value, rtol=1e-4, err_msg=name)
    # float16 D: its updates within 20 % (measured <= 7 %); G's within 0.1 %.
    for name, rtol in (("generator", 1e-3), ("discriminator", 0.2)):
        network, twin = getattr(model, name), getattr(exact, name)
        _assert_same_changes(before[name], _trainable(network), _trainable(twin), rtol)


def test_mirrored_strategy_matches_one_device(mirrored_strategy):
    """Plain SGD, so a step's change is proportional to the gradient: without the
    `1 / num_replicas` loss scaling the summed replica gradients would double it."""
    data = _batch(batch=4)
    dataset = tf.data.Dataset.from_tensors(data).repeat()
    single = _sgd_model(g_lr=0.5, d_lr=2.0)
    with mirrored_strategy.scope():
        mirrored = _model(
            g_optimizer=keras.optimizers.SGD(0.5), d_optimizer=keras.optimizers.SGD(2.0)
        )
    _set_same_weights(mirrored, single)
    before = _trainable(single.generator, single.discriminator)
    h1 = single.fit(dataset, steps_per_epoch=2, verbose=0).history
    h2 = mirrored.fit(dataset, steps_per_epoch=2, verbose=0).history
    after = _trainable(mirrored.generator, mirrored.discriminator)
    _assert_same_changes(before, after, _trainable(single.generator, single.discriminator), 1e-3)
    for name in h1:
        np.testing.assert_allclose(h2[name], h1[name], rtol=1e-4, atol=1e-5, err_msg=name)
    for a, b in zip(mirrored.generator.weights, single.generator.weights, strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-5)
    for a, b in zip(mirrored.discriminator.weights, single.discriminator.weights, strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-5, err_msg=a.path)


def test_checkpoint_holds_both_optimizers_and_u(tmp_path):
    data = _batch()
    model = _model()
    model.fit(tf.data.Dataset.from_tensors(data).repeat(), steps_per_epoch=2, verbose=0)
    path = make_checkpoint(model).save(str(tmp_path / "ckpt"))
    restored = _model()
    make_checkpoint(restored).restore(path).assert_existing_objects_matched()
    for opt in ("g_optimizer", "d_optimizer"):
        ours, theirs = getattr(restored, opt).variables, getattr(model, opt).variables
        assert len(ours) == len(theirs) > 2
        for a, b in zip(ours, theirs, strict=True):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert int(restored.g_optimizer.iterations.numpy()) == 2
    networks = ("generator", "discriminator")
    for ours, theirs in [
        (getattr(restored, n).weights, getattr(model, n).weights) for n in networks
    ]:
        for a, b in zip(ours, theirs, strict=True):
            np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.path)


def test_evaluate_reports_l1_psnr_ssim():
    data = _batch()
    model = _model()
    amplify_weights(model.generator)
    metrics = model.evaluate(tf.data.Dataset.from_tensors(data), return_dict=True, verbose=0)
    complete = model(data).numpy()
    target, output = (data["image"] + 1) / 2, np.clip((complete + 1) / 2, 0, 1)
    np.testing.assert_allclose(metrics["l1"], np.abs(target - output).mean(), rtol=1e-5)
    mse = ((target - output) ** 2).mean(axis=(1, 2, 3))
    np.testing.assert_allclose(metrics["psnr"], np.mean(10 * np.log10(1 / mse)), rtol=1e-4)
    assert 0 < metrics["ssim"] < 1


def test_guided_model_trains_with_edges():
    data = _batch(guided=True)
    model = _model(guided=True)
    logs = model.train_step(data)
    assert np.isfinite([float(v) for v in logs.values()]).all()
    with pytest.raises(ValueError, match="guided"):
        InpaintingModel(InpaintGenerator(cnum=8, guided=True), SNPatchGANDiscriminator(cnum=8))
