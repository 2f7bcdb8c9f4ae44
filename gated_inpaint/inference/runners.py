"""Runners: what fills a batch of uint8 images for `Inpainter`. A Keras generator runs here as
a traced graph; an exported SavedModel runs through `saved_model.SavedModelRunner`."""

from __future__ import annotations

import functools
from typing import Protocol

import numpy as np
import tensorflow as tf

from gated_inpaint.inference.hd_strategy import inpaint_uint8_hd
from gated_inpaint.inference.options import HDStrategy
from gated_inpaint.inference.precision import with_precision
from gated_inpaint.inference.xla import compilable
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
    """A Keras generator behind `inpaint_uint8_hd`, in a `tf.function` traced once, on its
    first call, for any image size and batch size (its input signature has unknown sizes).

    Args:
        generator: an `InpaintGenerator` that takes RGB.
        hd: the high-resolution strategy.
        precision: `"float32"`, `"bfloat16"` or `"float16"`: what the generator computes in.
        jit_compile: compile the network step with XLA, once per size it meets (see `xla`).

    Attributes:
        generator: the generator that runs (a copy computing in `precision` if needed).
        graph: the `tf.function` (its `experimental_get_tracing_count()` counts traces).
    """

    def __init__(
        self,
        generator: InpaintGenerator,
        hd: HDStrategy,
        precision: str,
        jit_compile: bool = False,
    ):
        self.generator = with_precision(generator, precision)
        if jit_compile:
            self.generator = compilable(self.generator)
        self.guided = self.generator.guided
        maps = [tf.TensorSpec([None, None, None, 1], tf.uint8)] * (2 if self.guided else 1)
        self.graph = tf.function(
            functools.partial(inpaint_uint8_hd, self.generator, hd=hd, jit_compile=jit_compile),
            input_signature=[tf.TensorSpec([None, None, None, 3], tf.uint8), *maps],
        )
        self.description = (
            f"cnum={generator.cnum}, hd_strategy={hd.strategy!r}, hd_max_size={hd.max_size}, "
            f"hd_margin={hd.margin}, precision={precision!r}, jit_compile={jit_compile}"
        )

    def __call__(
        self, images: np.ndarray, masks: np.ndarray, edges: np.ndarray | None
    ) -> np.ndarray:
        inputs = [images, masks] + ([edges] if self.guided else [])
        return self.graph(*[tf.constant(x, tf.uint8) for x in inputs]).numpy()
