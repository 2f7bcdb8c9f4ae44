"""`gated-inpaint inpaint`: fill the holes of an image, or of every image in a folder."""

from __future__ import annotations

import argparse
import dataclasses
import os

from PIL import Image

from gated_inpaint.commands.files import (
    MASK_SUFFIX,
    extension_format,
    failure_summary,
    image_files,
    image_format,
    lossy_note,
    make_dirs,
    mask_names_for,
    masks_by_stem,
    output_problem,
    print_note,
    run_each,
    same_file_key,
    write_image,
)
from gated_inpaint.commands.flags import add_to_parser
from gated_inpaint.commands.options import INFERENCE_FLAGS, load_inpainter
from gated_inpaint.inference.input_rules import read_image

NAME = "inpaint"
HELP = "fill the holes of an image, or of a folder of images"
DEFAULT_FOLDER_FORMAT = "png"
DESCRIPTION = f"""\
Fill the holes of an image, or of every image in a folder, with a DeepFill v2
model.

--model is recognised by what the path holds: an exported SavedModel (a
version folder with saved_model.pb, or a base folder of numeric versions, of
which the largest is used), a converted generator weights file (*.weights.h5,
see `gated-inpaint convert`), an official TF1 checkpoint folder (converted
to RGB on load), or a LiteRT (.tflite) or ONNX (.onnx) file from
`gated-inpaint export --format litert|onnx` (the whole image at full
resolution, up to the --max_pixels chosen at export).

Masks: painted = hole. A pixel is a hole where its brightest colour channel
is above 127 (white or any bright stroke; JPEG masks work), or, in a mask with
transparent pixels, where it is opaque; a mask holding only 0 and 1 is read
as 0/1. It must have its image's width and height; EXIF orientation is applied
to both, and 16-bit images are scaled to 8 bits. A mask with no hole, or one
that covers most of the image, gives a warning. Known pixels are written
unchanged (in a lossless format, see below).

One image: --image a.jpg --mask a_mask.png --output a_filled.png; the output
format comes from the extension of --output.

A folder: --image DIR --mask MASK_DIR --output OUT_DIR inpaints every image
of DIR (not recursive). The mask of STEM.EXT is the file of MASK_DIR named
STEM.* or STEM{MASK_SUFFIX}.* (any image extension); when MASK_DIR is DIR, only
STEM{MASK_SUFFIX}.* counts and the files *{MASK_SUFFIX}.* are not inpainted. Results
are written as OUT_DIR/STEM.{DEFAULT_FOLDER_FORMAT} (see --output_format). A failing image
(unreadable, without a mask, of another size than its mask, ...) does not
stop the others: the failures are listed at the end and the exit status is 1.
Ctrl-C stops after a summary (exit status 130); --skip_existing resumes.

Outputs are written to a temporary file and renamed, so none is ever left
half-written. Existing outputs are kept unless --overwrite is given; input
files are never overwritten. PNG and WebP outputs (WebP is written lossless)
keep the known pixels exactly; JPEG re-encodes them (quality 95, no chroma
subsampling), and the command says so.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the arguments of `gated-inpaint inpaint`."""
    parser.add_argument(
        "--model",
        required=True,
        metavar="PATH",
        help="exported SavedModel folder, *.weights.h5 file, official TF1 checkpoint folder, "
        "or .tflite or .onnx file",
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
    parser.add_argument(
        "--skip_existing",
        action="store_true",
        help="folder mode: leave images whose output exists alone, e.g. to resume a run that "
        "was interrupted (outputs are written whole or not at all)",
    )
    add_to_parser(parser, INFERENCE_FLAGS)


@dataclasses.dataclass
class Job:
    """One image to inpaint; `problem` is set when it is known to fail before running."""

    image: str
    mask: str | None
    output: str
    problem: str | None = None


def run(args: argparse.Namespace) -> str:
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
    image_format(args.output)
    job = Job(args.image, args.mask, args.output)
    inputs = {same_file_key(args.image), same_file_key(args.mask)}
    job.problem = output_problem(job.output, inputs, args.overwrite)
    if job.problem:
        raise ValueError(job.problem)
    image, mask = _read_pair(job)
    edge = read_image(args.edge, "edge map") if args.edge else None
    make_dirs(os.path.dirname(job.output))
    if note := lossy_note(job.output):
        print_note(note)
    write_image(load_inpainter(args).inpaint(image, mask, edge), job.output)
    return f"Wrote {job.output}"


def _inpaint_folder(args: argparse.Namespace) -> str:
    if not os.path.isdir(args.mask):
        raise ValueError(f"--image {args.image} is a folder, so --mask must be a folder too.")
    if os.path.exists(args.output) and not os.path.isdir(args.output):
        raise ValueError(f"--output {args.output} is a file; give a folder for a folder of images.")
    extension = "." + (args.output_format or DEFAULT_FOLDER_FORMAT).lstrip(".").lower()
    extension_format(extension, f"--output_format {args.output_format}")
    if args.skip_existing and args.overwrite:
        raise ValueError("--skip_existing and --overwrite contradict each other; give one.")
    jobs = folder_jobs(args.image, args.mask, args.output, extension, args.overwrite)
    if not jobs:
        raise ValueError(f"No image files in {args.image}.")
    done_before = [job for job in jobs if args.skip_existing and os.path.exists(job.output)]
    jobs = [job for job in jobs if job not in done_before]
    if done_before:
        print_note(f"skipping {len(done_before)} images whose output exists (--skip_existing)")
    make_dirs(args.output)
    if jobs and (note := lossy_note(jobs[0].output)):
        print_note(note)
    inpainter = load_inpainter(args) if jobs else None

    def inpaint(job: Job) -> None:
        if job.problem:
            raise ValueError(job.problem)
        image, mask = _read_pair(job)
        write_image(inpainter.inpaint(image, mask), job.output)

    failures = run_each(jobs, lambda job: os.path.basename(job.image), inpaint)
    written = len(jobs) - len(failures)
    skipped = f", {len(done_before)} skipped" if done_before else ""
    if failures:
        raise failure_summary(failures, len(jobs), f"{written} written to {args.output}{skipped}")
    return f"Inpainted {written} image{'' if written == 1 else 's'} into {args.output}{skipped}"


def folder_jobs(
    image_dir: str, mask_dir: str, output_dir: str, extension: str, overwrite: bool
) -> list[Job]:
    """A job per image of `image_dir`, paired with its mask by `files.masks_by_stem`."""
    same_folder = same_file_key(image_dir) == same_file_key(mask_dir)
    pairs = masks_by_stem(image_dir, mask_dir)
    inputs = {same_file_key(os.path.join(image_dir, p.image)) for p in pairs}
    inputs |= {same_file_key(os.path.join(mask_dir, name)) for name in image_files(mask_dir)}
    stems = [os.path.splitext(p.image)[0] for p in pairs]
    jobs = []
    for pair, stem in zip(pairs, stems, strict=True):
        job = Job(
            os.path.join(image_dir, pair.image),
            os.path.join(mask_dir, pair.masks[0]) if len(pair.masks) == 1 else None,
            os.path.join(output_dir, stem + extension),
        )
        if stems.count(stem) > 1:
            others = ", ".join(p.image for p, s in zip(pairs, stems, strict=True) if s == stem)
            job.problem = f"{others} would all be written to {job.output}"
        elif not pair.masks:
            looked_for = mask_names_for(stem, same_folder)
            job.problem = f"no mask in {mask_dir} (looked for {looked_for})"
        elif len(pair.masks) > 1:
            job.problem = f"several masks in {mask_dir}: {', '.join(pair.masks)}"
        else:
            job.problem = output_problem(job.output, inputs, overwrite)
        jobs.append(job)
    return jobs


def _read_pair(job: Job) -> tuple[Image.Image, Image.Image]:
    """The job's image (RGB) and mask (L), checked to have the same size."""
    image = read_image(job.image, "image")
    mask = read_image(job.mask, "mask")
    if mask.size != image.size:
        raise ValueError(
            f"the mask {job.mask} is {mask.width}x{mask.height} but the image {job.image} is "
            f"{image.width}x{image.height} (width x height)"
        )
    return image, mask
