"""Spectral normalisation with the semantics of the official SN-PatchGAN (neuralgym)."""

from __future__ import annotations

import keras
from keras import ops

_EPSILON = 1e-12


def _l2_normalize(x):
    """`x / (||x||_2 + 1e-12)`: the epsilon is added to the norm, as neuralgym does."""
    return x / (ops.sqrt(ops.sum(ops.square(x))) + _EPSILON)


def _value_with_gradient_of(value, proxy):
    """`value` in the forward pass (exactly: `proxy - proxy` is 0); `proxy`'s gradient in the
    backward pass. Both have the same shape."""
    return ops.stop_gradient(value) + (proxy - ops.stop_gradient(proxy))


@keras.saving.register_keras_serializable(package="gated_inpaint")
class SpectralNorm(keras.layers.Wrapper):
    """Divides a layer's kernel by its largest singular value, estimated by power iteration.

    Follows neuralgym's `kernel_spectral_norm`, which the official DeepFill v2
    discriminator uses (and so can load its weights), not
    `keras.layers.SpectralNormalization`:

    - the wrapped layer's `kernel` is stored un-normalised; `u` is a non-trainable
      `[1, C_out]` weight initialised from a truncated normal (std 1);
    - each call does one power iteration on `W` = the kernel reshaped to
      `[prod(kernel.shape[:-1]), C_out]`: `v = l2n(u W^T)`, `u' = l2n(v W)`,
      `sigma = v W u'^T`, and uses `W / sigma`;
    - in a training call `u` is overwritten by `u'`; gradients flow through the
      power iteration (no stop-gradient), as in the official code, and reproduce the
      official graph's kernel gradient exactly: there `u` is a TF1 reference variable,
      which the update overwrites before the backward pass reads it, so the backward
      pass of `u W^T` uses `u'` instead of `u` (this changes D's kernel gradients by
      1-10 % relative to the textbook gradient; the forward pass is unchanged);
    - in an inference call the same iteration runs from the stored `u`, which is
      left unchanged, so inference is stateless (the official graph also updates `u`
      at inference; its first call gives the same output as ours).

    Args:
        layer: a `keras.layers.Conv2D` (any Keras convolution) or `keras.layers.Dense`.
        **kwargs: base `keras.layers.Layer` arguments.

    Example:
    >>> import numpy as np
    >>> sn = SpectralNorm(keras.layers.Conv2D(8, 5, strides=2, padding="same"))
    >>> tuple(sn(np.ones((1, 16, 16, 4), "float32"), training=True).shape)
    (1, 8, 8, 8)

    Reference: Miyato et al., arXiv 1802.05957; DeepFill v2 (arXiv 1806.03589), Section 3.3.
    """

    def __init__(self, layer: keras.layers.Layer, **kwargs):
        super().__init__(layer, **kwargs)
        supported = (
            keras.layers.Dense,
            keras.layers.Conv1D,
            keras.layers.Conv2D,
            keras.layers.Conv3D,
        )
        if not isinstance(layer, supported):
            raise ValueError(
                f"SpectralNorm wraps a Keras Dense or ConvND layer, got {type(layer).__name__}."
            )
        if getattr(layer, "data_format", "channels_last") != "channels_last":
            raise ValueError(
                f"SpectralNorm needs channels_last data, got data_format={layer.data_format!r}."
            )

    def build(self, input_shape):
        super().build(input_shape)
        self.u = self.add_weight(
            name="u",
            shape=(1, self.layer.kernel.shape[-1]),
            initializer=keras.initializers.TruncatedNormal(mean=0.0, stddev=1.0),
            trainable=False,
            aggregation="mean",
        )

    def power_iteration(self, backward_reads_new_u: bool = False):
        """One power-iteration step from the stored `u`.

        Args:
            backward_reads_new_u: differentiate `u W^T` as if it were `u' W^T`, as the
                official TF1 graph does once it has assigned `u'` (training calls).

        Returns:
            `(sigma, u_new)`: the spectral-norm estimate (shape `[1, 1]`) and the
            updated vector `u'` (shape `[1, C_out]`). Nothing is assigned.
        """
        kernel = self.layer.kernel
        w = ops.reshape(kernel, (-1, kernel.shape[-1]))
        u_w = ops.matmul(self.u, ops.transpose(w))
        if backward_reads_new_u:
            u_new = ops.stop_gradient(_l2_normalize(ops.matmul(_l2_normalize(u_w), w)))
            u_w = _value_with_gradient_of(u_w, ops.matmul(u_new, ops.transpose(w)))
        v = _l2_normalize(u_w)
        u_new = _l2_normalize(ops.matmul(v, w))
        sigma = ops.matmul(ops.matmul(v, w), ops.transpose(u_new))
        return sigma, u_new

    def call(self, inputs, training=None):
        sigma, u_new = self.power_iteration(backward_reads_new_u=bool(training))
        if training:
            self.u.assign(ops.stop_gradient(u_new))
        kernel = self.layer.kernel / sigma
        if isinstance(self.layer, keras.layers.Dense):
            outputs = ops.matmul(inputs, kernel)
        else:
            outputs = self.layer.convolution_op(inputs, kernel)
        if self.layer.use_bias:
            outputs = ops.add(outputs, self.layer.bias)
        if self.layer.activation is not None:
            outputs = self.layer.activation(outputs)
        return outputs

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)
