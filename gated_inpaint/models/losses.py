"""DeepFill v2 losses, exactly as the official training graph (spec section 6).

All losses are plain means over every element; under `tf.distribute` the caller
scales them by `1 / num_replicas_in_sync` before taking gradients.
"""

from __future__ import annotations

from keras import ops


def discriminator_hinge_loss(real_scores, fake_scores):
    """SN-PatchGAN hinge loss of D: `0.5*mean(relu(1 - real)) + 0.5*mean(relu(1 + fake))`.

    Args:
        real_scores: `[B, N]` discriminator output on real images.
        fake_scores: `[B, N]` discriminator output on completed images.

    Returns:
        Scalar loss (the official code halves both terms).
    """
    return 0.5 * ops.mean(ops.relu(1.0 - real_scores)) + 0.5 * ops.mean(ops.relu(1.0 + fake_scores))


def generator_hinge_loss(fake_scores):
    """Adversarial loss of G: `-mean(fake_scores)` over every element of `[B, N]`."""
    return -ops.mean(fake_scores)


def l1_loss(target, output):
    """Mean absolute error over every pixel and channel (whole image, no mask weighting)."""
    return ops.mean(ops.abs(target - output))
