"""A training run checks its data and --model_dir before it writes: a failed start leaves an
existing run exactly as it was and creates no folder."""

import dataclasses
import os

import pytest

from gated_inpaint.testing import folder_snapshot
from gated_inpaint.training.config import TrainConfig
from gated_inpaint.training.start_checks import check_run_folder, check_training_start
from gated_inpaint.training.trainer import run_training


def _resume(run, **settings):
    """The settings of `training_run`, changed by `settings`."""
    config = TrainConfig(data=str(run.parent / "images"), model_dir=str(run), cnum=4, d_cnum=4)
    return dataclasses.replace(config, **settings)


@pytest.fixture
def corrupt_images(tmp_path):
    folder = tmp_path / "corrupt"
    folder.mkdir()
    for i in range(5):
        (folder / f"broken{i}.jpg").write_bytes(b"not a jpeg %d" % i)
    return folder


@pytest.mark.parametrize(
    "settings, then, now",
    [
        ({"cnum": 16}, "--cnum=4", "--cnum=16"),
        ({"d_cnum": 8}, "--d_cnum=4", "--d_cnum=8"),
        ({"guided": True}, "--noguided", "--guided"),
        ({"official_optimizer": True}, "--noofficial_optimizer", "--official_optimizer"),
        ({"cnum": 8, "guided": True}, "--cnum=4 --noguided", "--cnum=8 --guided"),
    ],
)
def test_a_run_with_other_network_flags_is_refused_naming_them(training_run, settings, then, now):
    with pytest.raises(ValueError) as error:
        check_run_folder(_resume(training_run, **settings))
    message = str(error.value)
    assert f"trained with {then} (its flags.txt), which cannot continue with {now}." in message
    assert f"To resume that run, pass {then}; " in message
    assert "pick another --model_dir" in message and "\n" not in message


def test_a_run_resumes_with_other_training_flags(training_run):
    check_training_start(_resume(training_run, g_lr=5e-5, d_lr=0.0, image_size=64, batch_size=3))


def test_flags_txt_without_a_checkpoint_is_no_run_to_protect(training_run, tmp_path):
    (tmp_path / "flags.txt").write_text("--cnum=48\n--guided\n")
    check_run_folder(_resume(training_run, model_dir=str(tmp_path)))


def test_model_dir_that_is_a_file_is_refused(training_run, tmp_path):
    (tmp_path / "run").write_text("")
    with pytest.raises(ValueError, match=r"--model_dir=.*run is a file: pass a folder"):
        check_run_folder(_resume(training_run, model_dir=str(tmp_path / "run")))


def test_model_dir_where_one_cannot_write_is_refused(training_run, tmp_path, monkeypatch):
    monkeypatch.setattr(os, "access", lambda path, mode: path != str(tmp_path))
    with pytest.raises(ValueError, match=f"no permission to write in {tmp_path}; pick a folder"):
        check_run_folder(_resume(training_run, model_dir=str(tmp_path / "new" / "run")))


def test_a_failed_start_leaves_the_run_exactly_as_it_was(training_run, corrupt_images):
    before = folder_snapshot(training_run)
    config = _resume(training_run, cnum=16, data=str(corrupt_images), val_data=str(training_run))
    with pytest.raises(ValueError) as error:
        run_training(config, flags_text="--cnum=16\n")
    data, val_data, run_folder = str(error.value).split("\n")
    assert data.startswith(f"--data={corrupt_images}: none of its 5 images can be decoded")
    assert val_data.startswith(f"--val_data={training_run}: No images")
    assert run_folder.startswith(f"--model_dir={training_run} holds a run trained with --cnum=4")
    assert folder_snapshot(training_run) == before


def test_a_failed_start_creates_no_folder(training_run, corrupt_images, tmp_path):
    model_dir = tmp_path / "new" / "run"
    config = _resume(training_run, model_dir=str(model_dir), data=str(corrupt_images))
    with pytest.raises(ValueError, match=f"^--data={corrupt_images}: none of its 5 images"):
        run_training(config, flags_text="--cnum=4\n")
    assert not (tmp_path / "new").exists()
