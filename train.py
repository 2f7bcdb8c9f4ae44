"""Train DeepFill v2 (gated convolution + SN-PatchGAN).

    python train.py --flagfile=configs/places2.flags --data=/data/places2/train.flist \
        --model_dir=runs/places2

Resumes from the latest checkpoint in --model_dir (step, both optimizers, spectral-norm
vectors); SIGTERM or Ctrl-C saves a checkpoint after the current step and exits, and
running the same command again continues. TensorBoard: `tensorboard --logdir MODEL_DIR/logs`.
Every flag: `python train.py --helpfull`.
"""

from __future__ import annotations

import os
import sys

from absl import app, flags, logging

from gated_inpaint.commands import train
from gated_inpaint.commands.flags import absl_namespace, define_absl_flags
from gated_inpaint.commands.startup import VERBOSE_FLAG, start_tensorflow
from gated_inpaint.training.config import TrainConfig

define_absl_flags([*train.FLAGS, VERBOSE_FLAG])
FLAGS = flags.FLAGS


def main(argv):
    del argv
    start_tensorflow(FLAGS.verbose)
    from gated_inpaint.training.trainer import run_training
    from gated_inpaint.weights.run_folder import FLAGS_FILE

    config = TrainConfig(**vars(absl_namespace(train.FLAGS)))
    os.makedirs(config.model_dir, exist_ok=True)
    with open(os.path.join(config.model_dir, FLAGS_FILE), "w") as f:
        f.write(FLAGS.flags_into_string())
    try:
        result = run_training(config)
    except (ValueError, FileNotFoundError, FloatingPointError) as error:
        logging.error("%s", error)
        logging.debug("Traceback (shown with --verbosity=1):", exc_info=True)
        sys.exit(1)
    if result["interrupted_by"] is not None:
        logging.info(
            "Interrupted at step %d; checkpoint saved. Run the same command to resume.",
            result["step"],
        )
        sys.exit(128 + result["interrupted_by"])


if __name__ == "__main__":
    app.run(main)
