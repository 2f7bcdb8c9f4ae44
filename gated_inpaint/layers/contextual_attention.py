"""Contextual attention (Yu et al., "Generative Image Inpainting with Contextual Attention")."""

from __future__ import annotations

import keras
import tensorflow as tf

from gated_inpaint.layers.resize import resize_nearest_align_corners

DEFAULT_CHUNK_ELEMENTS = 2**24


def _shift(x: tf.Tensor, offset: int, axis: int) -> tf.Tensor:
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


def _diagonal_sum(scores: tf.Tensor, kernel_size: int) -> tf.Tensor:
    """A `kernel_size` SAME conv with `eye(kernel_size)` over the last two axes of `scores`.

    `out[i, l] = sum_d scores[i + d, l + d]` with zeros outside, d running over
    TensorFlow SAME offsets (`-(k-1)//2 .. k-1-(k-1)//2`).
    """
    low = (kernel_size - 1) // 2
    out = None
    for d in range(-low, kernel_size - low):
        term = _shift(_shift(scores, -d, axis=1), -d, axis=2)
        out = term if out is None else out + term
    return out


def _fold(patches: tf.Tensor, rate: int) -> tf.Tensor:
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


def _dim(x: tf.Tensor, axis: int) -> int | tf.Tensor:
    """The static size of `x` along `axis`, or its dynamic size as an int64 scalar."""
    static = x.shape[axis]
    return static if static is not None else tf.shape(x, out_type=tf.int64)[axis]


def _int64(n: int | tf.Tensor) -> tf.Tensor:
    return tf.cast(n, tf.int64)


def _maximum(a, b):
    return max(a, b) if isinstance(a, int) and isinstance(b, int) else tf.maximum(a, b)


