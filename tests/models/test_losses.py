import numpy as np

from gated_inpaint.models import losses


def test_hinge_losses_match_the_official_formulas(rng):
    real = rng.normal(size=(3, 40)).astype("float32")
    fake = rng.normal(size=(3, 40)).astype("float32")
    expected_d = 0.5 * np.maximum(1 - real, 0).mean() + 0.5 * np.maximum(1 + fake, 0).mean()
    np.testing.assert_allclose(losses.discriminator_hinge_loss(real, fake), expected_d, rtol=1e-6)
    np.testing.assert_allclose(losses.generator_hinge_loss(fake), -fake.mean(), atol=1e-7)


def test_l1_is_a_whole_image_mean(rng):
    a = rng.uniform(-1, 1, size=(2, 8, 8, 3)).astype("float32")
    b = rng.uniform(-1, 1, size=(2, 8, 8, 3)).astype("float32")
    np.testing.assert_allclose(losses.l1_loss(a, b), np.abs(a - b).mean(), rtol=1e-6)
    assert float(losses.l1_loss(a, a)) == 0.0
