"""`TrainConfig`: every setting of a training run, with the official DeepFill v2 defaults, and
the ranges they must lie in (checked when a config is made, so a bad flag fails at once);
importable without TensorFlow (train.py's --help shows them)."""

from __future__ import annotations

import dataclasses
import math

from gated_inpaint.data.options import CROP_MODES, MASK_TYPES
from gated_inpaint.models.options import DEFAULT_CNUM, SIZE_MULTIPLE

STRATEGIES = ("default", "one_device", "mirrored", "multi_worker", "tpu")  # strategies.py
DISCRIMINATOR_INITS = ("official", "scratch")  # how trainer.py starts D with an official G
CNUM_MULTIPLE = 4  # the generator halves its width in places
MIN_VALIDATION_SIZE = 16  # tf.image.ssim's 11x11 window, rounded up to a multiple of 8
AT_LEAST_ONE = (
    "batch_size",
    "max_steps",
    "save_every_steps",
    "summary_every_steps",
    "log_every_steps",
    "val_steps",
    "steps_per_execution",
    "d_cnum",
)
NOT_NEGATIVE = ("g_lr", "d_lr", "l1_coarse_weight", "l1_fine_weight", "gan_weight")
CHOICES = {
    "crop": CROP_MODES,
    "strategy": STRATEGIES,
    "mask_type": MASK_TYPES,
    "init_discriminator": DISCRIMINATOR_INITS,
}


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Everything a training run needs; the defaults are the official DeepFill v2 settings.

    Valid by construction (`dataclasses.replace` checks again).

    Raises:
        ValueError: a setting is out of its range; the message has one line per bad setting,
            naming it as train.py's flag (`--batch_size=0: ...`) and what to pass instead.
    """

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
    jit_compile: bool = False
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

    def __post_init__(self) -> None:
        problems = config_problems(self)
        if problems:
            raise ValueError("\n".join(problems))


def _multiples(value: int, multiple: int) -> str:
    """The multiples of `multiple` nearest to `value`, as "56 or 64" (or just the smallest)."""
    below = value // multiple * multiple
    return f"{below} or {below + multiple}" if below > 0 else str(multiple)


def config_problems(config: TrainConfig) -> list[str]:
    """One line per setting of `config` out of its range, each naming the flag and the fix."""
    problems = []
    size = config.image_size
    if size < SIZE_MULTIPLE or size % SIZE_MULTIPLE:
        problems.append(
            f"--image_size={size}: training crops must be a positive multiple of "
            f"{SIZE_MULTIPLE} (the generator halves them three times); use "
            f"--image_size={_multiples(size, SIZE_MULTIPLE)}."
        )
    elif config.val_data and size < MIN_VALIDATION_SIZE:
        problems.append(
            f"--image_size={size} is too small for --val_data, whose SSIM needs at least 11 "
            f"pixels a side: use --image_size={MIN_VALIDATION_SIZE} or more, or drop --val_data."
        )
    if config.cnum < CNUM_MULTIPLE or config.cnum % CNUM_MULTIPLE:
        problems.append(
            f"--cnum={config.cnum}: the generator width must be a positive multiple of "
            f"{CNUM_MULTIPLE} (official 48); use --cnum={_multiples(config.cnum, CNUM_MULTIPLE)}."
        )
    problems += [
        f"--{name}={getattr(config, name)}: must be at least 1."
        for name in AT_LEAST_ONE
        if getattr(config, name) < 1
    ]
    problems += [
        f"--{name}={getattr(config, name)}: must be a finite number >= 0."
        for name in NOT_NEGATIVE
        if not (math.isfinite(getattr(config, name)) and getattr(config, name) >= 0)
    ]
    problems += [
        f"--{name}={getattr(config, name)}: Adam's decay rates lie in [0, 1) (official {default})."
        for name, default in (("beta1", 0.5), ("beta2", 0.999))
        if not 0 <= getattr(config, name) < 1
    ]
    if not 0 <= config.edge_threshold <= 1:
        problems.append(f"--edge_threshold={config.edge_threshold}: must lie in [0, 1].")
    if config.seed < 0:
        problems.append(f"--seed={config.seed}: must be >= 0.")
    problems += [
        f"--{name}={getattr(config, name)!r}: expected one of {', '.join(choices)}."
        for name, choices in CHOICES.items()
        if getattr(config, name) not in choices
    ]
    if config.tpu and config.strategy != "tpu":
        problems.append(
            f"--tpu={config.tpu} is only used with --strategy=tpu (got "
            f"--strategy={config.strategy}): add --strategy=tpu or drop --tpu."
        )
    if config.official_optimizer and config.g_lr != config.d_lr:
        problems.append(
            f"--official_optimizer uses one Adam for both networks, so --g_lr={config.g_lr} "
            f"and --d_lr={config.d_lr} must be equal."
        )
    return problems
