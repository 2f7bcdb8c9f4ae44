"""Fills holes in uint8 images of any size with a generator: the graph shared by the
SavedModel signatures, the `Inpainter` API and the command line."""

from __future__ import annotations

import tensorflow as tf

from gated_inpaint.models.generator import SIZE_MULTIPLE, InpaintGenerator


def _reflect_indices(size: tf.Tensor, padded: tf.Tensor) -> tf.Tensor:
    """Indices `0..padded-1` into an axis of `size`, mirrored past the end (edge-clamped when
    the padding exceeds the image, so 1-pixel images work too)."""
    i = tf.range(padded)
    mirrored = tf.where(i < size, i, 2 * size - 2 - i)
    return tf.clip_by_value(mirrored, 0, size - 1)


def pad_to_multiple(images: tf.Tensor, multiple: int = SIZE_MULTIPLE) -> tf.Tensor:
    """Reflect-pads `[B, H, W, C]` at the bottom and right to multiples of `multiple`."""
    height, width = tf.shape(images)[1], tf.shape(images)[2]
    padded_h = (height + multiple - 1) // multiple * multiple
    padded_w = (width + multiple - 1) // multiple * multiple
    images = tf.gather(images, _reflect_indices(height, padded_h), axis=1)
    return tf.gather(images, _reflect_indices(width, padded_w), axis=2)


def inpaint_uint8(
    generator: InpaintGenerator,
    images: tf.Tensor,
    masks: tf.Tensor,
    edges: tf.Tensor | None = None,
) -> tf.Tensor:
    """Fills the holes of a batch of uint8 images; known pixels come back unchanged.

    Args:
        generator: an `InpaintGenerator` taking RGB (converted with `channel_order="rgb"`).
        images: uint8 `[B, H, W, 3]` RGB, any H and W.
        masks: `[B, H, W, 1]` of any numeric dtype, nonzero = hole, one mask per image.
        edges: for guided generators, `[B, H, W, 1]`, nonzero = edge (used in the hole).

    Returns:
        uint8 `[B, H, W, 3]`: the generator's refined output in the holes (scaled as the
        official code: `(x + 1) * 127.5`, clipped, truncated), the input elsewhere.
        The image is reflect-padded to a multiple of 8 for the network and cropped back.
    """
    height, width = tf.shape(images)[1], tf.shape(images)[2]
    hole = tf.cast(masks, tf.float32) > 0.0
    x = pad_to_multiple(tf.cast(images, tf.float32) / 127.5 - 1.0)
    m = pad_to_multiple(tf.cast(hole, tf.float32))
    e = (
        None
        if edges is None
        else pad_to_multiple(tf.cast(tf.cast(edges, tf.float32) > 0, tf.float32))
    )
    _, x_stage2 = generator(x, m, e)
    filled = tf.cast(x_stage2[:, :height, :width], tf.float32)
    filled = tf.clip_by_value((filled + 1.0) * 127.5, 0.0, 255.0)
    # Selected in float32 (LiteRT's select has no uint8), then one truncating cast: the
    # known pixels are whole numbers, so they come back exactly.
    known = tf.cast(tf.cast(images, tf.uint8), tf.float32)
    return tf.cast(tf.where(hole, filled, known), tf.uint8)
