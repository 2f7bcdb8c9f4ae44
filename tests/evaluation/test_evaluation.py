import math
import sys

import numpy as np
import pytest
import tensorflow as tf

from gated_inpaint.evaluation.baselines import load_opencv, opencv_inpaint
from gated_inpaint.evaluation.metrics import (
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
from gated_inpaint.evaluation.report import format_table
from gated_inpaint.testing import smooth_photo

GROUPS = ["all", "10-20", "20-30", "30-40", "40-50", "50-60", "other"]


def square_hole(height, width, top, left, side):
    hole = np.zeros((height, width), bool)
    hole[top : top + side, left : left + side] = True
    return hole


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
    original = np.asarray(smooth_photo(20, 25), np.float64) / 255
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
    assert format_table(records).splitlines() == [
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
    image = smooth_photo(48, 40)
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


def test_baselines_without_opencv_say_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "cv2", None)  # `import cv2` raises ImportError
    with pytest.raises(ImportError, match=r"pip install 'gated_inpaint\[eval\]'"):
        load_opencv()
