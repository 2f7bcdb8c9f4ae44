"""Contextual attention (Yu et al., "Generative Image Inpainting with Contextual Attention")."""

from __future__ import annotations

import keras
import tensorflow as tf

from gated_inpaint.layers.attention_chunks import RowChunks
from gated_inpaint.layers.attention_ops import dim, extract_patches, fold_patches
from gated_inpaint.layers.resize import resize_nearest_align_corners

DEFAULT_CHUNK_ELEMENTS = 2**24


@keras.saving.register_keras_serializable(package="gated_inpaint")
class ContextualAttention(keras.layers.Layer):
    """Fills features in the hole with a soft copy of matching features from the known region.

    Exactly the official DeepFill v2 computation (`contextual_attention` as called by
    the v2 generator, with the foreground and background the same tensor), batched
    over samples with one mask per sample and dynamic height and width:

    1. raw `2*rate` patches of the features, stride `rate*stride`, for reconstruction;
    2. features and mask downscaled by `rate` (nearest, align_corners);
    3. `ksize` patches of the downscaled features, each L2-normalised (min norm 1e-4);
       patches that touch the hole (downscaled mask) are invalid;
    4. scores = dot products of every downscaled position's neighbourhood with every
       patch (the foreground is not normalised);
    5. with `fuse`: an `eye(fuse_k)` diagonal sum of the scores in row-major, then in
       column-major flattened order ("attention propagation");
    6. scores * valid, softmax over patches of `softmax_scale * scores`, * valid
       (invalid patches keep `exp(0)` mass in the denominator, as officially);
    7. each position pastes the attention-weighted raw patches; the sum is divided by 4.

    Args:
        ksize: matching patch size.
        stride: patch stride.
        rate: downscale factor; raw patches are `2*rate` wide.
        fuse_k: size of the attention-propagation kernel.
        softmax_scale: temperature multiplier of the scores.
        fuse: whether to apply attention propagation.
        chunk_elements: bound on the score values held at once: when the `[B, h*w, L]`
            scores would exceed it, steps 4-7 run a block of foreground rows at a time
            (same results, memory linear in the pixel count; see `RowChunks`). The
            default, 2**24 (64 MB in float32), leaves images up to about 800 x 800 px
            unchunked. None computes all scores at once.
        portable: build the blocks from ops that LiteRT and ONNX convert at unknown sizes:
            always a loop (one block when everything fits), its outputs concatenated
            rather than kept in a `TensorArray`. The same values; for exported graphs.
        **kwargs: base `keras.layers.Layer` arguments.

    Call args:
        features: `[B, H, W, C]`, H and W divisible by `rate` (the generator gives
            `H/4`, `W/4` of the image).
        mask: optional `[B, H, W, 1]` or `[1, H, W, 1]`, 1 = hole, at the resolution of
            `features`. Without a mask every patch is valid.

    Returns:
        `[B, H, W, C]`, the reconstructed features (at every position, not only the hole).

    Example:
    >>> import numpy as np
    >>> x = np.random.rand(2, 16, 24, 8).astype("float32")
    >>> m = np.zeros((2, 16, 24, 1), "float32"); m[:, 4:10, 6:14] = 1
    >>> ContextualAttention()(x, m).shape
    TensorShape([2, 16, 24, 8])

    Reference: arXiv 1801.07892 (contextual attention), arXiv 1806.03589 (DeepFill v2).
    """

    def __init__(
        self,
        ksize: int = 3,
        stride: int = 1,
        rate: int = 2,
        fuse_k: int = 3,
        softmax_scale: float = 10.0,
        fuse: bool = True,
        chunk_elements: int | None = DEFAULT_CHUNK_ELEMENTS,
        portable: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.ksize = int(ksize)
        self.stride = int(stride)
        self.rate = int(rate)
        self.fuse_k = int(fuse_k)
        self.softmax_scale = float(softmax_scale)
        self.fuse = bool(fuse)
        if chunk_elements is not None and chunk_elements < 1:
            raise ValueError(f"chunk_elements must be positive or None, got {chunk_elements}.")
        self.chunk_elements = None if chunk_elements is None else int(chunk_elements)
        self.portable = bool(portable)

    def _check_shape(self, features):
        if features.shape.rank != 4:
            raise ValueError(
                f"ContextualAttention expects [B, H, W, C] features, got {features.shape}."
            )
        for axis, name in ((1, "height"), (2, "width")):
            n = features.shape[axis]
            if n is not None and n % self.rate:
                raise ValueError(
                    f"ContextualAttention needs the feature {name} to be divisible by "
                    f"rate={self.rate}, got {n} (shape {features.shape})."
                )

    def call(self, features, mask=None):
        features = tf.convert_to_tensor(features, dtype=self.compute_dtype)
        self._check_shape(features)
        shape = tf.shape(features)
        batch, height, width = shape[0], shape[1], shape[2]
        channels = features.shape[3] if features.shape[3] is not None else shape[3]
        rate, ksize, stride = self.rate, self.ksize, self.stride
        down_size = (height // rate, width // rate)

        raw = extract_patches(features, 2 * rate, rate * stride)
        raw = tf.reshape(raw, [batch, -1, (2 * rate) ** 2 * channels])

        down = resize_nearest_align_corners(features, down_size)
        patch_grid = extract_patches(down, ksize, stride)
        patches = tf.reshape(patch_grid, [batch, -1, ksize * ksize * channels])
        norms = tf.sqrt(tf.reduce_sum(tf.square(patches), axis=-1, keepdims=True))
        patches = patches / tf.maximum(norms, 1e-4)

        # Every position's neighbourhood: the patches themselves (unnormalised) at stride 1.
        neighbourhoods = patch_grid if stride == 1 else extract_patches(down, ksize, 1)
        neighbourhoods = tf.reshape(neighbourhoods, [batch, -1, ksize * ksize * channels])
        valid = self._valid_patches(mask, down_size)  # [B or 1, 1, L]

        # [B, 4r^2 C, L]: a product with a transposed right side runs several times faster
        # in oneDNN's batched matmul when L is large. Invalid patches paste nothing.
        raw_by_patch = tf.transpose(raw, [0, 2, 1])
        if mask is not None:
            raw_by_patch = raw_by_patch * valid
        scale = valid * self.softmax_scale  # one product for the mask and the temperature

        def attend(scores):  # fused scores [B, n, L] -> pasted raw patches [B, n, 4r^2 C]
            attention = tf.nn.softmax(scores * scale, axis=-1)
            return tf.matmul(attention, raw_by_patch, transpose_b=True)

        index_dtype = tf.int32 if self.portable else tf.int64
        chunks = RowChunks(
            neighbourhoods,
            patches,
            (dim(features, 1, index_dtype) // rate, dim(features, 2, index_dtype) // rate),
            (dim(patch_grid, 1, index_dtype), dim(patch_grid, 2, index_dtype)),
            self.fuse_k if self.fuse else 1,
            index_dtype=index_dtype,
        )
        if self.chunk_elements is None:
            pasted = chunks.whole(attend)
        else:
            rows = chunks.rows_per_chunk(self.chunk_elements)
            if self.portable:  # no branch: one block when everything fits
                pasted = chunks.pasted(rows, attend, portable_width=raw.shape[-1])
            elif isinstance(rows, int):  # static shapes: decided while tracing
                if rows >= chunks.height:
                    pasted = chunks.whole(attend)
                else:
                    pasted = chunks.pasted(rows, attend)
            else:
                pasted = tf.cond(
                    rows >= chunks.height,
                    lambda: chunks.whole(attend),
                    lambda: chunks.pasted(rows, attend),
                )
        pasted = tf.reshape(pasted, [batch, down_size[0], down_size[1], (2 * rate) ** 2 * channels])
        return fold_patches(pasted, rate) / 4.0

    def _valid_patches(self, mask, down_size):
        """1.0 for patches with no hole pixel in the downscaled mask, else 0.0: `[B, 1, L]`."""
        if mask is None:
            return tf.constant(1.0, self.compute_dtype)
        mask = tf.convert_to_tensor(mask, dtype=self.compute_dtype)
        mask = resize_nearest_align_corners(mask[..., :1], down_size)
        mask_patches = extract_patches(mask, self.ksize, self.stride)
        mask_patches = tf.reshape(mask_patches, [tf.shape(mask)[0], 1, -1, self.ksize**2])
        return tf.cast(tf.reduce_mean(mask_patches, axis=-1) == 0.0, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "ksize": self.ksize,
                "stride": self.stride,
                "rate": self.rate,
                "fuse_k": self.fuse_k,
                "softmax_scale": self.softmax_scale,
                "fuse": self.fuse,
                "chunk_elements": self.chunk_elements,
                "portable": self.portable,
            }
        )
        return config
