"""Nearest-neighbour resizing with TF1's `align_corners=True` index rule."""

from __future__ import annotations

import tensorflow as tf


def resize_nearest_align_corners(images: tf.Tensor, size) -> tf.Tensor:
    """Resizes `images` [B, H, W, C] to `size` as TF1 `resize_nearest_neighbor(align_corners=True)`.

    Output index i takes input index `round(i * (n_in - 1) / (n_out - 1))` (float32
    arithmetic, half rounded up), e.g. 64 -> 32 takes rows 0, 2, ..., 30, 33, 35, ..., 63:
    not stride-2 slicing, and not what `tf.image.resize(method="nearest")` (half-pixel
    centres) does. The official DeepFill v2 graph resizes its masks and the
    contextual-attention inputs this way, so parity needs the same rule.

    Args:
        images: float tensor `[B, H, W, C]`.
        size: `(h, w)`, Python ints or scalar int tensors.

    Returns:
        Tensor `[B, h, w, C]` of the same dtype.
    """
    return tf.raw_ops.ResizeNearestNeighbor(
        images=images,
        size=tf.cast(tf.stack(size), tf.int32),
        align_corners=True,
        half_pixel_centers=False,
    )
