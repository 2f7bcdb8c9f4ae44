"""Time of one training step (one D + one G update) of the full-size DeepFill v2 model.

Usage: python bench/train_step.py [--size 256] [--batch 4] [--steps 8] [--mixed_precision]
    [--jit_compile]
Synthetic images and union masks; the median and spread of the per-step wall time over
`--steps` steps after two warm-up steps (the first one traces the graph and, with
`--jit_compile`, XLA-compiles it; its time is reported apart). bench/run.py calls `measure`
for its training rows.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from gated_inpaint.data.masks import random_mask  # noqa: E402
from gated_inpaint.training.config import TrainConfig  # noqa: E402
from gated_inpaint.training.trainer import build_model, set_precision_policy  # noqa: E402

WARMUP_STEPS = 2


class StepTimer(keras.callbacks.Callback):
    def on_train_batch_begin(self, batch, logs=None):
        self.start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.times.append(time.perf_counter() - self.start)

    def on_train_begin(self, logs=None):
        self.times = []


def measure(
    size: int, batch: int, steps: int, mixed_precision: bool, jit_compile: bool = False
) -> dict:
    """Per-step wall times of `steps` steps after `WARMUP_STEPS`, in this process (it sets the
    global dtype policy): `policy`, `median_s`, `min_s`, `max_s`, `steps`, `steps_per_s`, and
    `first_step_s` (tracing, compiling and running the first step)."""
    policy = set_precision_policy(mixed_precision)
    model = build_model(TrainConfig(data="", model_dir="", jit_compile=jit_compile), policy)
    rng = np.random.default_rng(0)
    image = rng.uniform(-1, 1, (batch, size, size, 3)).astype("float32")
    masks = np.stack([random_mask(size, size, "union", rng) for _ in range(batch)])
    data = tf.data.Dataset.from_tensors({"image": image, "mask": masks[..., None]}).repeat()
    timer = StepTimer()
    model.fit(data, steps_per_epoch=WARMUP_STEPS + steps, callbacks=[timer], verbose=0)
    times = timer.times[WARMUP_STEPS:]
    median = statistics.median(times)
    return {
        "policy": policy,
        "median_s": median,
        "min_s": min(times),
        "max_s": max(times),
        "steps": len(times),
        "steps_per_s": 1 / median,
        "first_step_s": timer.times[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--mixed_precision", action="store_true")
    parser.add_argument("--jit_compile", action="store_true", help="XLA-compile the step")
    args = parser.parse_args()
    r = measure(args.size, args.batch, args.steps, args.mixed_precision, args.jit_compile)
    print(
        f"policy {r['policy']}{' XLA' if args.jit_compile else ''}  {args.size}x{args.size} "
        f"batch {args.batch}: median {r['median_s']:.3f} s/step  min {r['min_s']:.3f}  "
        f"max {r['max_s']:.3f}  ({r['steps']} steps; first step {r['first_step_s']:.1f} s)"
    )


if __name__ == "__main__":
    main()
