"""`gated-inpaint evaluate`: metrics of a model and of OpenCV baselines on images with masks."""

from __future__ import annotations

import argparse
import csv
import functools
import os
import sys
from collections.abc import Callable

import numpy as np
import tensorflow as tf
from PIL import Image, ImageOps

from gated_inpaint import hd_strategy, precision
from gated_inpaint.baselines import BASELINES, INSTALL_HINT, load_opencv, opencv_inpaint
from gated_inpaint.command_support import (
    PartialFailure,
    Progress,
    image_files,
    load_inpainter,
    read_image,
)
from gated_inpaint.evaluation import (
    METRICS,
    bucket_means,
    bucket_of,
    coverage_percent,
    image_metrics,
)
from gated_inpaint.inpainter import _as_binary

FIT_MODES = ("center_crop", "none")
MODEL_METHOD = "model"
CSV_COLUMNS = ("image", "mask", "coverage_percent", "bucket", "method", *METRICS)
# Column title and number format of each metric in the table.
_TABLE_FORMATS = {
    "l1": ("L1", ".4f"),
    "l1_hole": ("L1 hole", ".4f"),
    "l2": ("L2", ".5f"),
    "l2_hole": ("L2 hole", ".5f"),
    "psnr": ("PSNR dB", ".2f"),
    "ssim": ("SSIM", ".4f"),
}

# (image uint8 [H, W, 3], hole bool [H, W]) -> uint8 [H, W, 3]
_Method = Callable[[np.ndarray, np.ndarray], np.ndarray]

EVALUATE_DESCRIPTION = f"""\
Measure how well a model (--model) and classical baselines (--baseline telea,
ns: OpenCV's cv2.inpaint, radius 3) fill the holes of a folder of images, and
print a table of the means per method: over all images and by hole coverage,
10-20, 20-30, 30-40, 40-50 and 50-60 % of the pixels (low end included), plus
"other" for masks outside 10-60 %. `gated-inpaint masks` writes a mask set
balanced over these buckets.

Metrics, on RGB values in [0, 1] of the result against the original image:
L1 and L2 (mean absolute and mean squared error) over the whole image and over
the hole pixels only, PSNR (whole image, data range 1, in dB) and SSIM (whole
image: 11x11 Gaussian window with sigma 1.5, K1 = 0.01, K2 = 0.03, as
tf.image.ssim). The means are means of the per-image values.

Pairing: if every image of --images has a mask of the same file stem in --masks
(a.jpg with a.png), images and masks are paired by stem; otherwise the i-th
image is paired with the i-th mask in sorted name order, which needs at least
as many masks as images (e.g. photos with a `gated-inpaint masks` set).

Masks: white = hole, as for `gated-inpaint inpaint` (8-bit grayscale > 127;
a 0/1 mask is read as 0/1). --fit center_crop (default) crops each image at
its centre to the aspect ratio of its mask and resizes it (bicubic) to the
mask's size; --fit none requires the sizes to be equal.

Per-image values go to --csv FILE if given, one row per image and method:
{", ".join(CSV_COLUMNS)}. An image that cannot be evaluated (unreadable file,
other size with --fit none, empty mask) is skipped with a warning; the
failures are listed at the end and the exit status is 1.
"""


