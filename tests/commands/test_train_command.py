"""`train.py` as users run it: --help, and starts that fail with one paragraph, no traceback,
and nothing written."""

import argparse
import os
import subprocess
import sys

from gated_inpaint.commands import train
from gated_inpaint.testing import folder_snapshot
from gated_inpaint.weights.run_folder import generator_from_model_dir

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TRAIN_PY = os.path.join(ROOT, "train.py")


def _args(**flags):
    """train.py's flags at their defaults, changed by `flags`."""
    return argparse.Namespace(**{**{flag.name: flag.default for flag in train.FLAGS}, **flags})


def test_help_exits_0_and_lists_the_training_flags():
    for option in ("--help", "--helpfull"):
        done = subprocess.run([sys.executable, TRAIN_PY, option], capture_output=True, text=True)
        assert done.returncode == 0, (option, done.stderr[-2000:])
        assert "--batch_size: Global batch size" in done.stdout
        assert "--model_dir" in done.stdout


def test_a_rerun_with_a_typo_leaves_the_run_exportable(training_run, tmp_path):
    """Issue 11, item 4: a rerun with --cnum=16 and a wrong --data into a good run."""
    before = folder_snapshot(training_run)
    typo = tmp_path / "typo"
    flags = [f"--data={typo}", f"--model_dir={training_run}", "--cnum=16", "--d_cnum=4"]
    done = subprocess.run([sys.executable, TRAIN_PY, *flags], capture_output=True, text=True)
    assert done.returncode == 1
    assert folder_snapshot(training_run) == before
    assert generator_from_model_dir(str(training_run)).cnum == 4  # what export.py loads
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if "--data=" in line or "--cnum" in line]
    assert errors == [
        f"train.py: error: --data={typo}: The image source '{typo}' does not exist. Pass a "
        "folder of images, a .flist file or tfds:NAME[:SPLIT].",
        f"--model_dir={training_run} holds a run trained with --cnum=4 (its flags.txt), which "
        "cannot continue with --cnum=16. To resume that run, pass --cnum=4; to train these "
        "flags from scratch, pick another --model_dir. Nothing was written.",
    ]


def test_corrupt_images_fail_in_one_paragraph_and_create_no_folder(tmp_path, capsys):
    """Issue 11, items 4 and 8: a folder of only corrupt images, into a new --model_dir."""
    images = tmp_path / "images"
    images.mkdir()
    (images / "a.jpg").write_bytes(b"this is not a jpeg")
    status = train.run(_args(data=str(images), model_dir=str(tmp_path / "run")), "--cnum=48\n")
    assert status == 1
    assert capsys.readouterr().err == (
        f"train.py: error: --data={images}: none of its 1 images can be decoded (a.jpg: "
        f"UnidentifiedImageError: cannot identify image file '{images / 'a.jpg'}'). Replace or "
        "remove the broken files, or point --data at other images.\n"
    )
    assert not (tmp_path / "run").exists()


def test_bad_flags_fail_before_any_setup_naming_the_flag(tmp_path, capsys, monkeypatch):
    """Issue 11, item 8: --image_size=60 and --batch_size 0."""
    from gated_inpaint.training import trainer

    def no_setup(*args, **kwargs):
        raise AssertionError("a bad flag reached the trainer")

    monkeypatch.setattr(trainer, "run_training", no_setup)
    assert train.run(_args(data=str(tmp_path), model_dir=str(tmp_path / "run"), image_size=60)) == 1
    assert capsys.readouterr().err == (
        "train.py: error: --image_size=60: training crops must be a positive multiple of 8 "
        "(the generator halves them three times); use --image_size=56 or 64.\n"
    )
    assert train.run(_args(data=str(tmp_path), model_dir=str(tmp_path / "run"), batch_size=0)) == 1
    assert capsys.readouterr().err == "train.py: error: --batch_size=0: must be at least 1.\n"
    assert not (tmp_path / "run").exists()
