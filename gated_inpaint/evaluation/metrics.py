"""Inpainting quality metrics, hole-coverage buckets and their means (numpy only).

Images are float arrays `[H, W, 3]` with values in [0, 1] (e.g. `uint8 / 255`), holes bool
`[H, W]` arrays (True = hole). The metrics compare a result with the original image:

- `l1`, `l2`: mean absolute and mean squared error over every pixel and channel, or over the
  hole pixels only (`l1_hole`, `l2_hole`);
- `psnr`: 10 log10(1 / L2) in dB over the whole image (data range 1; inf for identical images);
- `ssim`: structural similarity over the whole image, Wang et al. (2004) as `tf.image.ssim`
  computes it: 11x11 Gaussian window (sigma 1.5) over the valid positions only, K1 = 0.01,
  K2 = 0.03, data range 1, the mean of the SSIM map of each channel averaged over the channels.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np

BUCKETS = ((10, 20), (20, 30), (30, 40), (40, 50), (50, 60))  # hole coverage, % of the pixels
OTHER_BUCKET = "other"
METRICS = ("l1", "l1_hole", "l2", "l2_hole", "psnr", "ssim")

SSIM_WINDOW = 11
SSIM_SIGMA = 1.5
SSIM_K1 = 0.01
SSIM_K2 = 0.03


def coverage_percent(hole: np.ndarray) -> float:
    """Share of hole pixels in `hole` (bool `[H, W]`), in % (0 to 100)."""
    return 100.0 * np.count_nonzero(hole) / hole.size


def bucket_label(low: int, high: int) -> str:
    """The name of the bucket `[low, high)`, e.g. "10-20"."""
    return f"{low}-{high}"


def bucket_of(coverage: float) -> str:
    """The bucket of a coverage in %: "10-20", ..., "50-60" (low end included, high end
    excluded), or "other" outside [10, 60)."""
    for low, high in BUCKETS:
        if low <= coverage < high:
            return bucket_label(low, high)
    return OTHER_BUCKET


def _check_pair(result: np.ndarray, original: np.ndarray) -> None:
    if result.shape != original.shape or result.ndim != 3:
        raise ValueError(
            f"result and original must both have shape [H, W, C], got {result.shape} and "
            f"{original.shape}"
        )


def _differences(result: np.ndarray, original: np.ndarray, hole: np.ndarray | None) -> np.ndarray:
    """`result - original` as float64, of every pixel, or of the hole pixels (`[N, C]`)."""
    _check_pair(result, original)
    difference = np.asarray(result, np.float64) - np.asarray(original, np.float64)
    if hole is None:
        return difference
    hole = np.asarray(hole, bool)
    if hole.shape != result.shape[:2]:
        raise ValueError(f"the hole has shape {hole.shape}, the images {result.shape}")
    if not hole.any():
        raise ValueError("the hole is empty: hole-only errors need at least one hole pixel")
    return difference[hole]


def l1_error(result: np.ndarray, original: np.ndarray, hole: np.ndarray | None = None) -> float:
    """Mean absolute error of two `[H, W, C]` images in [0, 1]; over the hole pixels only if
    `hole` (bool `[H, W]`, not empty) is given. Result in [0, 1]."""
    return float(np.abs(_differences(result, original, hole)).mean())


def l2_error(result: np.ndarray, original: np.ndarray, hole: np.ndarray | None = None) -> float:
    """Mean squared error of two `[H, W, C]` images in [0, 1]; over the hole pixels only if
    `hole` (bool `[H, W]`, not empty) is given. Result in [0, 1]."""
    return float(np.square(_differences(result, original, hole)).mean())


def psnr(result: np.ndarray, original: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB of two `[H, W, C]` images in [0, 1] (data range 1):
    `10 log10(1 / mean squared error)`, inf for identical images."""
    mse = l2_error(result, original)
    return math.inf if mse == 0 else -10.0 * math.log10(mse)


