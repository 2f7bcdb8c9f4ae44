"""x2 nearest-neighbour upsampling followed by a 3x3 convolution, computed on the small map.

After a x2 pixel repetition, each output pixel of a 3x3 "SAME" convolution reads only a 2x2
block of the small map: output row `2i` reads small rows `i-1, i` (kernel rows 0 and 1+2),
row `2i+1` reads rows `i, i+1` (kernel rows 0+1 and 2), and the same for columns. So the
four output phases `(row parity, column parity)` are four 2x2 convolutions of the small map,
run here as one convolution with `4 * C_out` outputs. It gives the same values as
upsampling and convolving (up to float rounding) with 4/9 of the multiply-adds and without
the upsampled copy of the input.
"""

from __future__ import annotations

import tensorflow as tf


def _phase_taps(kernel: tf.Tensor, axis: int) -> list[tf.Tensor]:
    """The two 2-tap kernels (output parity 0, then 1) of a 3-tap kernel along `axis`.

    Parity 0 reads small-map offsets -1, 0 (kernel taps 0 and 1+2), parity 1 reads offsets
    0, +1 (taps 0+1 and 2). Plain adds, not a matrix product: each sum is rounded once, so
    the phase kernels are the same bits in eager code, in a graph and on any CPU kernel.
    """
    k0, k1, k2 = tf.unstack(kernel, axis=axis)
    return [tf.stack([k0, k1 + k2], axis), tf.stack([k0 + k1, k2], axis)]


def phase_kernel(kernel: tf.Tensor) -> tf.Tensor:
    """The 2x2 kernels of the four output phases of a 3x3 kernel, stacked along the outputs.

    Args:
        kernel: `[3, 3, C_in, C_out]`, the kernel applied to the upsampled map.

    Returns:
        `[2, 2, C_in, 4 * C_out]`; output channel `(2 * a + b) * C_out + c` is channel `c` of
        the phase with row parity `a` and column parity `b` (`tf.nn.depth_to_space` order).
    """
    phases = [col for rows in _phase_taps(kernel, 0) for col in _phase_taps(rows, 1)]
    return tf.concat(phases, axis=-1)


def upsample_conv_phases(inputs: tf.Tensor, kernel: tf.Tensor, bias: tf.Tensor) -> tf.Tensor:
    """The four output phases of `conv2d(upsample_x2(inputs), kernel, "SAME") + bias`.

    Args:
        inputs: `[B, H, W, C_in]`.
        kernel: `[3, 3, C_in, C_out]`, float32 (the phases are summed before any cast).
        bias: `[C_out]`.

    Returns:
        `[B, H + 1, W + 1, 4 * C_out]` in the dtype of `inputs`: phase `(a, b)` (channels as in
        `phase_kernel`) of output pixel `(2i + a, 2j + b)` is at `[i + a, j + b]`. Elementwise
        functions can be applied here, before `interleave_phases`.
    """
    padded = tf.pad(inputs, [[0, 0], [1, 1], [1, 1], [0, 0]])
    phases = tf.nn.conv2d(
        padded, tf.cast(phase_kernel(kernel), inputs.dtype), strides=1, padding="VALID"
    )
    return tf.nn.bias_add(phases, tf.cast(tf.tile(bias, [4]), inputs.dtype))


def interleave_phases(phases: tf.Tensor) -> tf.Tensor:
    """Assembles the `[B, 2H, 2W, C]` output from `upsample_conv_phases`'s
    `[B, H + 1, W + 1, 4 * C]`.

    Phase `(a, b)` is the block without its last row (a = 0) or first row (a = 1), and the
    same for columns: slices with constant bounds, so C stays known to converters (LiteRT)
    when H and W are not. Its gradient is written out: differentiated op by op, each of the
    four slices would zero-fill a copy of all four phases for the one it reads.
    """
    channels = phases.shape[-1] // 4
    rows = (slice(None, -1), slice(1, None))

    @tf.custom_gradient
    def interleaved(phases):
        blocks = [
            phases[:, rows[a], rows[b], (2 * a + b) * channels : (2 * a + b + 1) * channels]
            for a in (0, 1)
            for b in (0, 1)
        ]

        def gradient(upstream):
            # Each phase's gradient, back in its place: a zero row (column) after it when it
            # dropped the last one, before it when it dropped the first.
            upstream_blocks = tf.split(tf.nn.space_to_depth(upstream, 2), 4, axis=-1)
            placed = [
                tf.pad(upstream_blocks[2 * a + b], [[0, 0], [a, 1 - a], [b, 1 - b], [0, 0]])
                for a in (0, 1)
                for b in (0, 1)
            ]
            return tf.concat(placed, axis=-1)

        return tf.nn.depth_to_space(tf.concat(blocks, axis=-1), 2), gradient

    return interleaved(phases)
