"""Gated convolution (Yu et al., "Free-Form Image Inpainting with Gated Convolution", ICCV 2019)."""

from __future__ import annotations

import keras
import tensorflow as tf

from gated_inpaint.layers.upsample_conv import interleave_phases, upsample_conv_phases


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
        return self.combine([self._conv(inputs, k, b) for k, b in self.kernel_parts()])

    def kernel_parts(self) -> list[tuple[tf.Tensor, tf.Tensor]]:
        """`[(kernel, bias)]` of the features and of the gate (one pair when ungated).

        Two convolutions over the halves of the kernel instead of one and a split: the same
        values, without copying the output apart, and each conv + bias + activation is a
        pattern TensorFlow's graph optimiser fuses into one oneDNN call.
        """
        if not self.gated:
            return [(self.kernel, self.bias)]
        half = self.filters
        return [
            (self.kernel[..., :half], self.bias[:half]),
            (self.kernel[..., half:], self.bias[half:]),
        ]

    def combine(self, outputs: list[tf.Tensor]) -> tf.Tensor:
        """`act(features) * sigmoid(gate)` from the conv outputs of `kernel_parts` (the
        output itself when ungated). Elementwise, so it also applies to stacked phases."""
        if not self.gated:
            return outputs[0]
        features, gate = outputs
        return self.activation(features) * tf.sigmoid(gate)

    def _conv(self, inputs, kernel, bias):
        padding = "SAME"
        if self.dilation_rate > 1 and self.strides == 1:
            # SAME padding written out: ONNX Runtime refuses SAME with dilation at unknown
            # sizes, and LiteRT's converter would wrap the conv in space-to-batch ops.
            total = (self.kernel_size - 1) * self.dilation_rate
            pad = [total // 2, total - total // 2]
            inputs = tf.pad(inputs, [[0, 0], pad, pad, [0, 0]])
            padding = "VALID"
        x = tf.nn.conv2d(
            inputs,
            tf.cast(kernel, inputs.dtype),
            strides=self.strides,
            padding=padding,
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
    equals pixel repetition. The layer computes the same values without upsampling: as
    the four output phases of the convolution on the small map (see
    `gated_inpaint.layers.upsample_conv`), which takes 4/9 of the multiply-adds.

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
        self.conv = GatedConv2D(self.filters, 3, activation=activation, name=f"{self.name}_conv")

    def build(self, input_shape):
        self.conv.build(_upsampled(input_shape))

    def call(self, inputs):
        phases = [upsample_conv_phases(inputs, k, b) for k, b in self.conv.kernel_parts()]
        return interleave_phases(self.conv.combine(phases))

    def compute_output_shape(self, input_shape):
        return self.conv.compute_output_shape(_upsampled(input_shape))

    def get_config(self):
        config = super().get_config()
        config.update({"filters": self.filters, "activation": self.activation})
        return config


def _upsampled(shape):
    """The shape `[B, 2H, 2W, C]` of a x2 upsampled `[B, H, W, C]` (None stays None)."""
    batch, height, width, channels = shape
    return (batch, height and 2 * height, width and 2 * width, channels)
