"""Contextual attention a block of foreground rows at a time: memory linear in the pixels."""

from __future__ import annotations

import tensorflow as tf

from gated_inpaint.layers.attention_ops import dim, maximum, shift


class RowChunks:
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
        index_dtype: the integer type of sizes and indices: int64 (no overflow at any
            size), or int32 (LiteRT has no int64 division; enough below 2**31 scores a row).
    """

    def __init__(
        self, neighbourhoods, patches, fg_size, bg_size, fuse_k: int, index_dtype=tf.int64
    ):
        self.neighbourhoods = neighbourhoods
        self.patches = patches
        self.index_dtype = index_dtype
        # Static ints where known (to decide while tracing), else scalars of index_dtype.
        self.batch = self._index(dim(neighbourhoods, 0))
        self.patch_count = self._index(dim(patches, 1))
        self.height, self.width = (self._index(n) for n in fg_size)
        self.bg_size = tuple(self._index(n) for n in bg_size)
        self.fuse_k = fuse_k
        self.low = (fuse_k - 1) // 2
        self.high = fuse_k - 1 - self.low

    def _index(self, n):
        """`n` as a static int, or as a scalar of `index_dtype`."""
        return n if isinstance(n, int) else tf.cast(n, self.index_dtype)

    def _as_tensor(self, n) -> tf.Tensor:
        """`n` as a scalar tensor of `index_dtype`."""
        return tf.cast(n, self.index_dtype)

    def rows_per_chunk(self, chunk_elements: int):
        """Rows per block so that a block's scores hold about `chunk_elements` values, at
        least `fuse_k` rows; balanced so the last block is not much shorter. A static int
        when the shapes are static, else a scalar of `index_dtype`."""
        per_row = self.batch * self.width * self.patch_count
        most = maximum(chunk_elements // per_row - (self.fuse_k - 1), max(self.fuse_k, 1))
        count = (self.height + most - 1) // most
        return (self.height + count - 1) // count

    def pasted(self, rows, attend, portable_width: int | None = None):
        """`attend(fused scores [B, n, L]) -> [B, n, P]` applied block by block: `[B, h*w, P]`.

        Needs `rows >= fuse_k`. With `portable_width` (P, static), the blocks' outputs are
        concatenated in the loop instead of written to a `TensorArray`, which LiteRT and
        ONNX cannot convert at unknown sizes (it copies the outputs once per block)."""
        batch, height, width, patch_count = (
            self._as_tensor(n) for n in (self.batch, self.height, self.width, self.patch_count)
        )
        low, high = self.low, self.high
        rows = self._as_tensor(rows)
        count = (height + rows - 1) // rows
        if low:
            # Virtual rows -low..-1 are F1[t + h, x - 1].
            above = shift(self._row_fused(height - low, height), 1, axis=2)
        if high:
            # Virtual rows h..h+high-1 are F1[t - h, x + 1].
            below = shift(self._row_fused(0, high), -1, axis=2)

        def block_output(index):
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
            return attend(tf.reshape(fused, tf.stack([batch, rows * width, patch_count])))

        def more(index, _):
            return index < count

        start = tf.constant(0, self.index_dtype)
        if portable_width is not None:
            empty = tf.zeros(tf.stack([batch, 0, portable_width]), self.patches.dtype)
            _, pasted = tf.while_loop(
                more,
                lambda index, done: (index + 1, tf.concat([done, block_output(index)], axis=1)),
                (start, empty),
                shape_invariants=(start.shape, tf.TensorShape([None, None, portable_width])),
                parallel_iterations=1,
            )
            return pasted[:, : height * width]

        def block(index, outputs):
            return index + 1, outputs.write(tf.cast(index, tf.int32), block_output(index))

        outputs = tf.TensorArray(self.patches.dtype, size=tf.cast(count, tf.int32))
        _, outputs = tf.while_loop(more, block, (start, outputs), parallel_iterations=1)
        stacked = outputs.stack()  # [count, B, R*w, P]
        pasted = tf.reshape(
            tf.transpose(stacked, [1, 0, 2, 3]),
            tf.stack([batch, -1, tf.shape(stacked, out_type=self.index_dtype)[-1]]),
        )
        return pasted[:, : height * width]

    def _row_fused(self, first, end):
        """F1 (the row-major diagonal sum of the scores) on foreground rows `[first, end)`:
        `[B, end - first, w, L]`."""
        batch, height, width, patch_count = (
            self._as_tensor(n) for n in (self.batch, self.height, self.width, self.patch_count)
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
        width = self._as_tensor(self.bg_size[1])
        count = self._as_tensor(self.patch_count)
        span = abs(offset) * width  # elements of the wrapping rows
        column = tf.range(span) % width
        if offset > 0:
            wrapped = scores[..., 1 : span + 1] * tf.cast(column != width - 1, scores.dtype)
            return tf.concat([scores[..., span:], wrapped], axis=-1)
        wrapped = scores[..., count - span - 1 : count - 1] * tf.cast(column != 0, scores.dtype)
        return tf.concat([wrapped, scores[..., : count - span]], axis=-1)
