"""DeepFill v2 training masks (spec section 8): free-form strokes, a rectangle, or their union.

Every mask is a float32 `[H, W]` array with 1 = hole and 0 = known pixel. The official training
default is `"union"`: one rectangle OR'ed with one to three brush strokes. Unlike the official
code, which shared one mask per batch, every sample gets its own mask.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf
from PIL import Image, ImageDraw

from gated_inpaint.data.options import MASK_TYPES

_MIN_NUM_VERTEX = 4
_MAX_NUM_VERTEX = 12  # exclusive: 4 to 11 vertices per stroke
_MEAN_ANGLE = 2 * math.pi / 5
_ANGLE_RANGE = 2 * math.pi / 15
_MIN_WIDTH = 12
_MAX_WIDTH = 40


def brush_stroke_mask(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """Official free-form mask: 1 to 3 zig-zag polylines, 12 to 39 px wide, round joints.

    Returns:
        `[height, width]` float32 array with values in {0, 1}.
    """
    average_radius = math.hypot(height, width) / 8
    canvas = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(canvas)
    for _ in range(rng.integers(1, 4)):
        num_vertex = rng.integers(_MIN_NUM_VERTEX, _MAX_NUM_VERTEX)
        angle_min = _MEAN_ANGLE - rng.uniform(0, _ANGLE_RANGE)
        angle_max = _MEAN_ANGLE + rng.uniform(0, _ANGLE_RANGE)
        angles = rng.uniform(angle_min, angle_max, size=num_vertex)
        angles[::2] = 2 * math.pi - angles[::2]
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        points = [(x, y)]
        radii = np.clip(
            rng.normal(average_radius, average_radius // 2, size=num_vertex),
            0,
            2 * average_radius,
        )
        for radius, angle in zip(radii.tolist(), angles.tolist(), strict=True):
            x = int(min(max(x + radius * math.cos(angle), 0), width))
            y = int(min(max(y + radius * math.sin(angle), 0), height))
            points.append((x, y))
        line_width = int(rng.uniform(_MIN_WIDTH, _MAX_WIDTH))
        draw.line(points, fill=1, width=line_width)
        half = line_width // 2
        for x, y in points:
            draw.ellipse((x - half, y - half, x + half, y + half), fill=1)
    # The official code draws two normals for random flips whose results it discards: keep the
    # draws so the order of random draws is the official one, but do not flip.
    rng.normal(size=2)
    return np.asarray(canvas, dtype=np.float32)


def _hole_span(size: int, box_size: int, max_delta: int, rng: np.random.Generator) -> slice:
    """One side of the official hole: box offset in [0, size - box), both ends shrunk by 0..delta/2.

    A box larger than the image is clamped to the image, with `max_delta` scaled by the same ratio.
    """
    box = min(box_size, size)
    start = rng.integers(0, max(size - box, 1))
    shrink = rng.integers(0, max_delta * box // box_size // 2 + 1)
    return slice(start + shrink, start + box - shrink)


def bbox_mask(
    height: int,
    width: int,
    rng: np.random.Generator,
    box_size: int = 128,
    max_delta: int = 32,
) -> np.ndarray:
    """Official rectangle mask: a `box_size` square at a random place, shrunk at both ends per side.

    With the defaults the hole is 96 to 128 px per side (always even). On an image smaller than
    `box_size` the box is clamped to the image and `max_delta` scaled in proportion.

    Returns:
        `[height, width]` float32 array with values in {0, 1}.
    """
    if not 0 <= max_delta < box_size:
        raise ValueError(f"need 0 <= max_delta < box_size, got {max_delta=} and {box_size=}")
    mask = np.zeros((height, width), np.float32)
    rows = _hole_span(height, box_size, max_delta, rng)
    cols = _hole_span(width, box_size, max_delta, rng)
    mask[rows, cols] = 1
    return mask


def _check_mask_type(mask_type: str) -> None:
    if mask_type not in MASK_TYPES:
        raise ValueError(f"mask_type must be one of {MASK_TYPES}, got {mask_type!r}")


def random_mask(height: int, width: int, mask_type: str, rng: np.random.Generator) -> np.ndarray:
    """One mask of `mask_type` ("union" = bbox OR strokes, the official default).

    Returns:
        `[height, width]` float32 array with values in {0, 1}.
    """
    _check_mask_type(mask_type)
    if mask_type == "bbox":
        return bbox_mask(height, width, rng)
    if mask_type == "strokes":
        return brush_stroke_mask(height, width, rng)
    return np.maximum(bbox_mask(height, width, rng), brush_stroke_mask(height, width, rng))


def mask_dataset(
    height: int, width: int, mask_type: str = "union", seed: int = 0, start: int = 0
) -> tf.data.Dataset:
    """Infinite, unbatched dataset of float32 `[height, width, 1]` masks with values in {0, 1}.

    Mask `i` depends only on `(seed, i)`, so every run and process sees the same sequence. To
    resume at mask `n`, pass `start=n`: it gives the same elements as `.skip(n)` without
    generating the skipped masks.
    """
    _check_mask_type(mask_type)
    if seed < 0 or start < 0:
        raise ValueError(f"seed and start must be non-negative, got {seed=} and {start=}")

    def generate(index: np.int64) -> np.ndarray:
        return random_mask(height, width, mask_type, np.random.default_rng([seed, int(index)]))

    def to_tensor(index: tf.Tensor) -> tf.Tensor:
        mask = tf.numpy_function(generate, [index], tf.float32, stateful=False)
        return tf.ensure_shape(mask, (height, width))[..., tf.newaxis]

    return tf.data.Dataset.counter(start).map(
        to_tensor, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
    )
