"""Runners: what fills a batch of uint8 images for `Inpainter`. A Keras generator runs here as
a traced graph; an exported SavedModel runs through `saved_model.SavedModelRunner`."""

from __future__ import annotations

import functools
from typing import Protocol

import numpy as np
import tensorflow as tf

from gated_inpaint.inference.hd_strategy import HDStrategy, inpaint_uint8_hd
from gated_inpaint.inference.precision import with_precision
from gated_inpaint.models.generator import InpaintGenerator


class Runner(Protocol):
    """Fills a batch: images uint8 `[B, H, W, 3]`, masks uint8 `[B, H, W, 1]` in {0, 1}, edges
    like masks (guided models) or None; returns uint8 `[B, H, W, 3]`."""

    guided: bool
    description: str

    def __call__(
        self, images: np.ndarray, masks: np.ndarray, edges: np.ndarray | None
    ) -> np.ndarray: ...


class GeneratorRunner:
    """A Keras generator behind `inpaint_uint8_hd`, in a `tf.function(reduce_retracing=True)`:
    the first call traces the graph, a call with a new size traces once more with unknown
    sizes, and from then on any size or batch size reuses that graph.

    Args:
        generator: an `InpaintGenerator` that takes RGB.
        hd: the high-resolution strategy.
        precision: `"float32"`, `"bfloat16"` or `"float16"`: what the generator computes in.

    Attributes:
        generator: the generator that runs (a copy computing in `precision` if needed).
        graph: the `tf.function` (its `experimental_get_tracing_count()` counts traces).
    """

    def __init__(self, generator: InpaintGenerator, hd: HDStrategy, precision: str):
        self.generator = with_precision(generator, precision)
        self.guided = self.generator.guided
        self.graph = tf.function(
            functools.partial(inpaint_uint8_hd, self.generator, hd=hd), reduce_retracing=True
        )
        self.description = (
            f"cnum={generator.cnum}, hd_strategy={hd.strategy!r}, hd_max_size={hd.max_size}, "
            f"hd_margin={hd.margin}, precision={precision!r}"
        )

    def __call__(
        self, images: np.ndarray, masks: np.ndarray, edges: np.ndarray | None
    ) -> np.ndarray:
        edges = None if edges is None else tf.constant(edges)
        return self.graph(tf.constant(images), tf.constant(masks), edges).numpy()
