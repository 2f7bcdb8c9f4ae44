"""`train.py`: its flags, one per `TrainConfig` field, whose default, type and choices they
take, and the command that runs them."""

from __future__ import annotations

import argparse
import dataclasses
import sys

from absl import logging

from gated_inpaint.commands.flags import Flag
from gated_inpaint.training.config import CHOICES, TrainConfig

REQUIRED = ("data", "model_dir")
HELP = {
    "data": "Training images: a directory (searched recursively), a .flist file (one image path "
    "a line) or tfds:NAME[:SPLIT], e.g. tfds:places365_small.",
    "val_data": "Held-out images (same forms as --data) for L1/PSNR/SSIM after every "
    "--summary_every_steps; none if unset.",
    "data_dir": "tensorflow-datasets data directory for tfds: sources.",
    "tfds_download": "Let tensorflow-datasets download and prepare a tfds: source that is not "
    "yet in --data_dir (never done otherwise).",
    "model_dir": "Where checkpoints, TensorBoard logs (logs/) and the resolved flags "
    "(flags.txt) go; training resumes from here.",
    "image_size": "Training crop size in pixels (square; a multiple of 8).",
    "crop": "random_crop: official random window, upscaling only images smaller than it; "
    "resize: whole image.",
    "batch_size": "Global batch size, split over all replicas.",
    "max_steps": "Stop after this many steps (one D + one G update).",
    "save_every_steps": "Checkpoint period in steps.",
    "summary_every_steps": "TensorBoard (losses, image grid) and validation period in steps.",
    "log_every_steps": "Console progress period in steps.",
    "val_steps": "Batches of --val_data per validation.",
    "strategy": "tf.distribute strategy: default, one_device, mirrored (local GPUs), "
    "multi_worker (TF_CONFIG), tpu.",
    "tpu": "TPU name or grpc:// address for --strategy=tpu ('local' on a TPU VM).",
    "steps_per_execution": "Steps per compiled call (raise on TPU).",
    "jit_compile": "XLA-compile the training step as a TPU does (static shapes; see the README).",
    "cnum": "Generator width (official 48; a multiple of 4).",
    "d_cnum": "Discriminator width (official 64).",
    "g_lr": "Generator Adam learning rate (on resume too: it replaces the checkpoint's).",
    "d_lr": "Discriminator Adam learning rate (on resume too).",
    "beta1": "Adam beta_1 of both optimizers.",
    "beta2": "Adam beta_2 of both optimizers.",
    "official_optimizer": "One Adam for D and G, as the official trainer: its bias correction "
    "then advances twice a step (larger early steps, see the README). Needs --g_lr = --d_lr.",
    "l1_coarse_weight": "Weight of the coarse-stage L1 loss.",
    "l1_fine_weight": "Weight of the refined-stage L1 loss.",
    "gan_weight": "Weight of the generator's hinge (adversarial) loss.",
    "mask_type": "Training holes: union (official: a rectangle OR free-form strokes), strokes, "
    "or bbox.",
    "guided": "User-guided (sketch) mode: G and D take an edge channel, from "
    "<name>_edge.png|jpg beside each image or computed.",
    "edge_threshold": "Edge maps are binarised at value/255 > this.",
    "seed": "Seed of the initial weights, the data order and the masks.",
    "mixed_precision": "bfloat16 compute on CPU/TPU, float16 on GPU.",
    "init_from_official": "Fine-tune from an official DeepFill v2 TF1 checkpoint directory "
    "(used only when --model_dir has no checkpoint).",
    "init_discriminator": "With --init_from_official: official loads D from it too (an error "
    "if it has no fitting D); scratch trains D from random weights.",
}
_KINDS = {"str": str, "int": int, "float": float, "bool": bool}


def _kind(field: dataclasses.Field) -> type:
    """The flag type of a `TrainConfig` field from its annotation (`int`, `str | None`, ...)."""
    return _KINDS[str(field.type).split(" | ")[0]]


FLAGS = tuple(
    Flag(
        field.name,
        HELP[field.name],
        kind=_kind(field),
        default=None if field.default is dataclasses.MISSING else field.default,
        choices=CHOICES.get(field.name),
        required=field.name in REQUIRED,
    )
    for field in dataclasses.fields(TrainConfig)
)


def run(args: argparse.Namespace, flags_text: str | None = None) -> int:
    """Trains with train.py's flags `args`, writing `flags_text` as the run's `flags.txt`.

    Returns the exit status: 0 when done; 1 after printing the error (a bad flag, data source
    or run folder, which fail before anything is written; or a NaN loss) on stderr as one
    paragraph, `train.py: error: ...`; 128 + N after signal N, with a checkpoint saved.
    """
    from gated_inpaint.training.trainer import run_training

    try:
        result = run_training(TrainConfig(**vars(args)), flags_text=flags_text)
    except (ValueError, FileNotFoundError, FloatingPointError) as error:
        print(f"train.py: error: {error}", file=sys.stderr)
        logging.debug("Traceback (shown with --verbosity=1):", exc_info=True)
        return 1
    if result["interrupted_by"] is not None:
        logging.info(
            "Interrupted at step %d; checkpoint saved. Run the same command to resume.",
            result["step"],
        )
        return 128 + result["interrupted_by"]
    return 0
