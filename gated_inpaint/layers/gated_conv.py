"""Gated convolution (Yu et al., "Free-Form Image Inpainting with Gated Convolution", ICCV 2019)."""

from __future__ import annotations

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="gated_inpaint")
class GatedConv2D(keras.layers.Layer):
    """Gated 2-D convolution: `act(features) * sigmoid(gate)`.

    A convolution with `2 * filters` outputs whose channels are `[features | gate]`
    (features first, as in the official DeepFill v2 code), so the layer outputs
    `filters` channels. With `activation=None` the layer is an ordinary
    ungated convolution with `filters` outputs (the official output layers `conv17`
    and `allconv17`). Padding is TensorFlow `"same"` (for stride 2 on an even input the
    extra pad goes at the bottom/right). The weights are `kernel`
    `[k, k, C_in, 2 * filters]` (or `filters` when ungated) and `bias`, the layout of
    the official TF1 checkpoints.

    Args:
        filters: int, output channels after gating.
        kernel_size: int, square kernel size.
        strides: int, convolution stride.
        dilation_rate: int, dilation of the kernel.
        activation: activation of the feature half, e.g. `"elu"` (default) or
            `"relu"`; `None` gives a plain convolution without a gate.
        kernel_initializer, bias_initializer: initialisers (defaults as TF1:
            glorot-uniform and zeros).
        **kwargs: base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Input shape: `[B, H, W, C_in]`. Output shape: `[B, ceil(H/s), ceil(W/s), filters]`.

    Example:
    >>> import numpy as np
    >>> layer = GatedConv2D(16, 3, strides=2)
    >>> tuple(layer(np.zeros((2, 32, 48, 5), "float32")).shape)
    (2, 16, 24, 16)

    Reference: arXiv 1806.03589, Section 3.2.
    """

    def __init__(
        self,
        filters: int,
        kernel_size: int,
        strides: int = 1,
        dilation_rate: int = 1,
        activation: str | None = "elu",
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.kernel_size = int(kernel_size)
        self.strides = int(strides)
        self.dilation_rate = int(dilation_rate)
        self.activation = keras.activations.get(activation) if activation else None
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)

    @property
    def gated(self) -> bool:
        """Whether the output is `act(features) * sigmoid(gate)` (else a plain conv)."""
        return self.activation is not None

    def build(self, input_shape):
        conv_filters = 2 * self.filters if self.gated else self.filters
        self.kernel = self.add_weight(
            name="kernel",
            shape=(self.kernel_size, self.kernel_size, input_shape[-1], conv_filters),
            initializer=self.kernel_initializer,
        )
        self.bias = self.add_weight(
            name="bias", shape=(conv_filters,), initializer=self.bias_initializer
        )

    def call(self, inputs):
        if not self.gated:
            return self._conv(inputs, self.kernel, self.bias)
        # Two convolutions over the halves of the kernel instead of one and a split: the
        # same values, without copying the output apart, and each conv + bias + activation
        # is a pattern TensorFlow's graph optimiser fuses into one oneDNN call.
        half = self.filters
        features = self._conv(inputs, self.kernel[..., :half], self.bias[:half])
        gate = self._conv(inputs, self.kernel[..., half:], self.bias[half:])
        return self.activation(features) * tf.sigmoid(gate)

    def _conv(self, inputs, kernel, bias):
        x = tf.nn.conv2d(
            inputs,
            tf.cast(kernel, inputs.dtype),
            strides=self.strides,
            padding="SAME",
            dilations=self.dilation_rate,
        )
        return tf.nn.bias_add(x, tf.cast(bias, inputs.dtype))

    def compute_output_shape(self, input_shape):
        def out(n):
            return None if n is None else -(-n // self.strides)

        return (input_shape[0], out(input_shape[1]), out(input_shape[2]), self.filters)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "kernel_size": self.kernel_size,
                "strides": self.strides,
                "dilation_rate": self.dilation_rate,
                "activation": keras.activations.serialize(self.activation)
                if self.activation
                else None,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            }
        )
        return config


@keras.saving.register_keras_serializable(package="gated_inpaint")
class GatedDeconv2D(keras.layers.Layer):
    """x2 nearest-neighbour upsampling followed by a 3x3 `GatedConv2D` (official `gen_deconv`).

    The inner convolution is named `<name>_conv`, as the official TF1 scope
    `<name>/<name>_conv`. For an exact x2 upsample, align-corners nearest resizing
    equals pixel repetition, which is what this layer does.

    Args:
        filters: int, output channels after gating.
        activation: activation of the feature half (default `"elu"`).
        **kwargs: base `keras.layers.Layer` arguments.

    Input shape: `[B, H, W, C_in]`. Output shape: `[B, 2H, 2W, filters]`.

    Example:
    >>> import numpy as np
    >>> tuple(GatedDeconv2D(8)(np.zeros((1, 16, 24, 4), "float32")).shape)
    (1, 32, 48, 8)

    Reference: arXiv 1806.03589; official `gen_deconv`.
    """

    def __init__(self, filters: int, activation: str | None = "elu", **kwargs):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.activation = activation
        self.upsample = keras.layers.UpSampling2D(2, interpolation="nearest")
        self.conv = GatedConv2D(self.filters, 3, activation=activation, name=f"{self.name}_conv")

    def build(self, input_shape):
        up_shape = self.upsample.compute_output_shape(input_shape)
        self.conv.build(up_shape)

    def call(self, inputs):
        return self.conv(self.upsample(inputs))

    def compute_output_shape(self, input_shape):
        return self.conv.compute_output_shape(self.upsample.compute_output_shape(input_shape))

    def get_config(self):
        config = super().get_config()
        config.update({"filters": self.filters, "activation": self.activation})
        return config
