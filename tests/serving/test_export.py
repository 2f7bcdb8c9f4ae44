"""Versioned, atomic SavedModel exports."""

import os
import signal
import subprocess
import sys
import time

import pytest
import tensorflow as tf

from gated_inpaint.serving.export import export_saved_model, next_version

TEXT = {"capture_output": True, "text": True, "timeout": 60}


def test_next_version(tmp_path):
    for name in ["1", "3", "0007", "tmp", ".tmp-9-1"]:
        (tmp_path / name).mkdir()
    (tmp_path / "12").write_text("a file, not a version")
    assert next_version(str(tmp_path)) == 8
    assert next_version(str(tmp_path / "missing")) == 1


def test_versions_are_atomic_and_never_silently_replaced(generator, tmp_path, monkeypatch):
    saved = []

    def save(module, path, signatures):  # the real save is covered by the other tests
        assert sorted(signatures) == ["inpaint_tensors", "serving_default"]
        os.makedirs(path)
        with open(os.path.join(path, "saved_model.pb"), "w") as f:
            f.write(f"save {len(saved)}")
        saved.append(sorted(os.listdir(os.path.dirname(path))))

    monkeypatch.setattr(tf.saved_model, "save", save)
    base = tmp_path / "model"
    assert export_saved_model(generator, str(base)) == str(base / "1")
    assert export_saved_model(generator, str(base)) == str(base / "2")
    assert saved[1] == [f".tmp-2-{os.getpid()}", "1"]  # written beside, then renamed
    with pytest.raises(FileExistsError, match=r"1 exists; pass --overwrite .* version 3"):
        export_saved_model(generator, str(base), version=1)
    export_saved_model(generator, str(base), version=1, overwrite=True)
    assert (base / "1" / "saved_model.pb").read_text() == "save 2"
    assert (base / "1" / "assets.extra" / "tf_serving_warmup_requests").exists()
    assert sorted(os.listdir(base)) == ["1", "2"]  # no .tmp-* or .old-* left


def test_failed_export_leaves_no_directory(generator, tmp_path, monkeypatch):
    def fail(module, path, signatures):
        os.makedirs(os.path.join(path, "variables"))
        raise OSError("disk full")

    monkeypatch.setattr(tf.saved_model, "save", fail)
    with pytest.raises(OSError, match="disk full"):
        export_saved_model(generator, str(tmp_path))
    assert os.listdir(tmp_path) == []


def test_stale_temporaries_of_killed_exports_are_removed(generator, tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], **TEXT)
    stale = [f".tmp-1-{dead.stdout.strip()}", f".old-3-{dead.stdout.strip()}"]
    running = f".tmp-1-{os.getppid()}"  # another export still writing
    for name in [*stale, running]:
        (tmp_path / name).mkdir()
    (tmp_path / stale[0] / "saved_model.pb").write_bytes(b"half")
    assert export_saved_model(generator, str(tmp_path)) == str(tmp_path / "1")
    assert sorted(os.listdir(tmp_path)) == [running, "1"]


SIGTERM_SCRIPT = """
import sys, time
import tensorflow as tf
from gated_inpaint.serving.export import export_saved_model
from gated_inpaint.testing import tiny_generator

def slow_save(module, path, signatures=None):
    tf.io.gfile.makedirs(path)
    open(path + "/saved_model.pb", "wb").write(b"partial")
    time.sleep(120)

tf.saved_model.save = slow_save
export_saved_model(tiny_generator(cnum=4), sys.argv[1])
"""


def test_sigterm_during_an_export_leaves_no_temporary(tmp_path):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    process = subprocess.Popen([sys.executable, "-c", SIGTERM_SCRIPT, str(tmp_path)], env=env)
    temporary = tmp_path / f".tmp-1-{process.pid}" / "saved_model.pb"
    deadline = time.monotonic() + 120
    while not temporary.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
    assert temporary.exists(), "the export never started writing"
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 128 + signal.SIGTERM
    assert os.listdir(tmp_path) == []
