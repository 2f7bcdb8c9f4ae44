"""Train DeepFill v2 (gated convolution + SN-PatchGAN).

    python train.py --flagfile=configs/places2.flags --data=/data/places2/train.flist \
        --model_dir=runs/places2

Resumes from the latest checkpoint in --model_dir (step, both optimizers, spectral-norm
vectors); SIGTERM or Ctrl-C saves a checkpoint after the current step and exits, and
running the same command again continues. Every flag, the data and --model_dir are checked
before anything is written: a failed start leaves an existing run as it was. TensorBoard:
`tensorboard --logdir MODEL_DIR/logs`. Every flag, absl's included: `python train.py --helpfull`.
"""

from __future__ import annotations

import sys

from absl import app, flags

from gated_inpaint.commands import train
from gated_inpaint.commands.flags import (
    absl_namespace,
    define_absl_flags,
    define_help_flags_exiting_zero,
)
from gated_inpaint.commands.startup import VERBOSE_FLAG, start_tensorflow

define_absl_flags([*train.FLAGS, VERBOSE_FLAG])
define_help_flags_exiting_zero()
for flag in (*train.FLAGS, VERBOSE_FLAG):
    flags.declare_key_flag(flag.name)  # listed by --help
FLAGS = flags.FLAGS


def main(argv: list[str]) -> None:
    del argv
    start_tensorflow(FLAGS.verbose)
    sys.exit(train.run(absl_namespace(train.FLAGS), FLAGS.flags_into_string()))


if __name__ == "__main__":
    app.run(main)
