"""The DeepFill v2 two-stage generator (coarse network + refinement with contextual attention)."""

from __future__ import annotations

import keras
import tensorflow as tf

from gated_inpaint.layers import (
    ContextualAttention,
    GatedConv2D,
    GatedDeconv2D,
    resize_nearest_align_corners,
)
from gated_inpaint.layers.contextual_attention import DEFAULT_CHUNK_ELEMENTS
from gated_inpaint.models.options import DEFAULT_CNUM, SIZE_MULTIPLE

FIRST_CONV = "conv1"  # the layer whose kernel, [5, 5, 5 or 6, cnum], tells cnum and guided


def check_image_size(height: int | None, width: int | None) -> None:
    """Raises ValueError unless both sides are multiples of 8 (unknown sides pass)."""
    for name, n in (("height", height), ("width", width)):
        if n is not None and (n <= 0 or n % SIZE_MULTIPLE):
            raise ValueError(
                f"InpaintGenerator needs image height and width that are positive multiples of "
                f"{SIZE_MULTIPLE}, got {name} {n} (size {height}x{width}). Pad the image to a "
                f"multiple of {SIZE_MULTIPLE} first; gated_inpaint.Inpainter does this for you."
            )


@keras.saving.register_keras_serializable(package="gated_inpaint")
class InpaintGenerator(keras.Model):
    """DeepFill v2 generator: coarse gated-conv network, then a refinement network with a
    dilated-conv branch and a contextual-attention branch.

    Layer names are the official TF1 scope names (`conv1` ... `conv17`, `xconv1` ...,
    `pmconv1` ..., `allconv11` ... `allconv17`), so the official checkpoints convert
    by a table. With `cnum=48` it has exactly 4,052,478 parameters (4,053,678 guided).

    Args:
        cnum: base width, the filter count of the first (ungated) convolution; the
            official value is 48. Must be a multiple of 4.
        guided: whether the generator takes a sketch/edge channel (user-guided mode).
        attention_chunk_elements: the contextual attention's `chunk_elements`: its scores
            are computed a block of rows at a time above this many values (memory linear
            in the pixels); None computes them at once.
        portable: the contextual attention's `portable`: a graph that converts to LiteRT
            and ONNX at unknown sizes (the same values), for exports.
        **kwargs: base `keras.Model` arguments.

    Call args:
        image: float `[B, H, W, 3]` in [-1, 1], RGB (BGR for unconverted official
            weights); H and W multiples of 8. Hole pixels are zeroed inside.
        mask: float `[B, H, W, 1]` (or `[1, H, W, 1]`, shared), 1 = hole, 0 = known.
        edge: float `[B, H, W, 1]` in {0, 1}, only when `guided`; kept inside the hole.

    Returns:
        `(x_stage1, x_stage2)`, both `[B, H, W, 3]` in [-1, 1]: the coarse and refined
        outputs before pasting into the known pixels (as the official `build_inpaint_net`).

    Example:
    >>> import numpy as np
    >>> g = InpaintGenerator(cnum=8)
    >>> image = np.zeros((2, 64, 96, 3), "float32")
    >>> mask = np.zeros((2, 64, 96, 1), "float32")
    >>> [t.shape for t in g(image, mask)]
    [TensorShape([2, 64, 96, 3]), TensorShape([2, 64, 96, 3])]

    Reference: Yu et al., "Free-Form Image Inpainting with Gated Convolution", ICCV 2019,
    arXiv 1806.03589.
    """

    def __init__(
        self,
        cnum: int = DEFAULT_CNUM,
        guided: bool = False,
        attention_chunk_elements: int | None = DEFAULT_CHUNK_ELEMENTS,
        portable: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if cnum <= 0 or cnum % 4:
            raise ValueError(f"cnum must be a positive multiple of 4, got {cnum}.")
        self.cnum = int(cnum)
        self.guided = bool(guided)
        self.attention_chunk_elements = attention_chunk_elements
        self.portable = bool(portable)
        c = self.cnum // 2  # channels after gating of a layer with `cnum` filters

        def conv(name, filters, k=3, stride=1, rate=1, activation="elu"):
            return GatedConv2D(
                filters, k, strides=stride, dilation_rate=rate, activation=activation, name=name
            )

        def atrous(prefix, filters):
            return [conv(f"{prefix}{i}_atrous", filters, rate=2 ** (i - 6)) for i in range(7, 11)]

        self.coarse_encoder = [
            conv(FIRST_CONV, c, k=5),
            conv("conv2_downsample", 2 * c, stride=2),
            conv("conv3", 2 * c),
            conv("conv4_downsample", 4 * c, stride=2),
            conv("conv5", 4 * c),
            conv("conv6", 4 * c),
        ]
        self.coarse_decoder = [
            *atrous("conv", 4 * c),
            conv("conv11", 4 * c),
            conv("conv12", 4 * c),
            GatedDeconv2D(2 * c, name="conv13_upsample"),
            conv("conv14", 2 * c),
            GatedDeconv2D(c, name="conv15_upsample"),
            conv("conv16", c // 2),
            conv("conv17", 3, activation=None),
        ]
        self.hallucination_branch = [
            conv("xconv1", c, k=5),
            conv("xconv2_downsample", c, stride=2),
            conv("xconv3", 2 * c),
            conv("xconv4_downsample", 2 * c, stride=2),
            conv("xconv5", 4 * c),
            conv("xconv6", 4 * c),
            *atrous("xconv", 4 * c),
        ]
        self.attention_encoder = [
            conv("pmconv1", c, k=5),
            conv("pmconv2_downsample", c, stride=2),
            conv("pmconv3", 2 * c),
            conv("pmconv4_downsample", 4 * c, stride=2),
            conv("pmconv5", 4 * c),
            conv("pmconv6", 4 * c, activation="relu"),
        ]
        self.contextual_attention = ContextualAttention(
            ksize=3,
            stride=1,
            rate=2,
            chunk_elements=attention_chunk_elements,
            portable=portable,
            name="contextual_attention",
        )
        self.attention_decoder = [conv("pmconv9", 4 * c), conv("pmconv10", 4 * c)]
        self.merge_decoder = [
            conv("allconv11", 4 * c),
            conv("allconv12", 4 * c),
            GatedDeconv2D(2 * c, name="allconv13_upsample"),
            conv("allconv14", 2 * c),
            GatedDeconv2D(c, name="allconv15_upsample"),
            conv("allconv16", c // 2),
            conv("allconv17", 3, activation=None),
        ]

    def conv_layers(self) -> dict[str, GatedConv2D]:
        """Every convolution by layer name (`conv13_upsample_conv` for an upsampling block)."""
        blocks = (
            self.coarse_encoder
            + self.coarse_decoder
            + self.hallucination_branch
            + self.attention_encoder
            + self.attention_decoder
            + self.merge_decoder
        )
        convs = [b.conv if isinstance(b, GatedDeconv2D) else b for b in blocks]
        return {conv.name: conv for conv in convs}

    def build(self, image_shape, mask_shape=None, edge_shape=None):
        """Creates the weights (the conv weights depend only on the channel counts)."""
        if not self.built:
            batch = image_shape[0] or 1
            image = tf.zeros((batch, SIZE_MULTIPLE * 2, SIZE_MULTIPLE * 2, 3), self.compute_dtype)
            mask = tf.zeros((batch, SIZE_MULTIPLE * 2, SIZE_MULTIPLE * 2, 1), self.compute_dtype)
            edge = tf.zeros_like(mask) if self.guided else None
            self._forward(image, mask, edge)
        self.built = True

    def call(self, image, mask, edge=None):
        check_image_size(image.shape[1], image.shape[2])
        if self.guided and edge is None:
            raise ValueError("This generator was built with guided=True: pass an edge map.")
        if not self.guided and edge is not None:
            raise ValueError("An edge map was passed to a generator built with guided=False.")
        return self._forward(image, mask, edge)

    def _forward(self, image, mask, edge):
        image = tf.cast(image, self.compute_dtype)
        mask = tf.cast(mask, self.compute_dtype)
        incomplete = image * (1.0 - mask)
        ones = tf.ones_like(incomplete[..., :1])
        channels = [incomplete]
        if edge is not None:
            channels.append(tf.cast(edge, self.compute_dtype) * mask)
        channels += [ones, ones * mask]
        x = tf.concat(channels, axis=-1)

        x = _apply(self.coarse_encoder, x)
        mask_small = resize_nearest_align_corners(mask, (tf.shape(x)[1], tf.shape(x)[2]))
        x_stage1 = tf.tanh(_apply(self.coarse_decoder, x))

        x = x_stage1 * mask + incomplete * (1.0 - mask)
        x_hallu = _apply(self.hallucination_branch, x)
        pm = _apply(self.attention_encoder, x)
        pm = self.contextual_attention(pm, mask_small)
        pm = _apply(self.attention_decoder, pm)
        x = tf.concat([x_hallu, pm], axis=-1)
        x_stage2 = tf.tanh(_apply(self.merge_decoder, x))
        return x_stage1, x_stage2

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "cnum": self.cnum,
                "guided": self.guided,
                "attention_chunk_elements": self.attention_chunk_elements,
                "portable": self.portable,
            }
        )
        return config


def _apply(layers: list[keras.layers.Layer], x: tf.Tensor) -> tf.Tensor:
    for layer in layers:
        x = layer(x)
    return x
