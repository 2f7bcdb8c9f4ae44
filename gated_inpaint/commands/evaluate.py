"""`gated-inpaint evaluate`: metrics of a model and of OpenCV baselines on images with masks."""

from __future__ import annotations

import argparse
import functools
import os

from gated_inpaint.commands.files import failure_summary, image_files, masks_by_stem, run_each
from gated_inpaint.commands.flags import add_to_parser
from gated_inpaint.commands.options import INFERENCE_FLAGS, load_inpainter
from gated_inpaint.evaluation.baselines import BASELINES, INSTALL_HINT, load_opencv, opencv_inpaint
from gated_inpaint.evaluation.pairs import (
    FIT_MODES,
    MODEL_METHOD,
    RECORD_FIELDS,
    Method,
    load_pair,
    pair_records,
)
from gated_inpaint.evaluation.report import format_table, write_csv

NAME = "evaluate"
HELP = "L1, L2, PSNR and SSIM of a model and OpenCV baselines, by hole coverage"
DESCRIPTION = f"""\
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

Masks: painted = hole, by the rules of `gated-inpaint inpaint` (see its --help).
--fit center_crop (default) crops each image at
its centre to the aspect ratio of its mask and resizes it (bicubic) to the
mask's size; --fit none requires the sizes to be equal.

Per-image values go to --csv FILE if given, one row per image and method:
{", ".join(RECORD_FIELDS)}. An image that cannot be evaluated (unreadable file,
other size with --fit none, empty mask) is skipped with a warning; the
failures are listed at the end and the exit status is 1.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the arguments of `gated-inpaint evaluate`."""
    parser.add_argument(
        "--model",
        metavar="PATH",
        help="exported SavedModel folder, *.weights.h5 file, official TF1 checkpoint folder, "
        "or .tflite or .onnx file (optional when a --baseline is given)",
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
    add_to_parser(parser, INFERENCE_FLAGS)


def pair_files(image_dir: str, mask_dir: str) -> list[tuple[str, str]]:
    """`(image name, mask name)` pairs of two folders: by file stem (`files.masks_by_stem`) if
    every image has a mask of its stem, else in sorted order (the rule of the help text).
    Raises ValueError."""
    pairs = masks_by_stem(image_dir, mask_dir)
    if not pairs:
        raise ValueError(f"no image files in {image_dir}")
    unmatched = [pair.image for pair in pairs if not pair.masks]
    if not unmatched:
        for pair in pairs:
            if len(pair.masks) > 1:
                raise ValueError(
                    f"several masks in {mask_dir} for the image {pair.image}: "
                    f"{', '.join(pair.masks)}"
                )
        return [(pair.image, pair.masks[0]) for pair in pairs]
    masks = image_files(mask_dir)
    if len(masks) < len(pairs):
        raise ValueError(
            f"cannot pair the {len(pairs)} images of {image_dir} with the {len(masks)} "
            f"masks of {mask_dir}: not every image has a mask of its name (none for "
            f"{unmatched[0]}), and pairing in sorted order needs at least as many masks as "
            f"images"
        )
    return list(zip((pair.image for pair in pairs), masks[: len(pairs)], strict=True))


def _methods(args: argparse.Namespace) -> list[tuple[str, Method]]:
    """`(name, fill)` for the model (if any), then each baseline once, in the order given."""
    methods: list[tuple[str, Method]] = []
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


def run(args: argparse.Namespace) -> str:
    """Runs `gated-inpaint evaluate`: prints the table on stdout and returns a summary; raises
    ValueError or OSError on errors, PartialFailure if some images failed."""
    _check_args(args)
    pairs = pair_files(args.images, args.masks)[: args.limit]
    methods = _methods(args)
    records: list[dict] = []

    def evaluate(pair: tuple[str, str]) -> None:
        image_name, mask_name = pair
        image, hole = load_pair(
            os.path.join(args.images, image_name), os.path.join(args.masks, mask_name), args.fit
        )
        records.extend(pair_records(image_name, mask_name, image, hole, methods))

    failures = run_each(pairs, lambda pair: pair[0], evaluate, warn=True)
    evaluated = len(pairs) - len(failures)
    if args.csv is not None:
        write_csv(args.csv, records)
    if records:
        print(format_table(records))
    names = ", ".join(name for name, _ in methods)
    where = f"; per-image metrics in {args.csv}" if args.csv is not None else ""
    if failures:
        raise failure_summary(failures, len(pairs), f"{evaluated} evaluated{where}")
    return f"Evaluated {names} on {evaluated} image{'' if evaluated == 1 else 's'}{where}"