def add_evaluate_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the arguments of `gated-inpaint evaluate`."""
    parser.add_argument(
        "--model",
        metavar="PATH",
        help="exported SavedModel folder, *.weights.h5 file or official TF1 checkpoint folder "
        "(optional when a --baseline is given)",
    )
    parser.add_argument(
        "--images", required=True, metavar="DIR", help="folder of the original images"
    )
    parser.add_argument(
        "--masks", required=True, metavar="DIR", help="folder of the masks (white = hole)"
    )
    parser.add_argument(
        "--baseline",
        nargs="+",
        action="extend",
        choices=BASELINES,
        help=f"OpenCV baselines to evaluate too: telea (INPAINT_TELEA), ns (INPAINT_NS); "
        f"needs OpenCV: {INSTALL_HINT}",
    )
    parser.add_argument(
        "--csv", metavar="FILE", help="write the per-image metrics to FILE (default: no CSV)"
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --csv file")
    parser.add_argument(
        "--fit",
        choices=FIT_MODES,
        default="center_crop",
        help="center_crop (default): crop each image to its mask's aspect ratio and resize it "
        "to the mask's size; none: sizes must be equal",
    )
    parser.add_argument("--limit", type=int, metavar="N", help="evaluate the first N pairs only")
    hd_strategy.add_hd_arguments(parser)
    precision.add_precision_argument(parser)


def pair_files(image_dir: str, mask_dir: str) -> list[tuple[str, str]]:
    """`(image name, mask name)` pairs of two folders: by file stem if every image has a mask
    of its stem, else in sorted order (the rule of the help text). Raises ValueError."""
    images, masks = image_files(image_dir), image_files(mask_dir)
    if not images:
        raise ValueError(f"no image files in {image_dir}")
    by_stem: dict[str, list[str]] = {}
    for name in masks:
        by_stem.setdefault(os.path.splitext(name)[0], []).append(name)
    stems = [os.path.splitext(name)[0] for name in images]
    unmatched = [name for name, stem in zip(images, stems, strict=True) if stem not in by_stem]
    if not unmatched:
        for name, stem in zip(images, stems, strict=True):
            if len(by_stem[stem]) > 1:
                raise ValueError(
                    f"several masks in {mask_dir} for the image {name}: {', '.join(by_stem[stem])}"
                )
        return [(name, by_stem[stem][0]) for name, stem in zip(images, stems, strict=True)]
    if len(masks) < len(images):
        raise ValueError(
            f"cannot pair the {len(images)} images of {image_dir} with the {len(masks)} "
            f"masks of {mask_dir}: not every image has a mask of its name (none for "
            f"{unmatched[0]}), and pairing in sorted order needs at least as many masks as "
            f"images"
        )
    return list(zip(images, masks[: len(images)], strict=True))


def fit_image(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """`image` cropped at its centre to the aspect ratio of `size` (width, height) and resized
    to `size` (bicubic); unchanged if it has that size already."""
    if image.size == size:
        return image
    return ImageOps.fit(image, size, method=Image.Resampling.BICUBIC)


def _load_pair(image_path: str, mask_path: str, fit: str) -> tuple[np.ndarray, np.ndarray]:
    """The image (uint8 `[H, W, 3]`, fitted to its mask) and the hole (bool `[H, W]`)."""
    image = read_image(image_path, "RGB", "image")
    mask = read_image(mask_path, "L", "mask")
    if fit == "none" and image.size != mask.size:
        raise ValueError(
            f"the mask {mask_path} is {mask.width}x{mask.height} but the image {image_path} "
            f"is {image.width}x{image.height} (width x height); use --fit center_crop"
        )
    hole = _as_binary(np.asarray(mask), "mask", f" ({mask_path})").astype(bool)
    if not hole.any():
        raise ValueError(f"the mask {mask_path} has no hole (white = hole)")
    return np.asarray(fit_image(image, mask.size)), hole


def _methods(args: argparse.Namespace) -> list[tuple[str, _Method]]:
    """`(name, fill)` for the model (if any), then each baseline once, in the order given."""
    methods: list[tuple[str, _Method]] = []
    if args.model is not None:
        inpainter = load_inpainter(args)
        methods.append((MODEL_METHOD, inpainter.inpaint))
    for name in dict.fromkeys(args.baseline or []):
        methods.append((name, functools.partial(opencv_inpaint, method=name)))
    return methods


def _check_args(args: argparse.Namespace) -> None:
    if args.model is None and not args.baseline:
        raise ValueError("nothing to evaluate: give --model, --baseline or both")
    if args.limit is not None and args.limit < 1:
        raise ValueError(f"--limit must be at least 1, got {args.limit}")
    for flag in ("images", "masks"):
        if not os.path.isdir(getattr(args, flag)):
            raise ValueError(f"--{flag} {getattr(args, flag)} is not a folder")
    if os.path.realpath(args.images) == os.path.realpath(args.masks):
        raise ValueError("--images and --masks are the same folder; keep the masks apart")
    if args.csv is not None:
        if os.path.isdir(args.csv):
            raise ValueError(f"--csv {args.csv} is a folder; give a file name")
        if os.path.exists(args.csv) and not args.overwrite:
            raise FileExistsError(f"{args.csv} exists; pass --overwrite to replace it")
    if args.baseline:
        try:
            load_opencv()
        except ImportError as error:
            raise ValueError(f"--baseline: {error}") from error


def write_csv(path: str, records: list[dict]) -> None:
    """Writes one row per record with the columns `CSV_COLUMNS` (floats exactly, as repr)."""
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    with open(path, "w", newline="") as file:
        writer = csv.DictWriter(file, CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(records)


def format_table(records: list[dict]) -> str:
    """The means per method over all records and by bucket, with counts, as aligned text."""
    header = ["method", "bucket", "images", *(title for title, _ in _TABLE_FORMATS.values())]
    lines = [header]
    for method, groups in bucket_means(records).items():
        for group, (count, means) in groups.items():
            values = [
                format(means[name], spec) if count else "-"
                for name, (_, spec) in _TABLE_FORMATS.items()
            ]
            label = group if group in ("all", "other") else f"{group} %"
            lines.append([method, label, str(count), *values])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join(
        "  ".join(
            cell.ljust(width) if i < 2 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(line, widths, strict=True))
        ).rstrip()
        for line in lines
    )


def run_evaluate(args: argparse.Namespace) -> str:
    """Runs `gated-inpaint evaluate`: prints the table on stdout and returns a summary; raises
    ValueError or OSError on errors, PartialFailure if some images failed."""
    _check_args(args)
    pairs = pair_files(args.images, args.masks)[: args.limit]
    methods = _methods(args)
    records: list[dict] = []
    failures: list[str] = []
    progress = Progress(len(pairs), sys.stderr)
    for image_name, mask_name in pairs:
        progress.update(image_name)
        image_path = os.path.join(args.images, image_name)
        mask_path = os.path.join(args.masks, mask_name)
        try:
            image, hole = _load_pair(image_path, mask_path, args.fit)
            coverage = coverage_percent(hole)
            original = image / 255.0
            rows = [
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
        except (OSError, ValueError, tf.errors.OpError) as error:
            reason = error.message if isinstance(error, tf.errors.OpError) else error
            failures.append(f"{image_name}: {reason}")
            newline = "\n" if progress.tty else ""
            print(f"{newline}warning: skipped {failures[-1]}", file=sys.stderr, flush=True)
            continue
        records.extend(rows)
    progress.close()
    evaluated = len(pairs) - len(failures)
    if args.csv is not None:
        write_csv(args.csv, records)
    if records:
        print(format_table(records))
    names = ", ".join(name for name, _ in methods)
    where = f"; per-image metrics in {args.csv}" if args.csv is not None else ""
    if failures:
        raise PartialFailure(
            f"{len(failures)} of {len(pairs)} images failed ({evaluated} evaluated{where}):\n  "
            + "\n  ".join(failures)
        )
    return f"Evaluated {names} on {evaluated} image{'' if evaluated == 1 else 's'}{where}"
