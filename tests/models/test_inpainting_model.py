import keras
import numpy as np
import pytest
import tensorflow as tf

from gated_inpaint.models import InpaintGenerator, InpaintingModel, SNPatchGANDiscriminator
from gated_inpaint.testing import amplify_weights
from gated_inpaint.training.trainer import make_checkpoint

SIZE = 32


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


def _model(lr=1e-3, guided=False, **weights):
    model = InpaintingModel(
        InpaintGenerator(cnum=8, guided=guided),
        SNPatchGANDiscriminator(cnum=8, guided=guided),
        **weights,
    )
    model.compile(
        g_optimizer=keras.optimizers.Adam(lr, beta_1=0.5),
        d_optimizer=keras.optimizers.Adam(lr, beta_1=0.5),
    )
    model.build()
    return model


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


def test_losses_follow_the_official_formulas():
    data = _batch()
    model = _model(lr=0.0, gan_weight=0.5, l1_coarse_weight=2.0, l1_fine_weight=3.0)
    amplify_weights(model.generator)
    logs = model.train_step(data)
    x1, x2 = model.generator(data["image"], data["mask"])
    mask, image = data["mask"], data["image"]
    complete = x2 * mask + image * (1 - mask)
    fake = model.discriminator(np.concatenate([complete, mask], -1), training=False)
    l1_coarse = np.abs(image - x1).mean()
    l1_fine = np.abs(image - x2).mean()
    np.testing.assert_allclose(logs["l1_coarse"], l1_coarse, rtol=1e-5)
    np.testing.assert_allclose(logs["l1_fine"], l1_fine, rtol=1e-5)
    # The G-step D call advanced u once more than our check call, so compare loosely.
    np.testing.assert_allclose(logs["g_adv_loss"], -np.mean(fake), atol=1e-3)
    expected_g = 0.5 * logs["g_adv_loss"] + 2.0 * l1_coarse + 3.0 * l1_fine
    np.testing.assert_allclose(logs["g_loss"], expected_g, rtol=1e-5)


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


def _set_same_weights(target, source):
    for t, s in zip(target.generator.weights, source.generator.weights, strict=True):
        t.assign(s.numpy())
    for t, s in zip(target.discriminator.weights, source.discriminator.weights, strict=True):
        t.assign(s.numpy())


def test_mirrored_strategy_matches_one_device():
    data = _batch(batch=4)
    dataset = tf.data.Dataset.from_tensors(data).repeat()
    single = _model()
    amplify_weights(single.generator)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    with strategy.scope():
        mirrored = _model()
    _set_same_weights(mirrored, single)
    h1 = single.fit(dataset, steps_per_epoch=2, verbose=0).history
    h2 = mirrored.fit(dataset, steps_per_epoch=2, verbose=0).history
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
