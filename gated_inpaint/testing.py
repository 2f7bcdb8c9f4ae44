"""Helpers for tests and benchmarks of networks built from these layers."""

from __future__ import annotations

import keras
import numpy as np


def amplify_weights(model: keras.Model, kernel_scale: float = 2.25, seed: int = 0) -> keras.Model:
    """Scales every kernel by `kernel_scale` and draws every other weight (the biases) uniformly
    in [-0.1, 0.1], reproducibly from `seed`, as the parity fixture does; returns `model`.

    With plain glorot draws a gated network's activations shrink layer after layer towards 0
    (outputs ~1e-8 at cnum=8): comparisons between outputs would be vacuous, and timings would
    measure a degenerate, denormal-prone computation.
    """
    rng = np.random.default_rng(seed)
    for w in model.trainable_weights:
        if w.name == "kernel":
            w.assign(w.numpy() * kernel_scale)
        else:
            w.assign(rng.uniform(-0.1, 0.1, size=w.shape).astype("float32"))
    return model
