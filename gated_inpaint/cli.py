"""The `gated-inpaint` command."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow is imported

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from PIL import Image  # noqa: E402

from gated_inpaint import (  # noqa: E402
    convert,
    evaluate_command,
    export_lib,
    hd_strategy,
    mask_set,
    precision,
)
from gated_inpaint.command_support import (  # noqa: E402
    PartialFailure,
    Progress,
    image_files,
    load_inpainter,
    read_image,
)

MASK_SUFFIX = "_mask"
DEFAULT_FOLDER_FORMAT = "png"

INPAINT_DESCRIPTION = f"""\
Fill the holes of an image, or of every image in a folder, with a DeepFill v2
model.

--model is recognised by what the path holds: an exported SavedModel (a
version folder with saved_model.pb, or a base folder of numeric versions, of
which the largest is used), a converted generator weights file (*.weights.h5,
see `gated-inpaint convert`) or an official TF1 checkpoint folder (converted
to RGB on load).

Masks: white = hole. A mask is converted to 8-bit grayscale and its pixels
> 127 are holes (a mask holding only 0 and 1 is read as 0/1). It must have its
image's width and height; EXIF orientation is applied to both. Known pixels
are written unchanged.

One image: --image a.jpg --mask a_mask.png --output a_filled.png; the output
format comes from the extension of --output.

A folder: --image DIR --mask MASK_DIR --output OUT_DIR inpaints every image
of DIR (not recursive). The mask of STEM.EXT is the file of MASK_DIR named
STEM.* or STEM{MASK_SUFFIX}.* (any image extension); when MASK_DIR is DIR, only
STEM{MASK_SUFFIX}.* counts and the files *{MASK_SUFFIX}.* are not inpainted. Results
are written as OUT_DIR/STEM.{DEFAULT_FOLDER_FORMAT} (see --output_format). A failing image
(unreadable, without a mask, of another size than its mask, ...) does not
stop the others: the failures are listed at the end and the exit status is 1.

