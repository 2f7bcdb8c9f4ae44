"""What a training run checks before it writes anything into `--model_dir`: the data sources,
the folder itself, and that a run already in it was trained with the same network flags.

A failed start thus leaves an existing run as it was (so it still resumes and exports) and
creates no folder. The flags themselves are checked when the `TrainConfig` is made.
"""

from __future__ import annotations

import functools
import os

import tensorflow as tf

from gated_inpaint.data.source_check import check_image_source
from gated_inpaint.training.config import TrainConfig
from gated_inpaint.weights.run_folder import FLAGS_FILE, read_train_flags


def _as_flag(name: str, value: bool | int) -> str:
    if isinstance(value, bool):
        return f"--{name}" if value else f"--no{name}"
    return f"--{name}={value}"


def check_run_folder(config: TrainConfig) -> None:
    """Raises ValueError if `config.model_dir` cannot hold a run (a file, or not writable), or
    holds a checkpoint whose `flags.txt` differs from `config` in a network flag (`cnum`,
    `d_cnum`, `guided`, `official_optimizer`): the message names each flag and both fixes."""
    model_dir = config.model_dir
    if "://" in model_dir:  # a remote file system: nothing to check cheaply
        return
    if os.path.exists(model_dir) and not os.path.isdir(model_dir):
        raise ValueError(f"--model_dir={model_dir} is a file: pass a folder (new or a run's).")
    existing = model_dir
    while not os.path.exists(existing):
        existing = os.path.dirname(os.path.abspath(existing))
    if not os.access(existing, os.W_OK):
        raise ValueError(
            f"--model_dir={model_dir}: no permission to write in {existing}; pick a folder "
            "you can write to."
        )
    if tf.train.latest_checkpoint(model_dir) is None:
        return  # nothing to resume: a new run, whatever flags.txt says
    recorded = read_train_flags(model_dir)
    differing = {k: v for k, v in recorded.items() if getattr(config, k) != v}
    if differing:
        now = " ".join(_as_flag(k, getattr(config, k)) for k in differing)
        then = " ".join(_as_flag(k, v) for k, v in differing.items())
        raise ValueError(
            f"--model_dir={model_dir} holds a run trained with {then} (its {FLAGS_FILE}), which "
            f"cannot continue with {now}. To resume that run, pass {then}; to train these "
            "flags from scratch, pick another --model_dir. Nothing was written."
        )


def check_training_start(config: TrainConfig) -> None:
    """Checks `config.data`, `config.val_data` and `config.model_dir` (see `check_run_folder`)
    without writing anything.

    Raises:
        FileNotFoundError, ValueError: one paragraph per problem found (the first one's type).
    """
    tfds_options = (config.data_dir, config.tfds_download)
    checks = [functools.partial(check_image_source, config.data, "--data", *tfds_options)]
    if config.val_data:
        source = config.val_data
        checks.append(functools.partial(check_image_source, source, "--val_data", *tfds_options))
    checks.append(functools.partial(check_run_folder, config))
    errors = []
    for check in checks:
        try:
            check()
        except (FileNotFoundError, ValueError) as error:
            errors.append(error)
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise type(errors[0])("\n".join(str(e) for e in errors)) from errors[0]
