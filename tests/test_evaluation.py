import csv
import math
import sys

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from gated_inpaint import cli, evaluate_command
from gated_inpaint.baselines import load_opencv, opencv_inpaint
from gated_inpaint.evaluation import (
    METRICS,
    bucket_means,
    bucket_of,
    coverage_percent,
    image_metrics,
    l1_error,
    l2_error,
    psnr,
    ssim,
)
from tests.test_cli import save
from tests.test_inpainter import _generator, photo

GROUPS = ["all", "10-20", "20-30", "30-40", "40-50", "50-60", "other"]


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "g.weights.h5"
    _generator().save_weights(path)
    return str(path)


def square_hole(height, width, top, left, side):
    hole = np.zeros((height, width), bool)
    hole[top : top + side, left : left + side] = True
    return hole


def run(capsys, *argv):
    code = cli.main(["evaluate", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


# Metrics.


def test_a_constant_error_gives_known_l1_l2_and_psnr(rng):
    original = rng.uniform(0.2, 0.8, size=(16, 20, 3))
    result = original + 0.1
    assert l1_error(result, original) == pytest.approx(0.1)
    assert l2_error(result, original) == pytest.approx(0.01)
    assert psnr(result, original) == pytest.approx(20.0)
    assert psnr(original - 0.01, original) == pytest.approx(40.0)


def test_hole_errors_average_over_the_hole_pixels_only(rng):
    original = rng.uniform(0.2, 0.8, size=(16, 16, 3))
    hole = square_hole(16, 16, 4, 4, 8)  # 64 of 256 pixels
    result = original.copy()
    result[hole] += 0.2
    result[hole, 0] -= 0.4  # red channel -0.2: absolute errors all 0.2
    assert coverage_percent(hole) == 25.0
    assert l1_error(result, original, hole) == pytest.approx(0.2)
    assert l2_error(result, original, hole) == pytest.approx(0.04)
    assert l1_error(result, original) == pytest.approx(0.05)
    assert l2_error(result, original) == pytest.approx(0.01)
    metrics = image_metrics(result, original, hole)
    assert list(metrics) == list(METRICS)
    assert metrics["psnr"] == pytest.approx(20.0)


def test_identical_images_have_infinite_psnr_and_ssim_1(rng):
    image = rng.uniform(size=(24, 20, 3))
    assert psnr(image, image) == math.inf
    assert ssim(image, image) == pytest.approx(1.0, abs=1e-12)


def test_ssim_of_two_constant_images_is_the_luminance_term():
    # Constant images have zero variances and covariance: SSIM = (2ab + C1) / (a² + b² + C1).
    a, b, c1 = 0.5, 0.6, 0.01**2
    expected = (2 * a * b + c1) / (a**2 + b**2 + c1)
    value = ssim(np.full((12, 15, 3), b), np.full((12, 15, 3), a))
    assert value == pytest.approx(expected, rel=1e-12)
    assert value == pytest.approx(0.983609, abs=1e-6)


def _windowed_ssim(x, y):
    """SSIM by its definition: for every channel and every 11x11 window, weighted statistics
    with the 2-D Gaussian of sigma 1.5; the mean over windows, then over channels."""
    offsets = np.arange(11) - 5
    gauss = np.exp(-(offsets[:, None] ** 2 + offsets[None, :] ** 2) / (2 * 1.5**2))
    gauss /= gauss.sum()
    c1, c2 = 0.01**2, 0.03**2
    per_channel = []
    for channel in range(x.shape[2]):
        values = []
        for i in range(x.shape[0] - 10):
            for j in range(x.shape[1] - 10):
                a, b = x[i : i + 11, j : j + 11, channel], y[i : i + 11, j : j + 11, channel]
                mean_a, mean_b = (gauss * a).sum(), (gauss * b).sum()
                var_a = (gauss * (a - mean_a) ** 2).sum()
                var_b = (gauss * (b - mean_b) ** 2).sum()
                cov = (gauss * (a - mean_a) * (b - mean_b)).sum()
                values.append(
                    (2 * mean_a * mean_b + c1)
                    * (2 * cov + c2)
                    / ((mean_a**2 + mean_b**2 + c1) * (var_a + var_b + c2))
                )
        per_channel.append(np.mean(values))
    return np.mean(per_channel)


def test_ssim_matches_its_definition_and_tf_image_ssim(rng):
    original = np.asarray(photo(20, 25), np.float64) / 255
    noisy = np.clip(original + rng.normal(0, 0.1, original.shape), 0, 1)
    darker = original * 0.7
    for result in (noisy, darker):
        value = ssim(result, original)
        assert value == pytest.approx(_windowed_ssim(result, original), abs=1e-12)
        # TensorFlow computes in float32.
        expected = float(tf.image.ssim(tf.constant(result), tf.constant(original), max_val=1.0))
        assert value == pytest.approx(expected, abs=1e-5)
    assert ssim(noisy, original) < 0.9


def test_metric_input_errors(rng):
    image = rng.uniform(size=(10, 16, 3))
    with pytest.raises(ValueError, match="at least 11x11 pixels, got 16x10"):
        ssim(image, image)
    with pytest.raises(ValueError, match="hole is empty"):
        l1_error(image, image, np.zeros((10, 16), bool))
    with pytest.raises(ValueError, match="must both have shape"):
        l2_error(image, image[:, :8])


@pytest.mark.parametrize(
    ("coverage", "bucket"),
    [
        (0.0, "other"),
        (9.999, "other"),
        (10.0, "10-20"),
        (19.999, "10-20"),
        (20.0, "20-30"),
        (35.0, "30-40"),
        (49.9, "40-50"),
        (59.999, "50-60"),
        (60.0, "other"),
        (100.0, "other"),
    ],
)
def test_buckets_include_their_low_end_only(coverage, bucket):
    assert bucket_of(coverage) == bucket


def _record(method, bucket, value):
    return {"method": method, "bucket": bucket, **{name: value for name in METRICS}}


def test_bucket_means_count_and_average_per_method_and_bucket():
    records = [
        _record("model", "10-20", 1.0),
        _record("telea", "10-20", 5.0),
        _record("model", "10-20", 2.0),
        _record("model", "other", 6.0),
    ]
    means = bucket_means(records)
    assert list(means) == ["model", "telea"]
    assert list(means["model"]) == GROUPS
    assert means["model"]["all"] == (3, {name: 3.0 for name in METRICS})
    assert means["model"]["10-20"] == (2, {name: 1.5 for name in METRICS})
    assert means["model"]["other"][1]["psnr"] == 6.0
    assert means["telea"]["all"][0] == 1
    count, empty = means["model"]["50-60"]
    assert count == 0 and all(math.isnan(v) for v in empty.values())


def test_table_lists_means_by_bucket_with_counts():
    records = [
        {"method": "ns", "bucket": "10-20", "l1": 0.01, "l1_hole": 0.05, "l2": 0.001,
         "l2_hole": 0.004, "psnr": 30.0, "ssim": 0.9},
        {"method": "ns", "bucket": "other", "l1": 0.03, "l1_hole": 0.15, "l2": 0.003,
         "l2_hole": 0.012, "psnr": 26.0, "ssim": 0.7},
    ]  # fmt: skip
    assert evaluate_command.format_table(records).splitlines() == [
        "method  bucket   images      L1  L1 hole       L2  L2 hole  PSNR dB    SSIM",
        "ns      all           2  0.0200   0.1000  0.00200  0.00800    28.00  0.8000",
        "ns      10-20 %       1  0.0100   0.0500  0.00100  0.00400    30.00  0.9000",
        "ns      20-30 %       0       -        -        -        -        -       -",
        "ns      30-40 %       0       -        -        -        -        -       -",
        "ns      40-50 %       0       -        -        -        -        -       -",
        "ns      50-60 %       0       -        -        -        -        -       -",
        "ns      other         1  0.0300   0.1500  0.00300  0.01200    26.00  0.7000",
    ]


# OpenCV baselines.


@pytest.mark.parametrize("method", ["telea", "ns"])
def test_baselines_fill_only_the_hole_and_beat_a_black_fill(method):
    image = photo(48, 40)
    hole = square_hole(48, 40, 18, 12, 12)
    result = opencv_inpaint(image, hole, method)
    assert result.shape == image.shape and result.dtype == np.uint8
    np.testing.assert_array_equal(result[~hole], image[~hole])
    assert (result[hole] != image[hole]).any(axis=-1).mean() > 0.5
    black = np.where(hole[..., None], 0, image)
    truth = image / 255
    assert l1_error(result / 255, truth, hole) < 0.5 * l1_error(black / 255, truth, hole)
    # The colours stay in their channels (RGB in, RGB out, BGR only inside OpenCV).
    red = np.zeros_like(image)
    red[..., 0] = 200
    filled = opencv_inpaint(red, hole, method)[hole].astype(int)
    assert (filled[:, 1:] == 0).all() and np.abs(filled[:, 0] - 200).max() <= 3  # Telea: ±2


def test_baselines_without_opencv_say_how_to_install_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "cv2", None)  # `import cv2` raises ImportError
    with pytest.raises(ImportError, match=r"pip install 'gated_inpaint\[eval\]'"):
        load_opencv()
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
        save(np.zeros((height, width), np.uint8), path / name)
    return str(path)


def test_pairs_by_stem_when_every_image_has_a_mask_of_its_stem(tmp_path):
    images = _folder(tmp_path / "i", ["b.jpg", "a.png"])
    masks = _folder(tmp_path / "m", ["a.bmp", "b.png", "c.png"])
    assert evaluate_command.pair_files(images, masks) == [("a.png", "a.bmp"), ("b.jpg", "b.png")]


def test_pairs_in_sorted_order_otherwise(tmp_path):
    images = _folder(tmp_path / "i", ["y.jpg", "x.png", "a.png"])
    masks = _folder(tmp_path / "m", ["00002.png", "a.png", "00000.png", "00001.png"])
    assert evaluate_command.pair_files(images, masks) == [
        ("a.png", "00000.png"),
        ("x.png", "00001.png"),
        ("y.jpg", "00002.png"),
    ]


def test_pairing_errors(tmp_path):
    images = _folder(tmp_path / "i", ["a.png", "b.png", "c.png"])
    two_masks = _folder(tmp_path / "m2", ["a.png", "00000.png"])
    with pytest.raises(ValueError) as error:
        evaluate_command.pair_files(images, two_masks)
    assert str(error.value) == (
        f"cannot pair the 3 images of {images} with the 2 masks of {two_masks}: not every "
        f"image has a mask of its name (none for b.png), and pairing in sorted order needs at "
        f"least as many masks as images"
    )
    doubled = _folder(tmp_path / "m3", ["a.png", "a.bmp", "b.png", "c.png"])
    with pytest.raises(ValueError, match="several masks in .* for the image a.png: a.bmp, a.png"):
        evaluate_command.pair_files(images, doubled)
    with pytest.raises(ValueError, match="no image files in"):
        evaluate_command.pair_files(_folder(tmp_path / "empty", []), doubled)


def test_center_crop_keeps_the_middle_at_the_mask_aspect_ratio():
    image = photo(40, 80)  # height 40, width 80: the middle 40 columns are kept
    same_scale = evaluate_command.fit_image(Image.fromarray(image), (40, 40))
    np.testing.assert_array_equal(np.asarray(same_scale), image[:, 20:60])
    stripes = np.zeros((40, 80, 3), np.uint8)
    stripes[:, 20:60] = 255
    smaller = np.asarray(evaluate_command.fit_image(Image.fromarray(stripes), (16, 24)))
    assert smaller.shape == (24, 16, 3)
    assert (smaller[:, 1:-1] == 255).all()  # bicubic: only the border columns see the black


# The command.


def _dataset(tmp_path):
    """Three photos of different sizes, paired by sorted order with three 32x32 masks."""
    images, masks = tmp_path / "images", tmp_path / "masks"
    images.mkdir()
    for name, (height, width) in {"c.png": (48, 64), "a.png": (32, 32), "b.jpg": (40, 36)}.items():
        save(photo(height, width, seed=len(name) + height), images / name)
    assert cli.main(["masks", "--count", "3", "--size", "32", "--out", str(masks)]) == 0
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
    save(np.zeros((32, 32), np.uint8), masks / "00002.png")  # no hole
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