Existing outputs are kept unless --overwrite is given; input files are never
overwritten.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gated-inpaint",
        description="DeepFill v2 free-form image inpainting (gated convolution + SN-PatchGAN).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    convert_parser = commands.add_parser(
        "convert",
        help="convert an official TF1 checkpoint into a Keras generator weights file",
        description="Convert an official DeepFill v2 TF1 checkpoint (Places2, CelebA-HQ) into a "
        "Keras generator weights file; cnum and guided mode are read from the checkpoint.",
    )
    convert.add_convert_arguments(convert_parser)
    convert_parser.set_defaults(run=convert.run_convert)

    inpaint_parser = commands.add_parser(
        "inpaint",
        help="fill the holes of an image, or of a folder of images",
        description=INPAINT_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_inpaint_arguments(inpaint_parser)
    inpaint_parser.set_defaults(run=run_inpaint)

    export_parser = commands.add_parser(
        "export",
        help="export a generator as a versioned SavedModel for TF Serving",
        description="Export a generator (from a training run, a weights file or an official "
        "checkpoint) into EXPORT_DIR/<version>/, written aside and renamed into place; the "
        "same as export.py. Signatures: serving_default (image_bytes, mask_bytes -> "
        "output_bytes) and inpaint_tensors (uint8 image, mask -> output).",
    )
    export_lib.add_export_arguments(export_parser)
    export_parser.set_defaults(run=export_lib.run_export)

    masks_parser = commands.add_parser(
        "masks",
        help="write a fixed evaluation mask set, balanced over hole-coverage buckets",
        description=mask_set.MASKS_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    mask_set.add_masks_arguments(masks_parser)
    masks_parser.set_defaults(run=mask_set.run_masks)

    evaluate_parser = commands.add_parser(
        "evaluate",
        help="L1, L2, PSNR and SSIM of a model and OpenCV baselines, by hole coverage",
        description=evaluate_command.EVALUATE_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    evaluate_command.add_evaluate_arguments(evaluate_parser)
    evaluate_parser.set_defaults(run=evaluate_command.run_evaluate)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        message = args.run(args)
    except (OSError, ValueError, PartialFailure) as error:
        print(f"gated-inpaint {args.command}: error: {error}", file=sys.stderr)
        return 1
    print(message)
    return 0


def add_inpaint_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the arguments of `gated-inpaint inpaint`."""
    parser.add_argument(
        "--model",
        required=True,
        metavar="PATH",
        help="exported SavedModel folder, *.weights.h5 file or official TF1 checkpoint folder",
    )
    parser.add_argument(
        "--image", required=True, metavar="PATH", help="image file, or folder of images"
    )
    parser.add_argument(
        "--mask",
        required=True,
        metavar="PATH",
        help="mask file (white = hole), or folder of masks when --image is a folder",
    )
    parser.add_argument(
        "--output",
        required=True,
        metavar="PATH",
        help="output file (format from its extension), or folder when --image is a folder "
        "(created if needed)",
    )
    parser.add_argument(
        "--edge",
        metavar="PATH",
        help="guided models, one image: a sketch of the lines to follow in the hole (white = "
        "line, the mask's size)",
    )
    parser.add_argument(
        "--output_format",
        metavar="EXT",
        help=f"folder mode: extension, hence format, of the files written (default "
        f"{DEFAULT_FOLDER_FORMAT}), e.g. png, jpg, webp",
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace existing outputs (never an input)"
    )
    hd_strategy.add_hd_arguments(parser)
    precision.add_precision_argument(parser)


@dataclass
class _Job:
    """One image to inpaint; `problem` is set when it is known to fail before running."""

    image: str
    mask: str | None
    output: str
    problem: str | None = None


def run_inpaint(args: argparse.Namespace) -> str:
    """Runs `gated-inpaint inpaint`; returns a summary, raises on errors (see `main`)."""
    for flag in ("model", "image", "mask", "edge"):
        path = getattr(args, flag)
        if (
            path is not None
            and not os.path.exists(path)
            and not (flag == "model" and os.path.exists(path + ".index"))
        ):
            raise FileNotFoundError(f"--{flag} {path} does not exist.")
    if os.path.isdir(args.image):
        if args.edge:
            raise ValueError("--edge is for one image; it cannot be used with a folder.")
        return _inpaint_folder(args)
    if os.path.isdir(args.mask):
        raise ValueError(f"--image {args.image} is a file, so --mask must be a file too.")
    if args.output_format:
        raise ValueError("--output_format is for folders; a file's format is its extension.")
    if os.path.isdir(args.output):
        raise ValueError(f"--output {args.output} is a folder; give a file name, e.g. out.png.")
    _check_extension(os.path.splitext(args.output)[1], args.output)
    job = _Job(args.image, args.mask, args.output)
    inputs = {_same(args.image), _same(args.mask)}
    job.problem = _output_problem(job.output, inputs, args.overwrite)
    if job.problem:
        raise ValueError(job.problem)
    image, mask = _read_pair(job)
    edge = read_image(args.edge, "L", "edge map") if args.edge else None
    _make_dirs(os.path.dirname(job.output))
    _write(load_inpainter(args).inpaint(image, mask, edge), job.output)
    return f"Wrote {job.output}"


def _inpaint_folder(args: argparse.Namespace) -> str:
    if not os.path.isdir(args.mask):
        raise ValueError(f"--image {args.image} is a folder, so --mask must be a folder too.")
    if os.path.exists(args.output) and not os.path.isdir(args.output):
        raise ValueError(f"--output {args.output} is a file; give a folder for a folder of images.")
    extension = "." + (args.output_format or DEFAULT_FOLDER_FORMAT).lstrip(".").lower()
    _check_extension(extension, f"--output_format {args.output_format}")
    jobs = _folder_jobs(args.image, args.mask, args.output, extension, args.overwrite)
    if not jobs:
        raise ValueError(f"No image files in {args.image}.")
    _make_dirs(args.output)
    inpainter = load_inpainter(args)
    failures = []
    progress = Progress(len(jobs), sys.stderr)
    for job in jobs:
        progress.update(os.path.basename(job.image))
        try:
            if job.problem:
                raise ValueError(job.problem)
            image, mask = _read_pair(job)
            _write(inpainter.inpaint(image, mask), job.output)
        except (OSError, ValueError, tf.errors.OpError) as error:
            reason = error.message if isinstance(error, tf.errors.OpError) else error
            failures.append(f"{os.path.basename(job.image)}: {reason}")
    progress.close()
    written = len(jobs) - len(failures)
    if failures:
        raise PartialFailure(
            f"{len(failures)} of {len(jobs)} images failed ({written} written to "
            f"{args.output}):\n  " + "\n  ".join(failures)
        )
    return f"Inpainted {written} image{'' if written == 1 else 's'} into {args.output}"


def _folder_jobs(
    image_dir: str, mask_dir: str, output_dir: str, extension: str, overwrite: bool
) -> list[_Job]:
    """A job per image of `image_dir`, paired with its mask by the rule of the help text."""
    same_folder = _same(image_dir) == _same(mask_dir)
    names = image_files(image_dir)
    mask_names = names if same_folder else image_files(mask_dir)
    if same_folder:
        names = [n for n in names if not os.path.splitext(n)[0].endswith(MASK_SUFFIX)]
    masks_by_stem: dict[str, list[str]] = {}
    for name in mask_names:
        masks_by_stem.setdefault(os.path.splitext(name)[0], []).append(name)
    inputs = {_same(os.path.join(image_dir, n)) for n in names}
    inputs |= {_same(os.path.join(mask_dir, n)) for n in mask_names}
    stems = [os.path.splitext(n)[0] for n in names]

    jobs = []
    for name, stem in zip(names, stems, strict=True):
        candidates = masks_by_stem.get(stem + MASK_SUFFIX, [])
        if not same_folder:
            candidates = masks_by_stem.get(stem, []) + candidates
        job = _Job(
            os.path.join(image_dir, name),
            os.path.join(mask_dir, candidates[0]) if len(candidates) == 1 else None,
            os.path.join(output_dir, stem + extension),
        )
        if stems.count(stem) > 1:
            others = ", ".join(n for n, s in zip(names, stems, strict=True) if s == stem)
            job.problem = f"{others} would all be written to {job.output}"
        elif not candidates:
            looked_for = (
                f"{stem}{MASK_SUFFIX}.*" if same_folder else f"{stem}.* or {stem}{MASK_SUFFIX}.*"
            )
            job.problem = f"no mask in {mask_dir} (looked for {looked_for})"
        elif len(candidates) > 1:
            job.problem = f"several masks in {mask_dir}: {', '.join(candidates)}"
        else:
            job.problem = _output_problem(job.output, inputs, overwrite)
        jobs.append(job)
    return jobs


def _same(path: str) -> str:
    """A key under which two names of the same file compare equal."""
    return os.path.normcase(os.path.realpath(path))


def _output_problem(output: str, inputs: set[str], overwrite: bool) -> str | None:
    """Why `output` must not be written, or None."""
    if _same(output) in inputs:
        return f"the output {output} is an input file; choose another output"
    if os.path.exists(output) and not overwrite:
        return f"{output} exists; pass --overwrite to replace it"
    return None


def _check_extension(extension: str, where: str) -> None:
    """Raises ValueError unless Pillow can write images with `extension` (e.g. ".png")."""
    if Image.registered_extensions().get(extension.lower()) not in Image.SAVE:
        raise ValueError(
            f"cannot write {extension or 'extension-less'} images ({where}); use e.g. .png or .jpg"
        )


def _make_dirs(folder: str) -> None:
    if not folder:
        return
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as error:
        raise OSError(f"cannot create the output folder {folder}: {error.strerror}") from error


def _read_pair(job: _Job) -> tuple[Image.Image, Image.Image]:
    """The job's image (RGB) and mask (L), checked to have the same size."""
    image = read_image(job.image, "RGB", "image")
    mask = read_image(job.mask, "L", "mask")
    if mask.size != image.size:
        raise ValueError(
            f"the mask {job.mask} is {mask.width}x{mask.height} but the image {job.image} is "
            f"{image.width}x{image.height} (width x height)"
        )
    return image, mask


def _write(result: np.ndarray, output: str) -> None:
    """Saves a uint8 `[H, W, 3]` array; the format comes from the extension."""
    try:
        Image.fromarray(result).save(output, quality=95)
    except (OSError, ValueError) as error:
        raise OSError(f"cannot write {output}: {error}") from error


if __name__ == "__main__":
    sys.exit(main())
