"""Tensor operations of contextual attention: patches, shifts, and the overlap-add fold of pasted
patches. Each works on static or dynamic shapes, with ops that LiteRT and ONNX have built in
(pads and slices of at most 4-D tensors)."""

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


def fold_patches(patches: tf.Tensor, rate: int) -> tf.Tensor:
    """Overlap-adds `2*rate`-square patches on a `rate`-stride grid (a SAME `conv2d_transpose`).

    Works on 4-D tensors only (LiteRT has no pad or slice beyond 5-D). Its gradient is
    written out (`_fold_gradient`): differentiated op by op, each of the `(2*rate)**2` slices
    would zero-fill a copy of all the patches for the one channel block it reads.

    Args:
        patches: `[B, h, w, (2*rate)**2 * C]`, channels ordered `(dy, dx, c)` as
            `extract_patches` gives them; patch (p, q) is pasted at rows
            `rate*p - rate//2 + dy`, columns `rate*q - rate//2 + dx`.

    Returns:
        `[B, rate*h, rate*w, C]`, pixels outside the image dropped.
    """
    channels = patches.shape[-1]
    channels = (tf.shape(patches)[-1] if channels is None else channels) // (2 * rate) ** 2

    @tf.custom_gradient
    def folded(patches):
        def gradient(upstream):
            return _fold_gradient(upstream, rate, channels)

        return _fold(patches, rate, channels), gradient

    return folded(patches)


def _fold_terms(rate: int):
    """`(dy, dx, shift_y, shift_x, phase_y, phase_x)` of every patch pixel: pixel `(dy, dx)` of
    patch `(p, q)` lands on output pixel `(rate*(p + shift_y) + phase_y, rate*(q + shift_x) +
    phase_x)`."""
    offset = rate // 2
    for dy in range(2 * rate):
        shift_y, phase_y = divmod(dy - offset, rate)
        for dx in range(2 * rate):
            shift_x, phase_x = divmod(dx - offset, rate)
            yield dy, dx, shift_y, shift_x, phase_y, phase_x


def _fold(patches: tf.Tensor, rate: int, channels: int | tf.Tensor) -> tf.Tensor:
    """`fold_patches`' value: per output phase, a sum of shifted channel blocks."""
    phases = [[None] * rate for _ in range(rate)]
    size = 2 * rate
    # Padded by `rate` (more than any shift) so that every shifted term is one slice, whose
    # bounds are constants (counted from the end: `rate + shift > 0`).
    padded = tf.pad(patches, [[0, 0], [rate, rate], [rate, rate], [0, 0]])
    for dy, dx, shift_y, shift_x, phase_y, phase_x in _fold_terms(rate):
        first = (dy * size + dx) * channels
        # term[p, q] = patches[p - shift_y, q - shift_x, (dy, dx)], zero outside.
        term = padded[
            :,
            rate - shift_y : -(rate + shift_y),
            rate - shift_x : -(rate + shift_x),
            first : first + channels,
        ]
        current = phases[phase_y][phase_x]
        phases[phase_y][phase_x] = term if current is None else current + term
    # Channels ordered (phase_y, phase_x, C), as depth_to_space expects.
    stacked = tf.concat([phases[py][px] for py in range(rate) for px in range(rate)], axis=-1)
    return tf.nn.depth_to_space(stacked, rate)


def _fold_gradient(upstream: tf.Tensor, rate: int, channels: int | tf.Tensor) -> tf.Tensor:
    """The gradient of `_fold` for `upstream` `[B, rate*h, rate*w, C]`: channel block `(dy, dx)`
    of patch `(p, q)` receives phase `(phase_y, phase_x)` of the upstream at `(p + shift_y,
    q + shift_x)`, zero outside: one pad and one concatenation of slices, `[B, h, w,
    (2*rate)**2 * C]`."""
    phases = tf.nn.space_to_depth(upstream, rate)  # channels ordered (phase_y, phase_x, C)
    padded = tf.pad(phases, [[0, 0], [rate, rate], [rate, rate], [0, 0]])
    blocks = []
    for _, _, shift_y, shift_x, phase_y, phase_x in _fold_terms(rate):
        first = (phase_y * rate + phase_x) * channels
        blocks.append(
            padded[
                :,
                rate + shift_y : -(rate - shift_y) or None,
                rate + shift_x : -(rate - shift_x) or None,
                first : first + channels,
            ]
        )
    return tf.concat(blocks, axis=-1)


