"""`TrainConfig` checks its settings when it is made: each bad one is a line naming the flag."""

import dataclasses

import numpy as np
import pytest

from gated_inpaint.training.config import TrainConfig
from gated_inpaint.training.trainer import build_model


def _config(**settings):
    return TrainConfig(data="images", model_dir="run", **settings)


@pytest.mark.parametrize(
    "settings, pattern",
    [
        ({"batch_size": 0}, "^--batch_size=0: must be at least 1"),
        ({"max_steps": -5}, "^--max_steps=-5: must be at least 1"),
        ({"save_every_steps": 0}, "^--save_every_steps=0"),
        ({"steps_per_execution": 0}, "^--steps_per_execution=0"),
        ({"image_size": 60}, r"^--image_size=60: .*multiple of 8.* --image_size=56 or 64\.$"),
        ({"image_size": 0}, r"^--image_size=0: .* use --image_size=8\.$"),
        ({"image_size": 8, "val_data": "v"}, r"^--image_size=8 .*--val_data.*=16 or more"),
        ({"cnum": 6}, r"^--cnum=6: .*multiple of 4.*--cnum=4 or 8\.$"),
        ({"d_cnum": 0}, "^--d_cnum=0: must be at least 1"),
        ({"g_lr": -1e-4}, r"^--g_lr=-0.0001: must be a finite number >= 0\.$"),
        ({"d_lr": float("nan")}, "^--d_lr=nan: must be a finite"),
        ({"gan_weight": float("inf")}, "^--gan_weight=inf: must be a finite"),
        ({"beta1": 1.0}, r"^--beta1=1.0: .*\[0, 1\)"),
        ({"beta2": -0.1}, r"^--beta2=-0.1: .*\[0, 1\)"),
        ({"edge_threshold": 1.5}, r"^--edge_threshold=1.5: must lie in \[0, 1\]"),
        ({"seed": -1}, "^--seed=-1: must be >= 0"),
        ({"strategy": "gpus"}, "^--strategy='gpus': expected one of default, one_device"),
        ({"crop": "pad"}, "^--crop='pad': expected one of random_crop, resize"),
        ({"mask_type": "box"}, "^--mask_type='box'"),
        ({"init_discriminator": "random"}, "^--init_discriminator='random'"),
        ({"tpu": "local"}, "^--tpu=local is only used with --strategy=tpu"),
        (
            {"official_optimizer": True, "d_lr": 2e-4},
            "^--official_optimizer .* --g_lr=0.0001 and --d_lr=0.0002 must be equal",
        ),
    ],
)
def test_a_bad_setting_is_named_as_its_flag(settings, pattern):
    with pytest.raises(ValueError, match=pattern) as error:
        _config(**settings)
    assert "\n" not in str(error.value)
    assert "Inpainter" not in str(error.value)  # no inference advice for a training flag


def test_every_bad_setting_is_reported_at_once_one_line_each():
    with pytest.raises(ValueError) as error:
        _config(batch_size=0, image_size=60, seed=-3)
    lines = str(error.value).split("\n")
    assert [line.split(":")[0].split("=")[0] for line in lines] == [
        "--image_size",
        "--batch_size",
        "--seed",
    ]


def test_replace_checks_again():
    with pytest.raises(ValueError, match="--val_steps=0"):
        dataclasses.replace(_config(), val_steps=0)


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"image_size": 8},  # the smallest training crop
        {"image_size": 16, "val_data": "v"},  # the smallest with validation
        {"g_lr": 0.0, "d_lr": 0.0},  # frozen networks, e.g. to check the data
        {"strategy": "tpu", "tpu": "local", "steps_per_execution": 32},
        {"official_optimizer": True, "g_lr": 2e-4, "d_lr": 2e-4},
    ],
)
def test_good_settings_pass(settings):
    _config(**settings)


def test_the_smallest_allowed_crop_trains():
    """The lower bound is the network's, not a guess: one D and G step at 8x8 runs."""
    model = build_model(_config(image_size=8, cnum=4, d_cnum=4))
    image = np.linspace(-1, 1, 2 * 8 * 8 * 3, dtype="float32").reshape(2, 8, 8, 3)
    mask = np.zeros((2, 8, 8, 1), "float32")
    mask[:, 2:6, 3:7] = 1
    logs = model.train_step({"image": image, "mask": mask})
    assert np.isfinite(float(logs["g_loss"])) and np.isfinite(float(logs["d_loss"]))
