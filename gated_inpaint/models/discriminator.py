"""The SN-PatchGAN discriminator of DeepFill v2."""

from __future__ import annotations

import keras
from keras import ops

from gated_inpaint.layers import SpectralNorm

LEAKY_RELU_SLOPE = 0.2


@keras.saving.register_keras_serializable(package="gated_inpaint")
class SNPatchGANDiscriminator(keras.Model):
    """Six spectrally normalised 5x5 stride-2 convolutions, each followed by leaky ReLU(0.2).

    The output is the flattened `[B, H/64 * W/64 * 4*cnum]` feature map (no final
    1-channel conv and no sigmoid: every element is a patch score for the hinge loss,
    as in the official code). Layer names `conv1` ... `conv6` are the official TF1
    names; each holds `kernel`, `bias` and the power-iteration vector `u`. With
    `cnum=64` it has 5,946,816 trainable parameters (5,948,416 guided) plus 1,216
    `u` values.

    Args:
        cnum: width of the first layer (official 64); the others use 2x and 4x.
        guided: whether the input carries an edge channel (5 input channels, else 4).
        **kwargs: base `keras.Model` arguments.

    Call args:
        inputs: `[B, H, W, 4]` = concat(image in [-1, 1], mask in {0, 1}) along
            channels, plus the edge channel when `guided`.
        training: a training call updates every `u` (one power iteration per call).

    Returns:
        `[B, ceil(H/64) * ceil(W/64) * 4*cnum]` patch scores (row-major over h, w, c).

    Example:
    >>> import numpy as np
    >>> d = SNPatchGANDiscriminator(cnum=8)
    >>> d(np.zeros((2, 128, 192, 4), "float32")).shape
    TensorShape([2, 192])

    Reference: arXiv 1806.03589, Section 3.3 (SN-PatchGAN).
    """

    def __init__(self, cnum: int = 64, guided: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.cnum = int(cnum)
        self.guided = bool(guided)
        widths = [cnum, 2 * cnum, 4 * cnum, 4 * cnum, 4 * cnum, 4 * cnum]
        self.convs = [
            SpectralNorm(
                keras.layers.Conv2D(f, 5, strides=2, padding="same", name=f"conv{i}"),
                name=f"conv{i}",
            )
            for i, f in enumerate(widths, start=1)
        ]

    @property
    def input_channels(self) -> int:
        """Channels the discriminator expects: image (3) + mask (1) [+ edge (1)]."""
        return 5 if self.guided else 4

    def build(self, input_shape):
        if input_shape[-1] != self.input_channels:
            raise ValueError(
                f"SNPatchGANDiscriminator(guided={self.guided}) expects "
                f"{self.input_channels} input channels, got shape {tuple(input_shape)}."
            )
        shape = tuple(input_shape)
        for conv in self.convs:
            conv.build(shape)
            shape = conv.compute_output_shape(shape)
        self.built = True

    def call(self, inputs, training=None):
        x = inputs
        for conv in self.convs:
            x = ops.leaky_relu(conv(x, training=training), negative_slope=LEAKY_RELU_SLOPE)
        return ops.reshape(x, (ops.shape(x)[0], -1))

    def get_config(self):
        config = super().get_config()
        config.update({"cnum": self.cnum, "guided": self.guided})
        return config
