"""Decoding training images and edge maps inside `tf.data`, and diagnosing files that fail."""

from __future__ import annotations

import io

import numpy as np
import tensorflow as tf
from PIL import Image


def sobel_edge_map(image: tf.Tensor, threshold: float = 0.6) -> tf.Tensor:
    """Binary edge map of one image: normalised Sobel magnitude of its grayscale > `threshold`.

    Args:
        image: float [H, W, 3], any value range (RGB).
        threshold: in [0, 1], applied to the gradient magnitude divided by its maximum.

    Returns:
        float32 [H, W, 1] in {0, 1}; all zeros for a flat image.
    """
    gray = tf.image.rgb_to_grayscale(tf.cast(image, tf.float32))[tf.newaxis]
    magnitude = tf.norm(tf.image.sobel_edges(gray), axis=-1)[0]
    strength = tf.math.divide_no_nan(magnitude, tf.reduce_max(magnitude))
    return tf.cast(strength > threshold, tf.float32)


def _pil_decode_rgb(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))


def pil_error(path: str) -> str | None:
    """Why PIL cannot decode the file at `path` (a best-effort diagnosis), or None if it can."""
    try:
        with Image.open(path) as image:
            image.load()
    except Exception as e:
        return f"{type(e).__name__}: {e}"
    return None


def decode_rgb(data: tf.Tensor) -> tf.Tensor:
    """Encoded bytes -> uint8 [h, w, 3]. WebP goes through PIL: TF's WebP decoder rejects
    RGBA files with `channels=3` and corrupts the heap on animated files with `channels=0`."""
    head = tf.strings.join([tf.strings.substr(data, 0, 12), "\0" * 12])
    is_webp = tf.logical_and(
        tf.equal(tf.strings.substr(head, 0, 4), "RIFF"),
        tf.equal(tf.strings.substr(head, 8, 4), "WEBP"),
    )

    def pil():
        image = tf.numpy_function(_pil_decode_rgb, [data], tf.uint8, stateful=False)
        return tf.ensure_shape(image, [None, None, 3])

    def native():
        return tf.io.decode_image(data, channels=3, expand_animations=False)

    return tf.cond(is_webp, pil, native)


def read_edge(path: tf.Tensor, size: tf.Tensor) -> tf.Tensor:
    """Channel 0 of an edge image as float32 [H, W, 1] in [0, 255], resized to `size` if needed."""
    edge = tf.io.decode_image(tf.io.read_file(path), expand_animations=False)[..., :1]
    edge = tf.cast(tf.ensure_shape(edge, [None, None, 1]), tf.float32)
    return tf.cond(
        tf.reduce_all(tf.equal(tf.shape(edge)[:2], size)),
        lambda: edge,
        lambda: tf.image.resize(edge, size),
    )