class _RowChunks:
    """Fused attention, softmax and pasting a block of foreground rows at a time.

    Gives what `ContextualAttention` computes on the whole `[B, h*w, L]` score matrix
    (`L` background patches), with peak memory bounded by one block of rows instead of
    growing with the square of the pixel count. The official fuse is a diagonal sum over
    `fuse_k` neighbours in row-major order (F1), then in column-major order (F2). In
    column-major order the neighbours of `(y, x)` are `(y + d, x)`, wrapping to the
    previous or next column past the top or bottom row. So a block of rows `[r0, r0 + R)`
    needs F1 on rows `[r0 - low, r0 + R + high)`, and F1 on a range of rows needs the raw
    scores of that range and `low`/`high` positions beyond it. The wrapped rows at the
    image's top and bottom are computed once; each block recomputes `fuse_k - 1` rows of
    F1 shared with its neighbours.

    Args:
        neighbourhoods: `[B, h*w, K]` foreground neighbourhoods, row-major.
        patches: `[B, L, K]` normalised background patches, `L = bh * bw`, row-major.
        fg_size: `(h, w)`; bg_size: `(bh, bw)`, static ints or int scalars.
        fuse_k: propagation kernel size, 1 for no fuse.
    """

    def __init__(self, neighbourhoods, patches, fg_size, bg_size, fuse_k: int):
        self.neighbourhoods = neighbourhoods
        self.patches = patches
        # Static ints where known (to decide while tracing), else int64 scalars.
        self.batch = _dim(neighbourhoods, 0)
        self.patch_count = _dim(patches, 1)
        self.height, self.width = fg_size
        self.bg_size = bg_size
        self.fuse_k = fuse_k
        self.low = (fuse_k - 1) // 2
        self.high = fuse_k - 1 - self.low

    def rows_per_chunk(self, chunk_elements: int):
        """Rows per block so that a block's scores hold about `chunk_elements` values, at
        least `fuse_k` rows; balanced so the last block is not much shorter. A static int
        when the shapes are static, else an int64 scalar."""
        per_row = self.batch * self.width * self.patch_count
        most = _maximum(chunk_elements // per_row - (self.fuse_k - 1), max(self.fuse_k, 1))
        count = (self.height + most - 1) // most
        return (self.height + count - 1) // count

    def pasted(self, rows, attend):
        """`attend(fused scores [B, n, L]) -> [B, n, P]` applied block by block: `[B, h*w, P]`.

        Needs `rows >= fuse_k` and `h > rows` (several blocks)."""
        batch, height, width, patch_count = (
            _int64(n) for n in (self.batch, self.height, self.width, self.patch_count)
        )
        low, high = self.low, self.high
        rows = _int64(rows)
        count = (height + rows - 1) // rows
        if low:
            # Virtual rows -low..-1 are F1[t + h, x - 1].
            above = _shift(self._row_fused(height - low, height), 1, axis=2)
        if high:
            # Virtual rows h..h+high-1 are F1[t - h, x + 1].
            below = _shift(self._row_fused(0, high), -1, axis=2)

        def block(index, outputs):
            first, end = index * rows - low, index * rows + rows + high
            parts = []
            if low:
                parts.append(above[:, low - tf.clip_by_value(-first, 0, low) :])
            parts.append(self._row_fused(tf.maximum(first, 0), tf.minimum(end, height)))
            if high:
                parts.append(below[:, : tf.clip_by_value(end - height, 0, high)])
            # Rows past the wrapped ones (the last block's padding; its outputs are dropped).
            zero_rows = tf.maximum(end - height - high, 0)
            parts.append(
                tf.zeros(tf.stack([batch, zero_rows, width, patch_count]), self.patches.dtype)
            )
            row_fused = tf.concat(parts, axis=1)  # F1 on rows [first, end): [B, R+k-1, w, L]
            fused = None
            for d in range(-low, high + 1):
                term = self._column_shift(row_fused[:, low + d : low + d + rows], d)
                fused = term if fused is None else fused + term
            scores = tf.reshape(fused, tf.stack([batch, rows * width, patch_count]))
            return index + 1, outputs.write(tf.cast(index, tf.int32), attend(scores))

        outputs = tf.TensorArray(self.patches.dtype, size=tf.cast(count, tf.int32))
        _, outputs = tf.while_loop(
            lambda index, _: index < count,
            block,
            (tf.constant(0, tf.int64), outputs),
            parallel_iterations=1,
        )
        stacked = outputs.stack()  # [count, B, R*w, P]
        pasted = tf.reshape(
            tf.transpose(stacked, [1, 0, 2, 3]),
            tf.stack([batch, -1, tf.shape(stacked, out_type=tf.int64)[-1]]),
        )
        return pasted[:, : height * width]

    def _row_fused(self, first, end):
        """F1 (the row-major diagonal sum of the scores) on foreground rows `[first, end)`:
        `[B, end - first, w, L]`."""
        batch, height, width, patch_count = (
            _int64(n) for n in (self.batch, self.height, self.width, self.patch_count)
        )
        low, high = self.low, self.high
        total = height * width
        start, stop = first * width, end * width
        begin = tf.maximum(start - low, 0)
        finish = tf.minimum(stop + high, total)
        scores = tf.matmul(self.neighbourhoods[:, begin:finish], self.patches, transpose_b=True)
        # Positions start-low .. stop+high-1 and patches -low .. L+high-1, zero outside the
        # image as in the official conv; then each diagonal term is one slice.
        rows = [begin - (start - low), stop + high - finish]
        scores = tf.pad(scores, [[0, 0], rows, [low, high]])
        length = stop - start
        fused = None
        for d in range(-low, high + 1):
            term = scores[:, low + d : low + d + length, low + d : low + d + patch_count]
            fused = term if fused is None else fused + term
        return tf.reshape(fused, tf.stack([batch, end - first, width, patch_count]))

    def _column_shift(self, scores, offset: int):
        """`out[..., l] = scores[..., l2]` where `l2` follows background patch `l` by `offset`
        in column-major order; zero past either end. `scores`: `[..., L]`, `L = bh * bw`,
        with `bh > |offset|`.

        Patch `(by, bx)` moves to `(by + offset, bx)`, a shift by `offset * bw` in row-major
        order, except in the `|offset|` rows that wrap to the next (previous) column: those
        read the first (last) rows shifted by one column, zero past the last (first) column.
        """
        if offset == 0:
            return scores
        width = _int64(self.bg_size[1])
        count = _int64(self.patch_count)
        span = abs(offset) * width  # elements of the wrapping rows
        column = tf.range(span) % width
        if offset > 0:
            wrapped = scores[..., 1 : span + 1] * tf.cast(column != width - 1, scores.dtype)
            return tf.concat([scores[..., span:], wrapped], axis=-1)
        wrapped = scores[..., count - span - 1 : count - 1] * tf.cast(column != 0, scores.dtype)
        return tf.concat([wrapped, scores[..., : count - span]], axis=-1)


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
            (same results, memory linear in the pixel count; see `_RowChunks`). The
            default, 2**24 (64 MB in float32), leaves images up to about 800 x 800 px
            unchunked. None computes all scores at once.
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
        batch, height, width, channels = shape[0], shape[1], shape[2], shape[3]
        rate, ksize, stride = self.rate, self.ksize, self.stride
        down_size = (height // rate, width // rate)

        raw = tf.image.extract_patches(
            features,
            sizes=[1, 2 * rate, 2 * rate, 1],
            strides=[1, rate * stride, rate * stride, 1],
            rates=[1, 1, 1, 1],
            padding="SAME",
        )
        raw = tf.reshape(raw, [batch, -1, (2 * rate) ** 2 * channels])

        down = resize_nearest_align_corners(features, down_size)
        patch_grid = tf.image.extract_patches(
            down,
            sizes=[1, ksize, ksize, 1],
            strides=[1, stride, stride, 1],
            rates=[1, 1, 1, 1],
            padding="SAME",
        )
        grid_h, grid_w = tf.shape(patch_grid)[1], tf.shape(patch_grid)[2]
        patches = tf.reshape(patch_grid, [batch, -1, ksize * ksize * channels])
        norms = tf.sqrt(tf.reduce_sum(tf.square(patches), axis=-1, keepdims=True))
        patches = patches / tf.maximum(norms, 1e-4)

        neighbourhoods = tf.image.extract_patches(
            down,
            sizes=[1, ksize, ksize, 1],
            strides=[1, 1, 1, 1],
            rates=[1, 1, 1, 1],
            padding="SAME",
        )
        neighbourhoods = tf.reshape(neighbourhoods, [batch, -1, ksize * ksize * channels])
        valid = self._valid_patches(mask, down_size)  # [B or 1, 1, L]

        def attend(scores):  # fused scores [B, n, L] -> pasted raw patches [B, n, 4r^2 C]
            scores = scores * valid
            attention = tf.nn.softmax(scores * self.softmax_scale, axis=-1) * valid
            return tf.matmul(attention, raw)

        def whole():
            scores = tf.matmul(neighbourhoods, patches, transpose_b=True)  # [B, h*w, L]
            if self.fuse:
                scores = self._propagate(scores, down_size, (grid_h, grid_w))
            return attend(scores)

        if self.chunk_elements is None:
            pasted = whole()
        else:
            chunks = _RowChunks(
                neighbourhoods,
                patches,
                (_dim(features, 1) // rate, _dim(features, 2) // rate),
                (_dim(patch_grid, 1), _dim(patch_grid, 2)),
                self.fuse_k if self.fuse else 1,
            )
            rows = chunks.rows_per_chunk(self.chunk_elements)
            if isinstance(rows, int):  # static shapes: decided while tracing
                pasted = whole() if rows >= chunks.height else chunks.pasted(rows, attend)
            else:
                pasted = tf.cond(rows >= chunks.height, whole, lambda: chunks.pasted(rows, attend))
        pasted = tf.reshape(
            pasted, [batch, down_size[0], down_size[1], 2 * rate, 2 * rate, channels]
        )
        return _fold(pasted, rate) / 4.0

    def _propagate(self, scores, fg_size, bg_size):
        """Diagonal sums in row-major, then in column-major flattened order (official fuse)."""
        k = self.fuse_k
        batch = tf.shape(scores)[0]
        fh, fw = fg_size
        bh, bw = bg_size
        scores = _diagonal_sum(scores, k)
        scores = tf.reshape(scores, [batch, fh, fw, bh, bw])
        scores = tf.reshape(tf.transpose(scores, [0, 2, 1, 4, 3]), [batch, fw * fh, bw * bh])
        scores = _diagonal_sum(scores, k)
        scores = tf.reshape(scores, [batch, fw, fh, bw, bh])
        return tf.reshape(tf.transpose(scores, [0, 2, 1, 4, 3]), [batch, fh * fw, bh * bw])

    def _valid_patches(self, mask, down_size):
        """1.0 for patches with no hole pixel in the downscaled mask, else 0.0: `[B, 1, L]`."""
        if mask is None:
            return tf.constant(1.0, self.compute_dtype)
        mask = tf.convert_to_tensor(mask, dtype=self.compute_dtype)
        mask = resize_nearest_align_corners(mask[..., :1], down_size)
        mask_patches = tf.image.extract_patches(
            mask,
            sizes=[1, self.ksize, self.ksize, 1],
            strides=[1, self.stride, self.stride, 1],
            rates=[1, 1, 1, 1],
            padding="SAME",
        )
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
            }
        )
        return config