def extract_patches(images: tf.Tensor, size: int, stride: int) -> tf.Tensor:
    """`tf.image.extract_patches(images, [1, size, size, 1], [1, stride, stride, 1],
    [1, 1, 1, 1], "SAME")` as a zero pad and `size**2` slices: the same values, from ops that
    LiteRT and ONNX have built in.

    When `size` is a multiple of `stride > 1`, the padded image is first cut into
    `stride x stride` blocks (`space_to_depth`), so that every slice has unit steps (strided
    slices are several times slower in TensorFlow).

    Args:
        images: `[B, H, W, C]`.
        size: patch side; stride: patch step.

    Returns:
        `[B, ceil(H / stride), ceil(W / stride), size * size * C]`, channels ordered
        `(dy, dx, c)`; pixels outside the image are zero (TensorFlow SAME padding: the
        smaller half of the padding before).
    """
    paddings, counts = [[0, 0]], []
    for axis in (1, 2):
        n = images.shape[axis]
        n = tf.shape(images)[axis] if n is None else n
        count = (n + stride - 1) // stride
        # (count - 1) * stride + size - n, which is size - 1 for stride 1 whatever n is.
        total = size - 1 if stride == 1 else maximum((count - 1) * stride + size - n, 0)
        paddings.append([total // 2, total - total // 2])
        counts.append(count)
    padded = tf.pad(images, paddings + [[0, 0]])
    if stride > 1 and size % stride == 0:
        return _patches_of_blocks(padded, size, stride)

    def taps(offset, count):
        """Rows (columns) offset, offset + stride, ... (count of them) of `padded`."""
        if size >= stride:
            # The padded side is (count - 1) * stride + size: a constant bound from its end
            # (so converters keep the static sizes).
            return slice(offset, -(size - 1 - offset) or None, stride)
        return slice(offset, offset + (count - 1) * stride + 1, stride)

    return tf.concat(
        [
            padded[:, taps(dy, counts[0]), taps(dx, counts[1]), :]
            for dy in range(size)
            for dx in range(size)
        ],
        axis=-1,
    )


def _patches_of_blocks(padded: tf.Tensor, size: int, stride: int) -> tf.Tensor:
    """`extract_patches` of an already padded image whose sides are `(count - 1) * stride +
    size`, `size` a multiple of `stride`: pixel `(dy, dx)` of patch `(p, q)` is pixel
    `(dy % stride, dx % stride)` of block `(p + dy // stride, q + dx // stride)`.

    Its gradient is written out: op by op, each slice would zero-fill a copy of all the
    blocks for the one channel block (of `stride**2`) it reads."""
    channels = padded.shape[-1]
    channels = tf.shape(padded)[-1] if channels is None else channels
    spare = size // stride - 1  # blocks past the last patch's first block

    def window(block):
        return slice(block, -(spare - block) or None)

    taps = [  # (dy, dx) in the order of the patches' channels
        (*divmod(dy, stride), *divmod(dx, stride)) for dy in range(size) for dx in range(size)
    ]

    @tf.custom_gradient
    def patches(padded):
        blocks = tf.nn.space_to_depth(padded, stride)  # channels ordered (iy, ix, c)
        parts = []
        for block_y, inner_y, block_x, inner_x in taps:
            first = (inner_y * stride + inner_x) * channels
            parts.append(blocks[:, window(block_y), window(block_x), first : first + channels])

        def gradient(upstream):
            # Tap (dy, dx)'s gradient back at its block offset, summed per channel block.
            placed = [[] for _ in range(stride * stride)]
            for tap, (block_y, inner_y, block_x, inner_x) in enumerate(taps):
                placed[inner_y * stride + inner_x].append(
                    tf.pad(
                        upstream[..., tap * channels : (tap + 1) * channels],
                        [[0, 0], [block_y, spare - block_y], [block_x, spare - block_x], [0, 0]],
                    )
                )
            blocks_gradient = tf.concat([tf.add_n(terms) for terms in placed], axis=-1)
            return tf.nn.depth_to_space(blocks_gradient, stride)

        return tf.concat(parts, axis=-1), gradient

    return patches(padded)


def dim(x: tf.Tensor, axis: int, dtype: tf.DType = tf.int64) -> int | tf.Tensor:
    """The static size of `x` along `axis`, or its dynamic size as a scalar of `dtype`."""
    static = x.shape[axis]
    return static if static is not None else tf.shape(x, out_type=dtype)[axis]


def maximum(a: int | tf.Tensor, b: int | tf.Tensor) -> int | tf.Tensor:
    """`max(a, b)`: a Python int when both are, else a tensor."""
    if isinstance(a, int) and isinstance(b, int):
        return max(a, b)
    return tf.maximum(*_same_dtype(a, b))


def clip(n: int | tf.Tensor, low: int | tf.Tensor, high: int | tf.Tensor) -> int | tf.Tensor:
    """`min(max(n, low), high)`: a Python int when all three are, else a tensor."""
    if all(isinstance(v, int) for v in (n, low, high)):
        return min(max(n, low), high)
    return tf.clip_by_value(*_same_dtype(n, low, high))


def _same_dtype(*values: int | tf.Tensor) -> list[tf.Tensor]:
    """`values` as tensors of the dtype of the first one that is a tensor."""
    dtype = next(v.dtype for v in values if isinstance(v, tf.Tensor))
    return [tf.cast(v, dtype) for v in values]
