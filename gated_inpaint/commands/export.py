"""`gated-inpaint export` and `export.py`: a generator as a versioned SavedModel for TF Serving.

The flags are defined once, in `FLAGS`; `gated-inpaint export` reads them with argparse and
`export.py` with absl (which adds `--flagfile` and `--helpfull`). Both run `run`.
"""

from __future__ import annotations

import argparse

from gated_inpaint.commands.flags import Flag, add_to_parser
from gated_inpaint.commands.options import INFERENCE_FLAGS, hd_from_args
from gated_inpaint.serving.export import export_saved_model
from gated_inpaint.serving.module import DEFAULT_MAX_PIXELS
from gated_inpaint.weights.sources import load_generator

NAME = "export"
HELP = "export a generator as a versioned SavedModel for TF Serving"
DESCRIPTION = """\
Export a generator (from a training run, a weights file or an official
checkpoint) into EXPORT_DIR/<version>/, written aside and renamed into place,
and print that path; the same as export.py. Signatures: serving_default
(image_bytes, mask_bytes [, edge_bytes] -> output_bytes, PNG) and
inpaint_tensors (uint8 image, mask [, edge] -> output).
"""

FLAGS = (
    Flag(
        "model_dir",
        "Training directory (train.py --model_dir): exports the generator of its latest "
        "checkpoint; cnum and guided are read from its flags.txt.",
        exclusive_group="source",
    ),
    Flag(
        "weights",
        "Keras generator weights file (*.weights.h5, e.g. from `gated-inpaint convert`); cnum "
        "and guided are read from its conv1 kernel.",
        exclusive_group="source",
    ),
    Flag(
        "official_checkpoint",
        "Official DeepFill v2 TF1 checkpoint directory or prefix (Places2, CelebA-HQ release); "
        "converted to RGB on the fly.",
        exclusive_group="source",
    ),
    Flag(
        "export_dir",
        "Model base directory (TF Serving's --model_base_path, mounted at /models/<name> in the "
        "Docker image); the version is written into a numbered subdirectory.",
        required=True,
    ),
    Flag(
        "version",
        "Version number (subdirectory name); default: 1 + the largest existing one, or 1.",
        kind=int,
    ),
    Flag(
        "overwrite",
        "Replace an existing --version (the old directory is renamed aside, the new one renamed "
        "in, then the old one deleted); without it an existing version is an error.",
        kind=bool,
        default=False,
    ),
    Flag(
        "max_pixels",
        "Most pixels one network run of the served model may get (height*width per image for "
        "serving_default, batch*height*width for inpaint_tensors); larger requests fail with "
        "InvalidArgument. Peak memory grows about linearly with the pixels of a network run "
        "(cnum=48, CPU, float32: about 1 GB at 512x512, 1.5 GB at 1024x1024, 4 GB at "
        "2048x2048); with the crop and resize strategies a run is at most --hd_max_size on "
        "its long side.",
        kind=int,
        default=DEFAULT_MAX_PIXELS,
    ),
    *INFERENCE_FLAGS,
    Flag(
        "cnum",
        "Generator width, needed only when the source does not say it (a --model_dir without "
        "flags.txt; default then 48); must agree with the source otherwise.",
        kind=int,
    ),
    Flag(
        "guided",
        "Whether the generator takes an edge map, needed only when the source does not say it "
        "(default then false); must agree with the source otherwise.",
        kind=bool,
    ),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds `FLAGS` to the parser of `gated-inpaint export`."""
    add_to_parser(parser, FLAGS)


def run(args: argparse.Namespace) -> str:
    """Exports the generator of the one source `args` names; returns the version path."""
    generator = load_generator(
        model_dir=args.model_dir,
        weights=args.weights,
        official_checkpoint=args.official_checkpoint,
        cnum=args.cnum,
        guided=args.guided,
    )
    return export_saved_model(
        generator,
        args.export_dir,
        version=args.version,
        overwrite=args.overwrite,
        max_pixels=args.max_pixels,
        hd=hd_from_args(args),
        compute_precision=args.precision,
    )
