"""Parity with the official DeepFill v2 TF1 graph on ../shared/parity_a (see its README).

Tolerances are the fixture README's: float tensors, D output and losses atol 1e-5;
u and sigma atol 1e-6; uint8 output exact in known pixels, |diff| <= 1 in the hole.
"""

import os

import numpy as np
import pytest

from gated_inpaint.layers import ContextualAttention, resize_nearest_align_corners
from gated_inpaint.models import InpaintGenerator, SNPatchGANDiscriminator, losses
from gated_inpaint.weights.official import load_official_checkpoint

BATCH = 2


@pytest.fixture(scope="module")
def reference(parity_dir):
    return dict(np.load(os.path.join(parity_dir, "reference.npz")))


def _networks(parity_dir, channel_order):
    g, d = InpaintGenerator(), SNPatchGANDiscriminator()
    load_official_checkpoint(os.path.join(parity_dir, "ckpt"), g, d, channel_order=channel_order)
    return g, d


@pytest.fixture(scope="module")
def official_bgr(parity_dir, reference):
    """Networks loaded as they are, and their generator outputs on the fixture input."""
    g, d = _networks(parity_dir, "bgr")
    batch_pos = reference["input_bgr"] / np.float32(127.5) - np.float32(1)
    mask = np.repeat(reference["mask"], BATCH, axis=0)
    x1, x2 = g(batch_pos, mask)
    return {
        "g": g,
        "d": d,
        "batch_pos": batch_pos,
        "mask": mask,
        "x1": x1.numpy(),
        "x2": x2.numpy(),
    }


def test_mask_resize_and_contextual_attention(reference):
    mask_s = resize_nearest_align_corners(reference["mask"], (64, 64))
    np.testing.assert_array_equal(mask_s, reference["mask_s"])
    out = ContextualAttention()(reference["pmconv6_out"], reference["mask_s"])
    np.testing.assert_allclose(out, reference["ca_out"], atol=1e-5)


def test_generator_stages(official_bgr, reference):
    np.testing.assert_allclose(official_bgr["x1"], reference["x_stage1"], atol=1e-5)
    np.testing.assert_allclose(official_bgr["x2"], reference["x_stage2"], atol=1e-5)


def test_uint8_output(official_bgr, reference, parity_dir):
    mask, x2, batch_pos = official_bgr["mask"], official_bgr["x2"], official_bgr["batch_pos"]
    complete = x2 * mask + batch_pos * (1 - mask) * (1 - mask)
    ours = np.clip((complete + np.float32(1)) * np.float32(127.5), 0, 255).astype(np.uint8)[
        ..., ::-1
    ]
    official = np.load(os.path.join(parity_dir, "output_uint8.npz"))["output_uint8_rgb"]
    hole = np.broadcast_to(mask > 0, ours.shape)
    np.testing.assert_array_equal(ours[~hole], official[~hole])
    diff = np.abs(ours.astype(int) - official.astype(int))[hole]
    assert diff.max() <= 1
    assert (diff > 0).mean() < 1e-3


def test_discriminator_two_training_calls(official_bgr, reference):
    d = official_bgr["d"]
    for i, sn in enumerate(d.convs, start=1):
        np.testing.assert_array_equal(sn.u.numpy(), reference[f"u_before_conv{i}"])
        sigma, _ = sn.power_iteration()
        np.testing.assert_allclose(sigma, reference[f"sn_sigma_conv{i}"], atol=1e-6)
    np.testing.assert_allclose(
        d(reference["d_input"], training=True), reference["d_out"], atol=1e-5
    )
    for i, sn in enumerate(d.convs, start=1):
        np.testing.assert_allclose(sn.u.numpy(), reference[f"u_after_conv{i}"], atol=1e-6)
    second = d(reference["d_input"], training=True)
    np.testing.assert_allclose(second, reference["d_out_2nd_call"], atol=1e-5)
    for i, sn in enumerate(d.convs, start=1):
        np.testing.assert_allclose(sn.u.numpy(), reference[f"u_after_2nd_call_conv{i}"], atol=1e-6)


def test_discriminator_input_is_real_then_completed(official_bgr, reference):
    mask, batch_pos = official_bgr["mask"], official_bgr["batch_pos"]
    complete = official_bgr["x2"] * mask + batch_pos * (1 - mask) * (1 - mask)
    d_input = np.concatenate(
        [np.concatenate([batch_pos, complete], 0), np.concatenate([mask, mask], 0)], axis=-1
    )
    np.testing.assert_allclose(d_input, reference["d_input"], atol=1e-5)


def test_losses(official_bgr, reference, parity_dir):
    g, d = _networks(parity_dir, "bgr")  # fresh u: the losses come from the first D call
    real, fake = np.split(d(reference["d_input"], training=True).numpy(), 2)
    batch_pos, x1, x2 = official_bgr["batch_pos"], official_bgr["x1"], official_bgr["x2"]
    l1_coarse = losses.l1_loss(batch_pos, x1)
    l1_fine = losses.l1_loss(batch_pos, x2)
    g_adv = losses.generator_hinge_loss(fake)
    computed = {
        "loss_d": losses.discriminator_hinge_loss(real, fake),
        "loss_g_adv": g_adv,
        "loss_l1_stage1": l1_coarse,
        "loss_l1_stage2": l1_fine,
        "loss_ae": l1_coarse + l1_fine,
        "loss_g_total": g_adv + l1_coarse + l1_fine,
    }
    for key, value in computed.items():
        np.testing.assert_allclose(value, reference[key], atol=1e-5, err_msg=key)


def test_rgb_conversion_gives_the_flipped_official_outputs(parity_dir, reference):
    g, d = _networks(parity_dir, "rgb")
    rgb = reference["input_bgr"][..., ::-1] / np.float32(127.5) - np.float32(1)
    mask = np.repeat(reference["mask"], BATCH, axis=0)
    x1, x2 = g(rgb, mask)
    np.testing.assert_allclose(x1.numpy()[..., ::-1], reference["x_stage1"], atol=1e-5)
    np.testing.assert_allclose(x2.numpy()[..., ::-1], reference["x_stage2"], atol=1e-5)
    d_input = reference["d_input"]
    d_input_rgb = np.concatenate([d_input[..., 2::-1], d_input[..., 3:]], axis=-1)
    np.testing.assert_allclose(d(d_input_rgb, training=True), reference["d_out"], atol=1e-5)


def test_inference_graph_on_rgb_photos(parity_dir, reference):
    from gated_inpaint.inference.uint8_graph import inpaint_uint8

    g, _ = _networks(parity_dir, "rgb")
    rgb = reference["input_bgr"][..., ::-1].astype(np.uint8)
    mask = np.repeat(reference["mask"], BATCH, axis=0)
    ours = inpaint_uint8(g, rgb, mask).numpy()
    official = np.load(os.path.join(parity_dir, "output_uint8.npz"))["output_uint8_rgb"]
    hole = np.broadcast_to(mask > 0, ours.shape)
    np.testing.assert_array_equal(ours[~hole], rgb[~hole])  # unchanged, unlike the official v-1
    diff = np.abs(ours.astype(int) - official.astype(int))[hole]
    assert diff.max() <= 1 and (diff > 0).mean() < 1e-3
