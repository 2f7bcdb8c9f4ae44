"""Nearest-neighbour resizing with TF1's `align_corners=True` index rule."""

from __future__ import annotations

import tensorflow as tf


def align_corners_indices(in_size, out_size) -> tf.Tensor:
    """Input index of each output index along one axis: int32 `[out_size]`, in `[0, in_size)`.

    `round(i * scale)` with `scale = (in_size - 1) / (out_size - 1)`, all in float32 and
    halves rounded up, capped at `in_size - 1`: the arithmetic of TensorFlow's
    `ResizeNearestNeighbor(align_corners=True)` kernel, so the indices are the same bits.
    `in_size` and `out_size` are Python ints or scalar int tensors, `out_size >= 1`.
    """
    in_size = tf.cast(in_size, tf.int32)
    out_size = tf.cast(out_size, tf.int32)
    scale = tf.cast(in_size - 1, tf.float32) / tf.cast(tf.maximum(out_size - 1, 1), tf.float32)
    position = tf.cast(tf.range(out_size), tf.float32) * scale
    whole = tf.floor(position)
    # Half up without the rounding error of floor(position + 0.5) near x.5 - 1 ulp.
    index = tf.cast(whole, tf.int32) + tf.cast(position - whole >= 0.5, tf.int32)
    return tf.minimum(index, in_size - 1)


def resize_nearest_align_corners(images: tf.Tensor, size) -> tf.Tensor:
    """Resizes `images` [B, H, W, C] to `size` as TF1 `resize_nearest_neighbor(align_corners=True)`.

    Output index i takes input index `round(i * (n_in - 1) / (n_out - 1))` (float32
    arithmetic, half rounded up), e.g. 64 -> 32 takes rows 0, 2, ..., 30, 33, 35, ..., 63:
    not stride-2 slicing, and not what `tf.image.resize(method="nearest")` (half-pixel
    centres) does. The official DeepFill v2 graph resizes its masks and the
    contextual-attention inputs this way, so parity needs the same rule.

    Built as two gathers with the indices of `align_corners_indices` rather than the
    `ResizeNearestNeighbor` op: the same values bit for bit, and a gradient that XLA
    compiles (there is no XLA kernel for `ResizeNearestNeighborGrad`), so a training step
    through it runs on TPUs.

    Args:
        images: tensor `[B, H, W, C]` of any dtype.
        size: `(h, w)`, Python ints or scalar int tensors.

    Returns:
        Tensor `[B, h, w, C]` of the same dtype.
    """
    shape = tf.shape(images)
    rows = align_corners_indices(shape[1], size[0])
    columns = align_corners_indices(shape[2], size[1])
    return tf.gather(tf.gather(images, rows, axis=1), columns, axis=2)
