import csv
import sys

import numpy as np
import pytest
from PIL import Image

from gated_inpaint.commands import evaluate
from gated_inpaint.commands.main import main as cli_main
from gated_inpaint.evaluation.baselines import opencv_inpaint
from gated_inpaint.evaluation.metrics import METRICS, coverage_percent, image_metrics
from gated_inpaint.evaluation.pairs import fit_image
from gated_inpaint.testing import save_image, smooth_photo

GROUPS = ["all", "10-20", "20-30", "30-40", "40-50", "50-60", "other"]


def run(capsys, *argv):
    code = cli_main(["evaluate", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def test_baselines_without_opencv_say_how_to_install_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "cv2", None)  # `import cv2` raises ImportError
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    code, out, err = run(
        capsys, "--images", tmp_path / "images", "--masks", tmp_path / "masks", "--baseline", "ns"
    )
    assert code == 1 and out == ""
    assert err.startswith("gated-inpaint evaluate: error: --baseline: the baselines need OpenCV")
    assert "pip install 'gated_inpaint[eval]'" in err


# Pairing and fitting.


def _folder(path, names, height=16, width=16):
    path.mkdir(exist_ok=True)
    for name in names:
        save_image(np.zeros((height, width), np.uint8), path / name)
    return str(path)


def test_pairs_by_stem_when_every_image_has_a_mask_of_its_stem(tmp_path):
    images = _folder(tmp_path / "i", ["b.jpg", "a.png"])
    masks = _folder(tmp_path / "m", ["a.bmp", "b.png", "c.png"])
    assert evaluate.pair_files(images, masks) == [("a.png", "a.bmp"), ("b.jpg", "b.png")]


def test_pairs_in_sorted_order_otherwise(tmp_path):
    images = _folder(tmp_path / "i", ["y.jpg", "x.png", "a.png"])
    masks = _folder(tmp_path / "m", ["00002.png", "a.png", "00000.png", "00001.png"])
    assert evaluate.pair_files(images, masks) == [
        ("a.png", "00000.png"),
        ("x.png", "00001.png"),
        ("y.jpg", "00002.png"),
    ]


def test_pairing_errors(tmp_path):
    images = _folder(tmp_path / "i", ["a.png", "b.png", "c.png"])
    two_masks = _folder(tmp_path / "m2", ["a.png", "00000.png"])
    with pytest.raises(ValueError) as error:
        evaluate.pair_files(images, two_masks)
    assert str(error.value) == (
        f"cannot pair the 3 images of {images} with the 2 masks of {two_masks}: not every "
        f"image has a mask of its name (none for b.png), and pairing in sorted order needs at "
        f"least as many masks as images"
    )
    doubled = _folder(tmp_path / "m3", ["a.png", "a.bmp", "b.png", "c.png"])
    with pytest.raises(ValueError, match="several masks in .* for the image a.png: a.bmp, a.png"):
        evaluate.pair_files(images, doubled)
    with pytest.raises(ValueError, match="no image files in"):
        evaluate.pair_files(_folder(tmp_path / "empty", []), doubled)


def test_center_crop_keeps_the_middle_at_the_mask_aspect_ratio():
    image = smooth_photo(40, 80)  # height 40, width 80: the middle 40 columns are kept
    same_scale = fit_image(Image.fromarray(image), (40, 40))
    np.testing.assert_array_equal(np.asarray(same_scale), image[:, 20:60])
    stripes = np.zeros((40, 80, 3), np.uint8)
    stripes[:, 20:60] = 255
    smaller = np.asarray(fit_image(Image.fromarray(stripes), (16, 24)))
    assert smaller.shape == (24, 16, 3)
    assert (smaller[:, 1:-1] == 255).all()  # bicubic: only the border columns see the black


# The command.


def _dataset(tmp_path):
    """Three photos of different sizes, paired by sorted order with three 32x32 masks."""
    images, masks = tmp_path / "images", tmp_path / "masks"
    images.mkdir()
    for name, (height, width) in {"c.png": (48, 64), "a.png": (32, 32), "b.jpg": (40, 36)}.items():
        save_image(smooth_photo(height, width, seed=len(name) + height), images / name)
    assert cli_main(["masks", "--count", "3", "--size", "32", "--out", str(masks)]) == 0
    return images, masks


def test_evaluates_a_model_and_a_baseline_into_a_csv_and_a_table(tmp_path, weights, capsys):
    images, masks = _dataset(tmp_path)
    capsys.readouterr()
    table = tmp_path / "out" / "metrics.csv"
    code, out, err = run(
        capsys, "--model", weights, "--images", images, "--masks", masks,
        "--baseline", "telea", "--baseline", "telea", "--csv", table,
    )  # fmt: skip
    assert code == 0, err
    assert err == "[1/3] a.png\n[2/3] b.jpg\n[3/3] c.png\n"
    lines = out.splitlines()
    assert lines[0].split() == ["method", "bucket", "images", "L1", "L1", "hole", "L2", "L2",
                                "hole", "PSNR", "dB", "SSIM"]  # fmt: skip
    # Method, bucket and count (the column before the six metrics) of each row.
    assert [(row[0], row[1], row[-7]) for row in map(str.split, lines[1:-1])] == [
        (method, group, count)
        for method in ("model", "telea")
        for group, count in zip(GROUPS, "3111000", strict=True)
    ]
    assert lines[-1] == f"Evaluated model, telea on 3 images; per-image metrics in {table}"

    with open(table, newline="") as file:
        rows = list(csv.DictReader(file))
    assert [(r["image"], r["mask"], r["method"]) for r in rows] == [
        (image, mask, method)
        for image, mask in [("a.png", "00000.png"), ("b.jpg", "00001.png"), ("c.png", "00002.png")]
        for method in ("model", "telea")
    ]
    assert [r["bucket"] for r in rows] == ["10-20"] * 2 + ["20-30"] * 2 + ["30-40"] * 2

    # c.png (64x48) centre-cropped to 48x48 and resized to the mask's 32x32, then filled.
    hole = np.asarray(Image.open(masks / "00002.png")) > 127
    with Image.open(images / "c.png") as photo_c:
        original = np.asarray(photo_c.resize((32, 32), Image.BICUBIC, box=(8, 0, 56, 48)))
    expected = image_metrics(opencv_inpaint(original, hole, "telea") / 255, original / 255, hole)
    telea = rows[5]
    assert float(telea["coverage_percent"]) == coverage_percent(hole)
    for name in METRICS:
        assert float(telea[name]) == pytest.approx(expected[name], rel=1e-12), name
    model = rows[4]
    assert 0 < float(model["l1"]) < float(model["l1_hole"]) < 1
    assert float(model["l1"]) != float(telea["l1"])


def test_failures_are_skipped_with_a_warning_and_listed(tmp_path, capsys):
    images, masks = _dataset(tmp_path)
    (images / "b.jpg").write_bytes(b"not a JPEG")
    save_image(np.zeros((32, 32), np.uint8), masks / "00002.png")  # no hole
    capsys.readouterr()
    table = tmp_path / "metrics.csv"
    code, out, err = run(
        capsys, "--images", images, "--masks", masks, "--baseline", "ns", "--csv", table
    )
    assert code == 1
    lines = err.splitlines()
    assert lines[:2] == ["[1/3] a.png", "[2/3] b.jpg"]
    assert lines[2].startswith(f"warning: skipped b.jpg: cannot read the image {images / 'b.jpg'}")
    assert lines[3:5] == [
        "[3/3] c.png",
        f"warning: skipped c.png: the mask {masks / '00002.png'} has no hole (white = hole)",
    ]
    assert lines[5] == (
        f"gated-inpaint evaluate: error: 2 of 3 images failed (1 evaluated; per-image metrics "
        f"in {table}):"
    )
    assert lines[6].startswith("  b.jpg: cannot read the image")
    assert lines[7] == f"  c.png: the mask {masks / '00002.png'} has no hole (white = hole)"
    assert out.splitlines()[1].split()[:3] == ["ns", "all", "1"]
    with open(table, newline="") as file:
        assert [r["image"] for r in csv.DictReader(file)] == ["a.png"]


def test_fit_none_needs_equal_sizes_and_limit_takes_the_first_pairs(tmp_path, capsys):
    images, masks = _dataset(tmp_path)
    capsys.readouterr()
    argv = ["--images", images, "--masks", masks, "--baseline", "telea", "--fit", "none"]
    code, out, err = run(capsys, *argv, "--limit", "1")
    assert code == 0, err
    assert out.splitlines()[-1] == "Evaluated telea on 1 image"
    code, out, err = run(capsys, *argv)
    assert code == 1
    assert (
        f"  b.jpg: the mask {masks / '00001.png'} is 32x32 but the image {images / 'b.jpg'} "
        f"is 36x40 (width x height); use --fit center_crop"
    ) in err.splitlines()


def test_argument_errors(tmp_path, capsys):
    images, masks = _dataset(tmp_path)
    (tmp_path / "old.csv").write_text("")
    folders = ["--images", images, "--masks", masks]
    cases = [
        ([*folders], "nothing to evaluate: give --model, --baseline or both"),
        ([*folders, "--baseline", "ns", "--limit", "0"], "--limit must be at least 1, got 0"),
        (
            ["--images", tmp_path / "nope", "--masks", masks, "--baseline", "ns"],
            f"--images {tmp_path / 'nope'} is not a folder",
        ),
        (
            ["--images", images, "--masks", images, "--baseline", "ns"],
            "--images and --masks are the same folder; keep the masks apart",
        ),
        (
            [*folders, "--baseline", "ns", "--csv", tmp_path / "old.csv"],
            f"{tmp_path / 'old.csv'} exists; pass --overwrite to replace it",
        ),
        (
            [*folders, "--model", tmp_path / "nope.weights.h5"],
            f"No model at {tmp_path / 'nope.weights.h5'}",
        ),
    ]
    capsys.readouterr()
    for argv, message in cases:
        code, out, err = run(capsys, *argv)
        assert code == 1 and out == ""
        assert err.startswith(f"gated-inpaint evaluate: error: {message}"), err
