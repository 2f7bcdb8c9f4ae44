"""Versioned, atomic SavedModel exports."""

import os

import pytest
import tensorflow as tf

from gated_inpaint.serving.export import export_saved_model, next_version


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
