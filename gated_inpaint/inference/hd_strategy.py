"""High-resolution strategies: how photos larger than the network should see are filled.

The generator's cost grows with the pixel count (its contextual attention compares every
pair of patches), and models trained on 256-512 px crops fill large holes of a 12-megapixel
photo no better at full resolution than at 1 megapixel. Photos whose long side is at most
`max_size` are always filled whole at full resolution; for larger ones:

- `original`: the whole photo at full resolution (slow, memory grows with the photo).
- `crop`: the box around all holes, widened by `margin` px of context on each side, at full
  resolution; a box whose long side exceeds `max_size` is scaled down to it first. Small
  holes in a large photo are filled at full detail, and large or spread-out holes cost at
  most a `max_size` image.
- `resize`: the whole photo scaled down so its long side is `max_size`.

When the network runs on a scaled-down copy (area-averaged; a pixel is a hole there when any
pixel under it is), its fill is scaled back up bilinearly. In every case only hole pixels
change: known pixels keep their exact input values.
"""

from __future__ import annotations

import functools

import tensorflow as tf

from gated_inpaint.inference.options import DEFAULT_HD, HDStrategy
from gated_inpaint.inference.uint8_graph import inpaint_uint8
from gated_inpaint.inference.xla import compiled_inpaint_uint8
from gated_inpaint.models.generator import InpaintGenerator


def inpaint_uint8_hd(
    generator: InpaintGenerator,
    images: tf.Tensor,
    masks: tf.Tensor,
    edges: tf.Tensor | None = None,
    hd: HDStrategy = DEFAULT_HD,
    jit_compile: bool = False,
) -> tf.Tensor:
    """`uint8_graph.inpaint_uint8` with a high-resolution strategy for large images.

    Args:
        generator, images, masks, edges: as for `uint8_graph.inpaint_uint8` (uint8 RGB
            `[B, H, W, 3]`, masks `[B, H, W, 1]` nonzero = hole, optional edges likewise).
        hd: the strategy; images with `max(H, W) <= hd.max_size` are filled whole.
        jit_compile: run `inpaint_uint8` compiled by XLA (see `xla`; `generator` from
            `xla.compilable`).

    Returns:
        uint8 `[B, H, W, 3]`: the input with its hole pixels filled. Large images are
        processed one at a time (their crop boxes differ).

    The graph calls the generator once, whatever the branch: tracing a generator costs
    seconds. A loop runs over pieces, the whole batch (small images) or each image (large
    ones); each piece chooses its network input (whole, region, or region scaled down),
    goes through the network and is pasted back.
    """
    fill = (
        compiled_inpaint_uint8(generator)
        if jit_compile
        else functools.partial(inpaint_uint8, generator)
    )
    if hd.strategy == "original":
        return fill(*[x for x in (images, masks, edges) if x is not None])
    parts = [tf.convert_to_tensor(x) for x in [images, masks] + ([] if edges is None else [edges])]
    batch, height, width = tf.shape(images)[0], tf.shape(images)[1], tf.shape(images)[2]
    large = tf.maximum(height, width) > hd.max_size

    def piece(index):
        first, count = tf.cond(large, lambda: (index, 1), lambda: (0, batch))
        items = [x[first : first + count] for x in parts]
        hole = tf.cast(items[1], tf.float32) > 0.0  # [count, H, W, 1]
        if hd.strategy == "crop":
            box = tf.cond(
                large,
                lambda: hole_box(hole[0, ..., 0], hd.margin),
                lambda: (0, 0, height, width),
            )
        else:
            box = (0, 0, height, width)
        top, left, bottom, right = box
        region = [x[:, top:bottom, left:right] for x in items]
        size = tf.shape(region[0])[1:3]
        scaled = tf.reduce_max(size) > hd.max_size
        network_input = tf.cond(scaled, lambda: _scaled_down(region, hd.max_size), lambda: region)
        filled = fill(*network_input)
        filled = tf.cond(scaled, lambda: _scaled_up(filled, size), lambda: filled)
        pasted = tf.pad(filled, [[0, 0], [top, height - bottom], [left, width - right], [0, 0]])
        return tf.where(hole, pasted, items[0])

    pieces = tf.map_fn(
        piece,
        tf.range(tf.where(large, batch, 1)),
        fn_output_signature=tf.TensorSpec([None, None, None, 3], tf.uint8),
        parallel_iterations=1,
    )
    return tf.reshape(pieces, [batch, height, width, 3])


def hole_box(hole: tf.Tensor, margin: int) -> tuple[tf.Tensor, ...]:
    """`(top, left, bottom, right)` of the holes' bounding box widened by `margin`, clipped to
    the image; the whole image when there is no hole (nothing then changes)."""
    height, width = tf.shape(hole)[0], tf.shape(hole)[1]
    rows = tf.where(tf.reduce_any(hole, axis=1))[:, 0]
    columns = tf.where(tf.reduce_any(hole, axis=0))[:, 0]
    empty = tf.equal(tf.size(rows), 0)

    def bounds(indices, size):
        first = tf.cast(tf.reduce_min(indices), tf.int32) - margin
        last = tf.cast(tf.reduce_max(indices), tf.int32) + 1 + margin
        low = tf.where(empty, 0, tf.maximum(first, 0))
        high = tf.where(empty, size, tf.minimum(last, size))
        return low, high

    top, bottom = bounds(rows, height)
    left, right = bounds(columns, width)
    return top, left, bottom, right


def _scaled_down(parts: list[tf.Tensor], max_size: int) -> list[tf.Tensor]:
    """A batch `[b, h, w, C]` of image and maps scaled down (area) to a long side of
    `max_size`: image values rounded, a map pixel set where any pixel under it is."""
    image, *maps = parts
    size = tf.shape(image)[1:3]
    scale = max_size / tf.cast(tf.reduce_max(size), tf.float32)
    small = tf.maximum(tf.cast(tf.round(tf.cast(size, tf.float32) * scale), tf.int32), 1)

    def shrink(x):
        return tf.image.resize(tf.cast(x, tf.float32), small, method="area")

    small_image = tf.cast(tf.clip_by_value(tf.round(shrink(image)), 0.0, 255.0), image.dtype)
    return [small_image] + [tf.cast(shrink(x) > 0.0, x.dtype) for x in maps]


def _scaled_up(filled: tf.Tensor, size: tf.Tensor) -> tf.Tensor:
    """uint8 `[b, h, w, 3]` scaled up (bilinear) to `size` `(H, W)`, rounded."""
    grown = tf.image.resize(tf.cast(filled, tf.float32), size, method="bilinear")
    return tf.cast(tf.clip_by_value(tf.round(grown), 0.0, 255.0), tf.uint8)
