"""Train DeepFill v2 (gated convolution + SN-PatchGAN).

    python train.py --flagfile=configs/places2.flags --data=/data/places2/train.flist \
        --model_dir=runs/places2

Resumes from the latest checkpoint in --model_dir (step, both optimizers, spectral-norm
vectors); SIGTERM or Ctrl-C saves a checkpoint after the current step and exits, and
running the same command again continues. TensorBoard: `tensorboard --logdir MODEL_DIR/logs`.
Every flag: `python train.py --helpfull`.
"""

from __future__ import annotations

import dataclasses
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags, logging  # noqa: E402

from gated_inpaint import distribute, masks  # noqa: E402
from gated_inpaint.trainer import TrainConfig, run_training  # noqa: E402

flags.DEFINE_string(
    "data",
    None,
    "Training images: a directory (searched recursively), a .flist "
    "file (one image path a line) or tfds:NAME[:SPLIT], e.g. tfds:places365_small.",
)
flags.DEFINE_string(
    "val_data",
    None,
    "Held-out images (same forms as --data) for L1/PSNR/SSIM "
    "after every --summary_every_steps; none if unset.",
)
flags.DEFINE_string("data_dir", None, "tensorflow-datasets data directory for tfds: sources.")
flags.DEFINE_bool(
    "tfds_download",
    False,
    "Let tensorflow-datasets download and prepare a tfds: "
    "source that is not yet in --data_dir (never done otherwise).",
)
flags.DEFINE_string(
    "model_dir",
    None,
    "Where checkpoints, TensorBoard logs (logs/) and the "
    "resolved flags (flags.txt) go; training resumes from here.",
)
flags.DEFINE_integer("image_size", 256, "Training crop size in pixels (square; a multiple of 8).")
flags.DEFINE_enum(
    "crop",
    "random_crop",
    ["random_crop", "resize"],
    "random_crop: official "
    "random window, upscaling only images smaller than it; resize: whole image.",
)
flags.DEFINE_integer("batch_size", 16, "Global batch size, split over all replicas.")
flags.DEFINE_integer("max_steps", 1_000_000, "Stop after this many steps (one D + one G update).")
flags.DEFINE_integer("save_every_steps", 4000, "Checkpoint period in steps.")
flags.DEFINE_integer(
    "summary_every_steps", 2000, "TensorBoard (losses, image grid) and validation period in steps."
)
flags.DEFINE_integer("log_every_steps", 100, "Console progress period in steps.")
flags.DEFINE_integer("val_steps", 50, "Batches of --val_data per validation.")
flags.DEFINE_enum(
    "strategy",
    "default",
    list(distribute.STRATEGIES),
    "tf.distribute strategy: "
    "default, one_device, mirrored (local GPUs), multi_worker (TF_CONFIG), tpu.",
)
flags.DEFINE_string(
    "tpu", None, "TPU name or grpc:// address for --strategy=tpu ('local' on a TPU VM)."
)
flags.DEFINE_integer("steps_per_execution", 1, "Steps per compiled call (raise on TPU).")
flags.DEFINE_integer("cnum", 48, "Generator width (official 48; a multiple of 4).")
flags.DEFINE_integer("d_cnum", 64, "Discriminator width (official 64).")
flags.DEFINE_float("g_lr", 1e-4, "Generator Adam learning rate.")
flags.DEFINE_float("d_lr", 1e-4, "Discriminator Adam learning rate.")
flags.DEFINE_float("beta1", 0.5, "Adam beta_1 of both optimizers.")
flags.DEFINE_float("beta2", 0.999, "Adam beta_2 of both optimizers.")
flags.DEFINE_float("l1_coarse_weight", 1.0, "Weight of the coarse-stage L1 loss.")
flags.DEFINE_float("l1_fine_weight", 1.0, "Weight of the refined-stage L1 loss.")
flags.DEFINE_float("gan_weight", 1.0, "Weight of the generator's hinge (adversarial) loss.")
flags.DEFINE_enum(
    "mask_type",
    "union",
    list(masks.MASK_TYPES),
    "Training holes: union (official: a rectangle OR free-form strokes), strokes, or bbox.",
)
flags.DEFINE_bool(
    "guided",
    False,
    "User-guided (sketch) mode: G and D take an edge channel, "
    "from <name>_edge.png|jpg beside each image or computed.",
)
flags.DEFINE_float("edge_threshold", 0.6, "Edge maps are binarised at value/255 > this.")
flags.DEFINE_integer("seed", 0, "Seed of the data order and the masks.")
flags.DEFINE_bool("mixed_precision", False, "bfloat16 compute on CPU/TPU, float16 on GPU.")
flags.DEFINE_string(
    "init_from_official",
    None,
    "Fine-tune from an official DeepFill v2 TF1 "
    "checkpoint directory (used only when --model_dir has no checkpoint).",
)
flags.mark_flags_as_required(["data", "model_dir"])

FLAGS = flags.FLAGS


def main(argv):
    del argv
    fields = [field.name for field in dataclasses.fields(TrainConfig)]
    config = TrainConfig(**{name: FLAGS[name].value for name in fields})
    os.makedirs(config.model_dir, exist_ok=True)
    with open(os.path.join(config.model_dir, "flags.txt"), "w") as f:
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
