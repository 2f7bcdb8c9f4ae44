"""`TrainConfig`: every setting of a training run, with the official DeepFill v2 defaults, and
the choices of its settings; importable without TensorFlow (train.py's --help shows them)."""

from __future__ import annotations

import dataclasses

from gated_inpaint.models.options import DEFAULT_CNUM

STRATEGIES = ("default", "one_device", "mirrored", "multi_worker", "tpu")  # strategies.py
DISCRIMINATOR_INITS = ("official", "scratch")  # how trainer.py starts D with an official G


@dataclasses.dataclass
class TrainConfig:
    """Everything a training run needs; the defaults are the official DeepFill v2 settings."""

    data: str
    model_dir: str
    val_data: str | None = None
    data_dir: str | None = None
    tfds_download: bool = False
    image_size: int = 256
    crop: str = "random_crop"
    batch_size: int = 16
    max_steps: int = 1_000_000
    save_every_steps: int = 4000
    summary_every_steps: int = 2000
    log_every_steps: int = 100
    val_steps: int = 50
    strategy: str = "default"
    tpu: str | None = None
    steps_per_execution: int = 1
    cnum: int = DEFAULT_CNUM
    d_cnum: int = 64
    g_lr: float = 1e-4
    d_lr: float = 1e-4
    beta1: float = 0.5
    beta2: float = 0.999
    official_optimizer: bool = False
    l1_coarse_weight: float = 1.0
    l1_fine_weight: float = 1.0
    gan_weight: float = 1.0
    mask_type: str = "union"
    guided: bool = False
    edge_threshold: float = 0.6
    seed: int = 0
    mixed_precision: bool = False
    init_from_official: str | None = None
    init_discriminator: str = "official"
