"""Keras callbacks of the trainer: checkpoints, stop at a step, progress, NaN guard, summaries."""

from __future__ import annotations

import math
import signal
import time

import keras
import numpy as np
import tensorflow as tf
from absl import logging


class CheckpointAndStop(keras.callbacks.Callback):
    """Saves every `save_every_steps`, at the end, and on SIGTERM/SIGINT; stops at `max_steps`.

    A signal does not interrupt the step in progress: the step finishes, a checkpoint
    is written and training stops, so no work is lost beyond that step.
    """

    def __init__(self, manager: tf.train.CheckpointManager, save_every_steps: int, max_steps: int):
        super().__init__()
        self.manager = manager
        self.save_every_steps = save_every_steps
        self.max_steps = max_steps
        self.signal_received: int | None = None
        self._last_saved = None
        self._previous_handlers = {}

    def _on_signal(self, signum, frame):
        logging.warning(
            "Received %s: saving a checkpoint after this step.", signal.Signals(signum).name
        )
        self.signal_received = signum

    def on_train_begin(self, logs=None):
        self._last_saved = self.model.completed_steps
        for signum in (signal.SIGTERM, signal.SIGINT):
            self._previous_handlers[signum] = signal.signal(signum, self._on_signal)

    def on_train_batch_end(self, batch, logs=None):
        step = self.model.completed_steps
        due = step - self._last_saved >= self.save_every_steps
        if due or step >= self.max_steps or self.signal_received is not None:
            self.save(step)
        if step >= self.max_steps or self.signal_received is not None:
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        self.save(self.model.completed_steps)
        self.restore_signal_handlers()

    def restore_signal_handlers(self) -> None:
        """Puts back the SIGTERM/SIGINT handlers of before training (Keras does not call
        `on_train_end` when training stops with an error: call this then)."""
        for signum, handler in self._previous_handlers.items():
            signal.signal(signum, handler)
        self._previous_handlers = {}

    def save(self, step: int) -> None:
        if step != self._last_saved or self.manager.latest_checkpoint is None:
            path = self.manager.save(checkpoint_number=step)
            logging.info("Saved checkpoint %s", path)
            self._last_saved = step


class NaNGuard(keras.callbacks.Callback):
    """Stops training with a clear error when a loss becomes NaN or infinite."""

    def on_train_batch_end(self, batch, logs=None):
        for name, value in (logs or {}).items():
            if not math.isfinite(float(value)):
                raise FloatingPointError(
                    f"Loss {name} became {value} at step {self.model.completed_steps}. Training "
                    f"stopped without saving these weights; the last checkpoint is intact. Try "
                    f"lower --g_lr/--d_lr, fp32 instead of --mixed_precision, or check the data."
                )


class ProgressLogger(keras.callbacks.Callback):
    """Logs step, steps/s and the losses every `every_steps` steps."""

    def __init__(self, every_steps: int, max_steps: int):
        super().__init__()
        self.every_steps = every_steps
        self.max_steps = max_steps

    def on_train_begin(self, logs=None):
        self._time, self._step = time.perf_counter(), self.model.completed_steps

    def on_train_batch_end(self, batch, logs=None):
        step = self.model.completed_steps
        if step - self._step < self.every_steps and step < self.max_steps:
            return
        now = time.perf_counter()
        rate = (step - self._step) / max(now - self._time, 1e-9)
        losses = "  ".join(f"{k} {float(v):.4f}" for k, v in (logs or {}).items())
        logging.info("step %d/%d  %.2f steps/s  %s", step, self.max_steps, rate, losses)
        self._time, self._step = now, step


class TensorBoardSummaries(keras.callbacks.Callback):
    """Writes the losses and an image grid (input, coarse, fine, completed, original).

    Scalars go to `log_dir/train` every `every_steps`, validation metrics to
    `log_dir/validation` after each evaluation; the step is the global training step,
    so resumed runs continue the same curves.
    """

    def __init__(self, log_dir: str, every_steps: int, sample_batch: dict, max_images: int = 4):
        super().__init__()
        self.every_steps = every_steps
        self.sample = {k: v[:max_images] for k, v in sample_batch.items()}
        self.train_writer = tf.summary.create_file_writer(f"{log_dir}/train")
        self.val_writer = tf.summary.create_file_writer(f"{log_dir}/validation")
        self._last = None

    def on_train_begin(self, logs=None):
        self._last = self.model.completed_steps

    def on_train_batch_end(self, batch, logs=None):
        step = self.model.completed_steps
        if step - self._last < self.every_steps:
            return
        self._last = step
        with self.train_writer.as_default(step=step):
            for name, value in (logs or {}).items():
                tf.summary.scalar(name, float(value))
            tf.summary.image("input|coarse|fine|completed|original", self._grid(), max_outputs=4)
        self.train_writer.flush()

    def on_epoch_end(self, epoch, logs=None):
        val = {k[len("val_") :]: v for k, v in (logs or {}).items() if k.startswith("val_")}
        if val:
            with self.val_writer.as_default(step=self.model.completed_steps):
                for name, value in val.items():
                    tf.summary.scalar(name, float(value))
            self.val_writer.flush()

    def _grid(self) -> np.ndarray:
        """`[N, H, 5W, 3]` uint8: masked input, coarse, fine, completed, original side by side."""
        image, mask = self.sample["image"], self.sample["mask"]
        x_stage1, x_stage2, completed = self.model.generate(self.sample)
        masked = image * (1.0 - mask) + mask  # the hole shown white
        panels = [masked, x_stage1, x_stage2, completed, image]
        grid = tf.concat(panels, axis=2)
        return tf.cast(tf.clip_by_value((grid + 1.0) * 127.5, 0, 255), tf.uint8).numpy()
