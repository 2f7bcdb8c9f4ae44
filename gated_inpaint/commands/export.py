"""`gated-inpaint export` and `export.py`: a generator as a versioned SavedModel for TF Serving,
or as a LiteRT or ONNX file for phones, browsers and other runtimes.

The flags are defined once, in `FLAGS`; `gated-inpaint export` reads them with argparse and
`export.py` with absl (which adds `--flagfile` and `--helpfull`). Both run `run`.
"""

from __future__ import annotations

import argparse

from gated_inpaint.commands.flags import Flag, add_to_parser
from gated_inpaint.commands.options import INFERENCE_FLAGS, hd_from_args
from gated_inpaint.inference.device_contract import QUANTIZATIONS
from gated_inpaint.serving.options import DEFAULT_MAX_PIXELS, LITERT_MAX_PIXELS, ONNX_MAX_PIXELS

NAME = "export"
HELP = "export a generator: SavedModel for TF Serving, LiteRT or ONNX for devices"
FORMATS = ("savedmodel", "litert", "onnx")
DESCRIPTION = """\
Export a generator (from a training run, a weights file or an official
checkpoint) and print the path written; the same as export.py. Everything is
written aside and renamed into place.

--format savedmodel (default): EXPORT_DIR/<version>/ for TF Serving.
Signatures: serving_default (image_bytes, mask_bytes [, edge_bytes] ->
output_bytes, PNG) and inpaint_tensors (uint8 image, mask [, edge] -> output).

--format litert: EXPORT_DIR/gated_inpaint[_float16|_int8].tflite, built-in
LiteRT operators only (Android, iOS, LiteRT.js). --format onnx:
EXPORT_DIR/gated_inpaint.onnx, opset 17 (onnxruntime, onnxruntime-web).
Both take one image of any size: image uint8 [1,H,W,3], mask uint8 [1,H,W,1]
(nonzero = hole) [, edge uint8 [1,H,W,1]] -> output uint8 [1,H,W,3], the
known pixels exact. The whole image runs at full resolution (no hd strategy):
crop or scale large photos before; Inpainter and the commands refuse images
above --max_pixels for these files.
"""

FLAGS = (
    Flag(
        "format",
        "What to write: savedmodel (TF Serving), litert (.tflite) or onnx (.onnx); default "
        "savedmodel.",
        default="savedmodel",
        choices=FORMATS,
    ),
    Flag(
        "quantize",
        "Weights of a litert file: none (float32), float16 (half the size) or int8 (dynamic "
        "range: a quarter of the size, faster on CPUs); default none. onnx files are float32. "
        "`gated-inpaint evaluate --model FILE` measures what it costs in quality.",
        default="none",
        choices=QUANTIZATIONS,
    ),
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
        "savedmodel: the model base directory (TF Serving's --model_base_path, mounted at "
        "/models/<name> in the Docker image); the version is written into a numbered "
        "subdirectory. litert, onnx: the folder of the file.",
        required=True,
    ),
    Flag(
        "version",
        "savedmodel: version number (subdirectory name); default: 1 + the largest existing "
        "one, or 1.",
        kind=int,
    ),
    Flag(
        "overwrite",
        "Replace an existing --version (the old directory is renamed aside, the new one renamed "
        "in, then the old one deleted) or file; without it an existing one is an error.",
        kind=bool,
        default=False,
    ),
    Flag(
        "max_pixels",
        f"savedmodel: most pixels one network run of the served model may get (height*width "
        f"per image for serving_default, batch*height*width for inpaint_tensors); larger "
        f"requests fail with InvalidArgument. Peak memory grows about linearly with the pixels "
        f"of a network run (cnum=48, CPU, float32: about 1 GB at 512x512, 1.5 GB at "
        f"1024x1024, 4 GB at 2048x2048); with the crop and resize strategies a run is at most "
        f"--hd_max_size on its long side. Default {DEFAULT_MAX_PIXELS}. litert, onnx: the "
        f"largest image (height*width) the file's runners accept, stored in it; default "
        f"{LITERT_MAX_PIXELS} (640x640) for litert and {ONNX_MAX_PIXELS} (960x960) for onnx, "
        f"which stay under 2 GB at cnum=48 in float32.",
        kind=int,
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


def _check_format_flags(args: argparse.Namespace) -> None:
    """Raises ValueError for flags that the chosen --format does not take."""
    if args.format == "savedmodel":
        if args.quantize != "none":
            raise ValueError(
                "--quantize applies to --format litert and onnx; a SavedModel computes in "
                "--precision."
            )
        return
    given = [
        f"--{flag.name}"
        for flag in (*INFERENCE_FLAGS, *[f for f in FLAGS if f.name == "version"])
        if getattr(args, flag.name) != flag.default
    ]
    if given:
        raise ValueError(
            f"not for --format {args.format}: {', '.join(given)} (the file runs the whole image "
            f"at full resolution in float32, see --quantize; crop or scale large photos before, "
            f"up to --max_pixels)."
        )


def run(args: argparse.Namespace) -> str:
    """Exports the generator of the one source `args` names; returns the path written."""
    from gated_inpaint.serving.export import export_saved_model
    from gated_inpaint.serving.litert_export import export_litert
    from gated_inpaint.serving.onnx_export import export_onnx
    from gated_inpaint.weights.sources import load_generator

    _check_format_flags(args)
    generator = load_generator(
        model_dir=args.model_dir,
        weights=args.weights,
        official_checkpoint=args.official_checkpoint,
        cnum=args.cnum,
        guided=args.guided,
    )
    if args.format == "savedmodel":
        return export_saved_model(
            generator,
            args.export_dir,
            version=args.version,
            overwrite=args.overwrite,
            max_pixels=DEFAULT_MAX_PIXELS if args.max_pixels is None else args.max_pixels,
            hd=hd_from_args(args),
            compute_precision=args.precision,
            jit_compile=args.jit_compile,
        )
    export = export_litert if args.format == "litert" else export_onnx
    limit = {} if args.max_pixels is None else {"max_pixels": args.max_pixels}
    return export(
        generator, args.export_dir, quantize=args.quantize, overwrite=args.overwrite, **limit
    )
