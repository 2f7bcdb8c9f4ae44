"""A training run's folder (`train.py --model_dir`): its checkpoints and `flags.txt`.

The folder may be on any file system TensorFlow reads (`gs://bucket/run` on a TPU VM), so its
files are read and written through `tf.io.gfile`.

Checkpoints name each network variable by layer, e.g. `generator/conv1/kernel` or
`discriminator/conv1/u`, so they do not depend on Keras' auto-numbered model names; the
trainer writes them and the exporter reads the generator's part back.
"""

from __future__ import annotations

import os
import re

import tensorflow as tf

from gated_inpaint.models import InpaintGenerator, SNPatchGANDiscriminator
from gated_inpaint.weights.settings import generator_settings

FLAGS_FILE = "flags.txt"  # the resolved flags of the run, as train.py writes them


def network_variables(
    generator: InpaintGenerator, discriminator: SNPatchGANDiscriminator | None = None
) -> dict:
    """Every network variable keyed `generator/conv1/kernel`, `discriminator/conv1/u`, ...

    `tf.train.Checkpoint` does not follow Keras 3's lists of layers, so the variables are
    handed to it explicitly, under these names.
    """
    named = {
        f"generator/{name}/{w.name}": w
        for name, conv in generator.conv_layers().items()
        for w in conv.weights
    }
    if discriminator is not None:
        named.update(
            {
                f"discriminator/{sn.name}/{w.name}": w
                for sn in discriminator.convs
                for w in sn.weights
            }
        )
    return named


NETWORK_FLAGS = {"cnum": int, "d_cnum": int, "guided": bool, "official_optimizer": bool}
"""The flags that fix what a run's checkpoints hold: its networks' shapes and its optimizers."""


def read_train_flags(model_dir: str) -> dict:
    """The `NETWORK_FLAGS` found in the `flags.txt` train.py writes into `model_dir` ({} if
    none): ints from `--cnum=48`, bools from `--guided` / `--noguided`."""
    path = os.path.join(model_dir, FLAGS_FILE)
    if not tf.io.gfile.exists(path):
        return {}
    found = {}
    with tf.io.gfile.GFile(path) as f:
        for line in f:
            line = line.strip()
            for name, kind in NETWORK_FLAGS.items():
                if kind is bool and line in (f"--{name}", f"--no{name}"):
                    found[name] = line == f"--{name}"
                elif kind is int and (match := re.fullmatch(rf"--{name}=(\d+)", line)):
                    found[name] = int(match[1])
    return found


def write_train_flags(model_dir: str, text: str) -> None:
    """Writes a run's resolved flags to `model_dir/flags.txt` (replacing an older copy whole:
    through a temporary file renamed into place)."""
    path = os.path.join(model_dir, FLAGS_FILE)
    partial = path + ".partial"
    with tf.io.gfile.GFile(partial, "w") as f:
        f.write(text)
    tf.io.gfile.rename(partial, path, overwrite=True)


def generator_from_model_dir(
    model_dir: str, cnum: int | None = None, guided: bool | None = None
) -> InpaintGenerator:
    """The generator of the latest training checkpoint in `model_dir`.

    cnum and guided come from `model_dir/flags.txt`, else from the arguments, else the
    generator's defaults (48, False). Only the generator is restored: the discriminator and
    optimizers in the checkpoint are ignored.
    """
    prefix = tf.train.latest_checkpoint(model_dir)
    if prefix is None:
        raise FileNotFoundError(
            f"No training checkpoint in {model_dir} (expected the 'checkpoint' file that "
            f"train.py writes beside ckpt-N.index)."
        )
    flags_file = os.path.join(model_dir, FLAGS_FILE)
    settings = generator_settings(read_train_flags(model_dir), cnum, guided, flags_file)
    generator = InpaintGenerator(**settings)
    generator.build((None, None, None, 3))
    variables = network_variables(generator)
    mismatch = f"The checkpoint {prefix} does not hold a generator with cnum={settings['cnum']}, "
    mismatch += (
        f"guided={settings['guided']} (set them with --cnum/--guided, or check {flags_file})."
    )
    # Checked before restoring: a restore that fails leaves TensorFlow to log a line per
    # checkpoint value at exit (hundreds for a training run's optimizer slots).
    if wrong := _shape_mismatches(prefix, variables):
        raise ValueError(f"{mismatch} Details: {wrong}")
    generator_only = tf.train.Checkpoint(networks=variables)
    try:
        generator_only.restore(prefix).expect_partial().assert_existing_objects_matched()
    except (AssertionError, ValueError) as error:
        raise ValueError(f"{mismatch} Details: {error}") from error
    return generator


def _shape_mismatches(prefix: str, variables: dict) -> str:
    """The first variables of `network_variables` that the checkpoint `prefix` lacks or holds
    with another shape, as `name: shape in checkpoint, expected shape` ("" if none)."""
    stored = tf.train.load_checkpoint(prefix).get_variable_to_shape_map()
    wrong = []
    for name, variable in variables.items():
        # How tf.train.Checkpoint names a dict entry: "." doubled, "/" written ".S".
        escaped = name.replace(".", "..").replace("/", ".S")
        shape = stored.get(f"networks/{escaped}/.ATTRIBUTES/VARIABLE_VALUE")
        if shape != list(variable.shape):
            wrong.append(
                f"{name}: {shape or 'missing'} in the checkpoint, {list(variable.shape)} expected"
            )
    return "; ".join(wrong[:3]) + (f" (and {len(wrong) - 3} more)" if len(wrong) > 3 else "")
