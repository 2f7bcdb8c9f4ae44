"""`InpaintingModel.train_step` against one step of the official TF1 training graph.

The fixture folder (`GATED_INPAINT_TRAIN_PARITY_DIR`, e.g. ../shared/parity_train; its README
has every key and convention) holds one official step from parity_a's checkpoint: the D
hinge loss and its gradient, an SGD update of D with the fixture's `sgd_lr`, then the G loss
and its gradient through the updated D, and the spectral-norm `u` after each D call. Here the
same step runs through our `train_step` with `keras.optimizers.SGD` for both networks, on the
fixture's BGR batch with its one mask repeated per sample, and the weights loaded in BGR.

Tolerances (float32), each 5-10x what this port measures on the fixture:
- losses: absolute 1e-6 (measured <= 3e-8);
- `u` after each D call: absolute 1e-6 (measured <= 1.1e-7);
- gradients: relative L2 error per variable <= 5e-5 (measured: D 4.4e-6, G 1.0e-5);
- D after its SGD update: within 2 float32 ulps of `ckpt - sgd_lr * grad_d` (measured 1).
"""

import json
import os

import keras
import numpy as np
import pytest

from gated_inpaint.models import InpaintGenerator, InpaintingModel, SNPatchGANDiscriminator
from gated_inpaint.testing import official_variables
from gated_inpaint.weights.official import load_official_checkpoint

# G's update is not part of the fixture; with learning rate 1 its SGD delta is its gradient.
G_LEARNING_RATE = 1.0
LOSS_ATOL = 1e-6
U_ATOL = 1e-6
GRADIENT_RTOL = 5e-5
UPDATE_ULPS = 2
LOSSES = {  # our log -> the fixture's key
    "d_loss": "s1_loss_d",
    "g_loss": "s2_loss_g_total",
    "g_adv_loss": "s2_loss_g_adv",
    "l1_coarse": "s2_loss_l1_stage1",
    "l1_fine": "s2_loss_l1_stage2",
}


class GradientRecordingSGD(keras.optimizers.SGD):
    """Plain SGD that also keeps, at each update, the gradients it applies (by variable
    `id`) and the values of the `watched` variables (eager execution)."""

    def __init__(self, learning_rate: float, watched=()):
        super().__init__(learning_rate)
        self.watched = list(watched)
        self.recorded = []

    def apply_gradients(self, grads_and_vars):
        grads_and_vars = list(grads_and_vars)
        self.recorded.append(
            {
                "gradients": {id(v): np.asarray(g) for g, v in grads_and_vars},
                "watched": [v.numpy().copy() for v in self.watched],
            }
        )
        return super().apply_gradients(grads_and_vars)


@pytest.fixture(scope="module")
def reference(train_parity_dir):
    return dict(np.load(os.path.join(train_parity_dir, "reference.npz")))


def _fixture_key(prefix: str, official_name: str) -> str:
    return prefix + official_name.replace("/", "__")


@pytest.fixture(scope="module")
def step(train_parity_dir, reference):
    """One `train_step` from the fixture's checkpoint: its logs, the variables (by official
    name) before and after it, and what the D optimizer saw at the D update."""
    with open(os.path.join(train_parity_dir, "checks.json")) as f:
        checkpoint = os.path.join(train_parity_dir, json.load(f)["ckpt_prefix"])
    generator, discriminator = InpaintGenerator(), SNPatchGANDiscriminator()
    load_official_checkpoint(checkpoint, generator, discriminator, channel_order="bgr")
    variables = official_variables(generator, discriminator)
    before = {name: v.numpy().copy() for name, v in variables.items()}
    d_optimizer = GradientRecordingSGD(
        float(reference["sgd_lr"]), watched=[sn.u for sn in discriminator.convs]
    )
    model = InpaintingModel(generator, discriminator)
    model.compile(g_optimizer=keras.optimizers.SGD(G_LEARNING_RATE), d_optimizer=d_optimizer)
    model.build()
    image = reference["input_bgr"] / np.float32(127.5) - np.float32(1)
    mask = np.repeat(reference["mask"], len(image), axis=0)
    logs = model.train_step({"image": image, "mask": mask})
    assert len(d_optimizer.recorded) == 1, "a step must update D exactly once"
    (d_update,) = d_optimizer.recorded
    return {
        "image": image,
        "logs": {name: float(value) for name, value in logs.items()},
        "before": before,
        "after": {name: v.numpy() for name, v in variables.items()},
        "d_gradients": {
            name: d_update["gradients"][id(v)]
            for name, v in variables.items()
            if id(v) in d_update["gradients"]
        },
        "u_at_d_update": d_update["watched"],
    }


def _relative_error(actual, desired) -> float:
    actual, desired = np.asarray(actual, np.float64), np.asarray(desired, np.float64)
    return float(np.linalg.norm(actual - desired) / np.linalg.norm(desired))


def test_batch_is_the_fixtures_bgr_batch(step, reference):
    np.testing.assert_array_equal(step["image"], reference["batch_pos"])


def test_losses(step, reference):
    for ours, theirs in LOSSES.items():
        np.testing.assert_allclose(
            step["logs"][ours], reference[theirs], rtol=0, atol=LOSS_ATOL, err_msg=ours
        )


def test_discriminator_gradient_and_sgd_update(step, reference):
    keys = sorted(_fixture_key("grad_d__", name) for name in step["d_gradients"])
    assert keys == sorted(k for k in reference if k.startswith("grad_d__"))
    lr = reference["sgd_lr"]
    for name in step["d_gradients"]:
        expected = reference[_fixture_key("grad_d__", name)]
        error = _relative_error(step["d_gradients"][name], expected)
        assert error <= GRADIENT_RTOL, (name, error)
        updated = step["before"][name] - lr * expected
        ulp = np.spacing(np.abs(updated).max())
        np.testing.assert_allclose(
            step["after"][name], updated, rtol=0, atol=UPDATE_ULPS * ulp, err_msg=name
        )


def test_generator_gradient_is_the_sgd_delta(step, reference):
    names = [n for n in step["before"] if n.startswith("inpaint_net/")]
    keys = sorted(_fixture_key("grad_g__", name) for name in names)
    assert keys == sorted(k for k in reference if k.startswith("grad_g__"))
    for name in names:
        delta = np.float64(step["before"][name]) - np.float64(step["after"][name])
        error = _relative_error(delta / G_LEARNING_RATE, reference[_fixture_key("grad_g__", name)])
        assert error <= GRADIENT_RTOL, (name, error)


def test_spectral_norm_u_after_each_discriminator_call(step, reference):
    us = [n for n in step["before"] if n.endswith("/kernel_sn/u")]
    assert len(us) == len(step["u_at_d_update"])
    for name, at_d_update in zip(us, step["u_at_d_update"], strict=True):
        np.testing.assert_array_equal(
            step["before"][name], reference[_fixture_key("u_ckpt__", name)]
        )
        first = reference[_fixture_key("u_after_s1__", name)]
        np.testing.assert_allclose(at_d_update, first, rtol=0, atol=U_ATOL, err_msg=name)
        second = reference[_fixture_key("u_after_s2__", name)]
        np.testing.assert_allclose(step["after"][name], second, rtol=0, atol=U_ATOL, err_msg=name)
