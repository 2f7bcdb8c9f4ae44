"""Evaluating inpainting methods on image and mask files: reading a pair (the image fitted to
its mask) and the metric rows of each method."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from PIL import Image, ImageOps

from gated_inpaint.evaluation.metrics import METRICS, bucket_of, coverage_percent, image_metrics
from gated_inpaint.inference.input_rules import as_binary, as_rgb, read_image

FIT_MODES = ("center_crop", "none")
MODEL_METHOD = "model"
RECORD_FIELDS = ("image", "mask", "coverage_percent", "bucket", "method", *METRICS)

# (image uint8 [H, W, 3], hole bool [H, W]) -> uint8 [H, W, 3]
Method = Callable[[np.ndarray, np.ndarray], np.ndarray]


def fit_image(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """`image` cropped at its centre to the aspect ratio of `size` (width, height) and resized
    to `size` (bicubic); unchanged if it has that size already."""
    if image.size == size:
        return image
    return ImageOps.fit(image, size, method=Image.Resampling.BICUBIC)


def load_pair(image_path: str, mask_path: str, fit: str) -> tuple[np.ndarray, np.ndarray]:
    """The image (uint8 `[H, W, 3]`, fitted to its mask) and the hole (bool `[H, W]`)."""
    image = read_image(image_path, "image")
    mask = read_image(mask_path, "mask")
    if fit == "none" and image.size != mask.size:
        raise ValueError(
            f"the mask {mask_path} is {mask.width}x{mask.height} but the image {image_path} "
            f"is {image.width}x{image.height} (width x height); use --fit center_crop"
        )
    hole = as_binary(mask, "mask", f" ({mask_path})").astype(bool)
    if not hole.any():
        raise ValueError(f"the mask {mask_path} has no hole (white = hole)")
    rgb = Image.fromarray(as_rgb(image, f" ({image_path})"))
    return np.asarray(fit_image(rgb, mask.size)), hole


def pair_records(
    image_name: str,
    mask_name: str,
    image: np.ndarray,
    hole: np.ndarray,
    methods: Sequence[tuple[str, Method]],
) -> list[dict]:
    """One record per method (the fields of `RECORD_FIELDS`) for one image (uint8 `[H, W, 3]`)
    and its hole (bool `[H, W]`), each method's result compared with the image."""
    coverage = coverage_percent(hole)
    original = image / 255.0
    return [
        {
            "image": image_name,
            "mask": mask_name,
            "coverage_percent": coverage,
            "bucket": bucket_of(coverage),
            "method": method,
            **image_metrics(fill(image, hole) / 255.0, original, hole),
        }
        for method, fill in methods
    ]
