"""Tensor operations of contextual attention: shifts, the fuse's diagonal sum, and the
overlap-add fold of pasted patches. Each works on static or dynamic shapes."""

from __future__ import annotations

import tensorflow as tf


def shift(x: tf.Tensor, offset: int, axis: int) -> tf.Tensor:
    """`out[m] = x[m - offset]` along `axis`, zero where `m - offset` is out of range."""
    if offset == 0:
        return x
    n = tf.shape(x)[axis]
    paddings = [[0, 0]] * len(x.shape)
    paddings[axis] = [offset, 0] if offset > 0 else [0, -offset]
    padded = tf.pad(x, paddings)
    begin = [0] * len(x.shape)
    begin[axis] = 0 if offset > 0 else -offset
    size = [-1] * len(x.shape)
    size[axis] = n
    return tf.slice(padded, begin, size)


def diagonal_sum(scores: tf.Tensor, kernel_size: int) -> tf.Tensor:
    """A `kernel_size` SAME conv with `eye(kernel_size)` over the last two axes of `scores`.

    `out[i, l] = sum_d scores[i + d, l + d]` with zeros outside, d running over
    TensorFlow SAME offsets (`-(k-1)//2 .. k-1-(k-1)//2`).
    """
    low = (kernel_size - 1) // 2
    out = None
    for d in range(-low, kernel_size - low):
        term = shift(shift(scores, -d, axis=1), -d, axis=2)
        out = term if out is None else out + term
    return out


def fold_patches(patches: tf.Tensor, rate: int) -> tf.Tensor:
    """Overlap-adds `2*rate`-square patches on a `rate`-stride grid (a SAME `conv2d_transpose`).

    Args:
        patches: `[B, h, w, 2*rate, 2*rate, C]`, patch (p, q) to be pasted at rows
            `rate*p - rate//2 + dy`, columns `rate*q - rate//2 + dx`.

    Returns:
        `[B, rate*h, rate*w, C]`, pixels outside the image dropped.
    """
    offset = rate // 2
    phases = [[None] * rate for _ in range(rate)]
    size = 2 * rate
    height, width = tf.shape(patches)[1], tf.shape(patches)[2]
    # Padded by `rate` (more than any shift) so that every shifted term is one slice.
    padded = tf.pad(patches, [[0, 0], [rate, rate], [rate, rate], [0, 0], [0, 0], [0, 0]])
    for dy in range(size):
        shift_y, phase_y = divmod(dy - offset, rate)
        for dx in range(size):
            shift_x, phase_x = divmod(dx - offset, rate)
            # term[p, q] = patches[p - shift_y, q - shift_x, dy, dx], zero outside.
            term = padded[
                :,
                rate - shift_y : rate - shift_y + height,
                rate - shift_x : rate - shift_x + width,
                dy,
                dx,
                :,
            ]
            current = phases[phase_y][phase_x]
            phases[phase_y][phase_x] = term if current is None else current + term
    # Channels ordered (phase_y, phase_x, C), as depth_to_space expects.
    stacked = tf.concat([phases[py][px] for py in range(rate) for px in range(rate)], axis=-1)
    return tf.nn.depth_to_space(stacked, rate)


def dim(x: tf.Tensor, axis: int) -> int | tf.Tensor:
    """The static size of `x` along `axis`, or its dynamic size as an int64 scalar."""
    static = x.shape[axis]
    return static if static is not None else tf.shape(x, out_type=tf.int64)[axis]


def as_int64(n: int | tf.Tensor) -> tf.Tensor:
    """`n` as an int64 scalar tensor."""
    return tf.cast(n, tf.int64)


def maximum(a: int | tf.Tensor, b: int | tf.Tensor) -> int | tf.Tensor:
    """`max(a, b)`: a Python int when both are, else a tensor."""
    return max(a, b) if isinstance(a, int) and isinstance(b, int) else tf.maximum(a, b)
