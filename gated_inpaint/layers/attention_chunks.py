"""Contextual attention a block of foreground rows at a time: memory linear in the pixels."""

from __future__ import annotations

import tensorflow as tf

from gated_inpaint.layers.attention_ops import clip, dim, maximum, shift


class RowChunks:
    """Fused attention, softmax and pasting a block of foreground rows at a time.

    Gives what `ContextualAttention` computes on the whole `[B, h*w, L]` score matrix
    (`L` background patches), with peak memory bounded by one block of rows instead of
    growing with the square of the pixel count. The official fuse is a diagonal sum over
    `fuse_k` neighbours in row-major order (F1), then in column-major order (F2). In
    column-major order the neighbours of `(y, x)` are `(y + d, x)`, wrapping to the
    previous or next column past the top or bottom row. So a block of rows `[r0, r0 + R)`
    needs F1 on rows `[r0 - low, r0 + R + high)`, and F1 on a range of rows needs the raw
    scores of that range and `low`/`high` positions beyond it. The blocks run in order and
    each computes the scores and F1 of its own rows only: the `fuse_k - 1` rows of F1 it
    shares with the next block are carried over, and the wrapped rows at the image's top
    and bottom are computed once.

    Both sums are sums of slices with constant offsets, without transposes: F1 of scores
    computed against patches padded with zero rows (zero outside, as in the official
    conv), F2 of F1 with each background column's wrapped rows put beside it.

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
        self.index_dtype = index_dtype
        # Static ints where known (to decide while tracing), else scalars of index_dtype.
        self.batch = self._index(dim(neighbourhoods, 0))
        self.patch_count = self._index(dim(patches, 1))
        self.height, self.width = (self._index(n) for n in fg_size)
        self.bg_size = tuple(self._index(n) for n in bg_size)
        self.fuse_k = fuse_k
        self.low = (fuse_k - 1) // 2
        self.high = fuse_k - 1 - self.low
        self.dtype = patches.dtype
        # Zero positions and patches beyond both ends: their scores are the zeros F1 reads.
        pad = [[0, 0], [self.low, self.high], [0, 0]]
        self.neighbourhoods = tf.pad(neighbourhoods, pad) if fuse_k > 1 else neighbourhoods
        self.patches = tf.pad(patches, pad) if fuse_k > 1 else patches

    def _index(self, n):
        """`n` as a static int, or as a scalar of `index_dtype`."""
        return n if isinstance(n, int) else tf.cast(n, self.index_dtype)

    def _as_tensor(self, n) -> tf.Tensor:
        """`n` as a scalar tensor of `index_dtype`."""
        return tf.cast(n, self.index_dtype)

    def rows_per_chunk(self, chunk_elements: int):
        """Rows per block so that a block's F1 rows (its own and the `fuse_k - 1` carried)
        hold about `chunk_elements` values, at least `fuse_k` rows; balanced so the last
        block is not much shorter. A static int when the shapes are static, else a scalar
        of `index_dtype`."""
        per_row = self.batch * self.width * self.patch_count
        most = maximum(chunk_elements // per_row - (self.fuse_k - 1), max(self.fuse_k, 1))
        count = (self.height + most - 1) // most
        return (self.height + count - 1) // count

    def whole(self, attend):
        """`attend(fused scores [B, h*w, L]) -> [B, h*w, P]` on all rows at once."""
        height = self._as_tensor(self.height)
        rows = self._row_fused(0, height)
        wrapped = self._wrapped(rows[:, : self.high], rows[:, height - self.low :])
        return attend(self._column_fused(tf.concat([wrapped[0], rows, wrapped[1]], axis=1)))

    def _wrapped(self, top, bottom):
        """The virtual rows of the column-major order from F1 of the `high` top and the `low`
        bottom rows: rows `-low..-1` are `F1[y + h, x - 1]`, rows `h..h+high-1` are
        `F1[y - h, x + 1]` (zero past the first and last columns)."""
        return shift(bottom, 1, axis=2), shift(top, -1, axis=2)

    def pasted(self, rows, attend, portable_width: int | None = None):
        """`attend(fused scores [B, n, L]) -> [B, n, P]` applied block by block: `[B, h*w, P]`.

        With every size static (as XLA compiles them) the blocks run as in `_pasted_static`.
        With `portable_width` (P, static), the blocks' outputs are concatenated in the loop
        instead of written to a `TensorArray`, which LiteRT and ONNX cannot convert at
        unknown sizes (it copies the outputs once per block)."""
        static = (self.batch, self.height, self.width, self.patch_count, rows)
        if portable_width is None and all(isinstance(n, int) for n in static):
            return self._pasted_static(rows, attend)
        batch, height, width = (self._as_tensor(n) for n in (self.batch, self.height, self.width))
        low, high = self.low, self.high
        rows = self._as_tensor(rows)
        count = (height + rows - 1) // rows
        carry_shape = tf.stack([batch, low + high, width, self._as_tensor(self.patch_count)])
        wrapped, halo = self._edges()

        def block_output(index, carried):
            first = index * rows + high
            new_rows = self._row_fused_rows(first, first + rows, wrapped)
            output, carried = self._block(carried, new_rows, rows, attend)
            return output, tf.reshape(carried, carry_shape)

        def more(index, *_):
            return index < count

        start = tf.constant(0, self.index_dtype)
        halo = tf.reshape(halo, carry_shape)
        carried_shape = tf.TensorShape([None] * 4)
        if portable_width is not None:

            def concatenated(index, carried, done):
                output, carried = block_output(index, carried)
                return index + 1, carried, tf.concat([done, output], axis=1)

            empty = tf.zeros(tf.stack([batch, 0, portable_width]), self.dtype)
            _, _, pasted = tf.while_loop(
                more,
                concatenated,
                (start, halo, empty),
                shape_invariants=(
                    start.shape,
                    carried_shape,
                    tf.TensorShape([None, None, portable_width]),
                ),
                parallel_iterations=1,
            )
            return pasted[:, : height * width]

        def block(index, carried, outputs):
            output, carried = block_output(index, carried)
            return index + 1, carried, outputs.write(tf.cast(index, tf.int32), output)

        outputs = tf.TensorArray(self.dtype, size=tf.cast(count, tf.int32))
        _, _, outputs = tf.while_loop(
            more,
            block,
            (start, halo, outputs),
            shape_invariants=(start.shape, carried_shape, None),
            parallel_iterations=1,
        )
        stacked = outputs.stack()  # [count, B, R*w, P]
        pasted = tf.reshape(
            tf.transpose(stacked, [1, 0, 2, 3]),
            tf.stack([batch, -1, tf.shape(stacked, out_type=self.index_dtype)[-1]]),
        )
        return pasted[:, : height * width]

    def _pasted_static(self, rows: int, attend):
        """`pasted` with every size a static int, in a form XLA compiles, also when a replica
        compiles the generator's forward pass apart from its gradient (no loop, whose
        accumulators could not leave the compiled function): the blocks are unrolled while
        tracing, every slice of static bounds, each block's scores computed only after the
        previous block's output (one block's scores held at a time)."""
        high, height = self.high, self.height
        wrapped, carried = self._edges()
        outputs = []
        for first in range(high, height + high, rows):
            with tf.control_dependencies(outputs[-1:]):
                new_rows = self._row_fused_rows(first, first + rows, wrapped)
            output, carried = self._block(carried, new_rows, rows, attend)
            outputs.append(output)
        return tf.concat(outputs, axis=1)[:, : height * self.width]

    def _edges(self):
        """`(wrapped, halo)`: the `_wrapped` rows, and F1 of rows `[-low, high)`, which the
        first block starts from: the wrapped rows above the image, then the top `high` rows
        (computed once for both; `h >= high`, as the wrapped rows need)."""
        low, high, height = self.low, self.high, self.height
        top = self._row_fused(0, high)
        wrapped = self._wrapped(top, self._row_fused(height - low, height))
        return wrapped, tf.concat([wrapped[0], top], axis=1)

    def _block(self, carried, new_rows, rows, attend):
        """One block of `rows` foreground rows `[r0, r0 + rows)`: `(attend(its fused scores)
        [B, rows*w, P], the F1 rows carried to the next block [B, fuse_k - 1, w, L])`, from
        F1 of rows `[r0 - low, r0 + high)` (`carried`) and `[r0 + high, r0 + rows + high)`."""
        row_fused = tf.concat([carried, new_rows], axis=1)
        carried = row_fused[:, rows : rows + self.low + self.high]
        return attend(self._column_fused(row_fused)), carried

    def _row_fused_rows(self, first, end, wrapped):
        """F1 on the rows `[first, end)` of the column-major order's view of the foreground,
        `-low <= first < end`: `[B, end - first, w, L]`. Rows `-low..-1` and `h..h+high-1`
        are the `wrapped` ones (`_wrapped`); rows past those are zero."""
        low, high, height = self.low, self.high, self.height
        parts = []
        if low:
            parts.append(wrapped[0][:, low + clip(first, -low, 0) : low + clip(end, -low, 0)])
        parts.append(self._row_fused(clip(first, 0, height), clip(end, 0, height)))
        if high:
            below = height + high
            parts.append(
                wrapped[1][
                    :, clip(first, height, below) - height : clip(end, height, below) - height
                ]
            )
        zero_rows = maximum(end - maximum(first, height + high), 0)
        parts.append(
            tf.zeros(self._shape(self.batch, zero_rows, self.width, self.patch_count), self.dtype)
        )
        return tf.concat(parts, axis=1)

    def _row_fused(self, first, end):
        """F1 (the row-major diagonal sum of the scores) on foreground rows `[first, end)`,
        `0 <= first <= end <= h`: `[B, end - first, w, L]`."""
        low = self.low
        batch, width, patch_count = (
            self._as_tensor(n) for n in (self.batch, self.width, self.patch_count)
        )
        # Positions first*w - low .. end*w + high - 1 against patches -low .. L + high - 1.
        scores = tf.matmul(
            self.neighbourhoods[:, first * width : end * width + self.fuse_k - 1],
            self.patches,
            transpose_b=True,
        )
        length = (end - first) * width
        fused = tf.add_n(
            [
                scores[:, low + d : low + d + length, low + d : low + d + patch_count]
                for d in range(-low, self.high + 1)
            ]
        )
        return tf.reshape(fused, tf.stack([batch, end - first, width, patch_count]))

    def _shape(self, *sizes):
        """A shape or index vector: a list when every size is a static int, else a tensor."""
        if all(isinstance(n, int) for n in sizes):
            return list(sizes)
        return tf.stack([self._as_tensor(n) for n in sizes])

    def _column_fused(self, row_fused):
        """F2 (the column-major diagonal sum) of F1 on rows `[r0 - low, r0 + R + high)`,
        `[B, R + fuse_k - 1, w, L]`: the fused scores of rows `[r0, r0 + R)`, `[B, R*w, L]`.

        Patch `(by, bx)` and offset `d` read patch `(by + d, bx)`, which wraps to the next
        (previous) background column past the bottom (top) row, zero past the last (first)
        column: each column gets its wrapped rows beside it, then every term is one slice.
        Needs `bh >= max(low, high)`."""
        low, high = self.low, self.high
        if not low and not high:
            return tf.reshape(
                row_fused, tf.stack([tf.shape(row_fused)[0], -1, tf.shape(row_fused)[-1]])
            )
        batch, width, patch_count = (
            self._as_tensor(n) for n in (self.batch, self.width, self.patch_count)
        )
        bg_height, bg_width = (self._as_tensor(n) for n in self.bg_size)
        rows = tf.shape(row_fused, out_type=self.index_dtype)[1] - low - high
        grid = tf.reshape(row_fused, tf.stack([batch, -1, bg_height, bg_width]))
        parts = []
        if low:
            parts.append(shift(grid[:, :, bg_height - low :], 1, axis=3))
        parts.append(grid)
        if high:
            parts.append(shift(grid[:, :, :high], -1, axis=3))
        padded = tf.concat(parts, axis=2)  # [B, (R + k - 1) * w, bh + k - 1, bw]
        fused = tf.add_n(
            [
                padded[
                    :,
                    (low + d) * width : (low + d) * width + rows * width,
                    low + d : low + d + bg_height,
                ]
                for d in range(-low, high + 1)
            ]
        )
        return tf.reshape(fused, tf.stack([batch, rows * width, patch_count]))
