"""What a long folder run needs: outputs written whole or not at all, resuming with
--skip_existing, Ctrl-C ending with a summary, and lossy outputs that say they are lossy."""

import os

import numpy as np
import pytest
from PIL import Image

from gated_inpaint.commands import files
from gated_inpaint.commands.main import main as cli_main
from gated_inpaint.inference.inpainter import Inpainter
from gated_inpaint.testing import save_image, smooth_photo, stroke_mask

STEMS = ("a", "b", "c")


def run(capsys, *argv):
    code = cli_main(["inpaint", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def folder(tmp_path):
    """Three 32x40 photos with masks beside them (STEM_mask.png), and where outputs go."""
    for i, stem in enumerate(STEMS):
        save_image(smooth_photo(32, 40, seed=i), tmp_path / f"{stem}.png")
        save_image(stroke_mask(32, 40, seed=i), tmp_path / f"{stem}_mask.png")
    return tmp_path, tmp_path / "out"


def test_skip_existing_resumes_a_run(folder, weights, capsys):
    images, out = folder
    argv = ["--model", weights, "--image", images, "--mask", images, "--output", out]
    assert run(capsys, *argv)[0] == 0
    code, _, err = run(capsys, *argv)  # without the flag existing outputs are failures
    assert code == 1 and "a.png exists; pass --overwrite" in err
    os.remove(out / "b.png")
    kept = {stem: os.stat(out / f"{stem}.png").st_mtime_ns for stem in ("a", "c")}

    code, result, err = run(capsys, *argv, "--skip_existing")
    assert code == 0, err
    assert "skipping 2 images whose output exists" in err
    assert result.strip() == f"Inpainted 1 image into {out}, 2 skipped"
    assert (out / "b.png").exists()
    assert kept == {stem: os.stat(out / f"{stem}.png").st_mtime_ns for stem in ("a", "c")}
    assert run(capsys, *argv, "--skip_existing", "--overwrite")[0] == 1


def test_ctrl_c_ends_with_a_summary_and_status_130(folder, weights, capsys, monkeypatch):
    images, out = folder
    inpaint = Inpainter.inpaint
    calls = []

    def interrupted_on_the_second(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return inpaint(self, *args, **kwargs)

    monkeypatch.setattr(Inpainter, "inpaint", interrupted_on_the_second)
    code, result, err = run(
        capsys, "--model", weights, "--image", images, "--mask", images, "--output", out
    )
    assert code == 130
    assert err.splitlines()[-1] == (
        "gated-inpaint inpaint: interrupted after 1 of 3 images (0 failed, 2 not done)"
    )
    assert "Traceback" not in err and result == ""
    assert sorted(os.listdir(out)) == ["a.png"]


def test_an_interrupted_write_leaves_no_file(tmp_path, monkeypatch):
    def crash_halfway(image, fp, format=None, **options):
        with open(fp, "wb") as file:
            file.write(b"\x89PNG\r\n\x1a\n half of a file")
        raise OSError("disk full")

    monkeypatch.setattr(Image.Image, "save", crash_halfway)
    with pytest.raises(OSError, match="disk full"):
        files.write_image(smooth_photo(8, 8), str(tmp_path / "out.png"))
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    "extension, most_levels, note", [("png", 0, False), ("webp", 0, False), ("jpg", 24, True)]
)
def test_lossy_outputs_say_so_and_lose_little(
    tmp_path, weights, capsys, extension, most_levels, note
):
    image, mask = smooth_photo(64, 80), stroke_mask(64, 80)
    output = tmp_path / f"filled.{extension}"
    code, _, err = run(
        capsys,
        "--model", weights,
        "--image", save_image(image, tmp_path / "photo.png"),
        "--mask", save_image(mask, tmp_path / "mask.png"),
        "--output", output,
    )  # fmt: skip
    assert code == 0, err
    assert ("lossy: the known pixels are re-encoded" in err) == note
    result = np.asarray(Image.open(output).convert("RGB")).astype(int)
    known = mask == 0
    assert np.abs(result[known] - image[known]).max() <= most_levels