def _gaussian_window() -> np.ndarray:
    """The normalised 1-D Gaussian of `SSIM_WINDOW` taps, standard deviation `SSIM_SIGMA`."""
    offsets = np.arange(SSIM_WINDOW) - (SSIM_WINDOW - 1) / 2
    weights = np.exp(-(offsets**2) / (2 * SSIM_SIGMA**2))
    return weights / weights.sum()


def _gaussian_filter_valid(x: np.ndarray) -> np.ndarray:
    """`[H, W, C]` filtered by the separable 2-D window at the valid positions:
    `[H - 10, W - 10, C]`."""
    weights = _gaussian_window()
    height, width = x.shape[0] - SSIM_WINDOW + 1, x.shape[1] - SSIM_WINDOW + 1
    rows = sum(w * x[k : k + height] for k, w in enumerate(weights))
    return sum(w * rows[:, k : k + width] for k, w in enumerate(weights))


def ssim(result: np.ndarray, original: np.ndarray) -> float:
    """Mean structural similarity of two `[H, W, C]` images in [0, 1] with H, W >= 11 (window
    and constants in the module docstring). 1 for identical images; at most 1."""
    _check_pair(result, original)
    if min(result.shape[:2]) < SSIM_WINDOW:
        raise ValueError(
            f"SSIM needs images of at least {SSIM_WINDOW}x{SSIM_WINDOW} pixels, got "
            f"{result.shape[1]}x{result.shape[0]}"
        )
    x = np.asarray(result, np.float64)
    y = np.asarray(original, np.float64)
    c1, c2 = SSIM_K1**2, SSIM_K2**2
    mean_x, mean_y = _gaussian_filter_valid(x), _gaussian_filter_valid(y)
    var_x = _gaussian_filter_valid(x * x) - mean_x**2
    var_y = _gaussian_filter_valid(y * y) - mean_y**2
    covariance = _gaussian_filter_valid(x * y) - mean_x * mean_y
    luminance = (2 * mean_x * mean_y + c1) / (mean_x**2 + mean_y**2 + c1)
    structure = (2 * covariance + c2) / (var_x + var_y + c2)
    return float((luminance * structure).mean(axis=(0, 1)).mean())


def image_metrics(result: np.ndarray, original: np.ndarray, hole: np.ndarray) -> dict[str, float]:
    """Every metric of `METRICS` for one result (`[H, W, 3]` in [0, 1]) against its original,
    with `hole` a non-empty bool `[H, W]` array."""
    return {
        "l1": l1_error(result, original),
        "l1_hole": l1_error(result, original, hole),
        "l2": l2_error(result, original),
        "l2_hole": l2_error(result, original, hole),
        "psnr": psnr(result, original),
        "ssim": ssim(result, original),
    }


def bucket_means(
    records: Iterable[Mapping],
) -> dict[str, dict[str, tuple[int, dict[str, float]]]]:
    """Per method, the count and the mean metrics of all records and of each bucket.

    Args:
        records: mappings with "method", "bucket" and a number for every name of `METRICS`.

    Returns:
        `{method: {group: (count, {metric: mean})}}`, methods in order of first appearance;
        groups "all", the `BUCKETS` labels and "other", always all of them (count 0 and NaN
        means for an empty group).
    """
    groups = ["all", *(bucket_label(*b) for b in BUCKETS), OTHER_BUCKET]
    values: dict[str, dict[str, list[Mapping]]] = {}
    for record in records:
        by_group = values.setdefault(record["method"], {group: [] for group in groups})
        by_group["all"].append(record)
        by_group[record["bucket"]].append(record)
    return {
        method: {
            group: (
                len(members),
                {
                    name: float(np.mean([m[name] for m in members])) if members else math.nan
                    for name in METRICS
                },
            )
            for group, members in by_group.items()
        }
        for method, by_group in values.items()
    }
