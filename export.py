"""Export a DeepFill v2 generator as a versioned SavedModel for TF Serving, or as a LiteRT or
ONNX file for phones, browsers and other runtimes.

    python export.py --model_dir=runs/places2 --export_dir=exports/gated_inpaint
    python export.py --weights=places2.weights.h5 --export_dir=exports/gated_inpaint
    python export.py --official_checkpoint=release_places2_256 --export_dir=exports/gated_inpaint
    python export.py --weights=g.weights.h5 --export_dir=exports --format=litert --quantize=int8
    python export.py --weights=g.weights.h5 --export_dir=exports --format=onnx

--format=savedmodel (the default) writes EXPORT_DIR/<version>/ (the next version number
unless --version) through a temporary sibling directory renamed into place, and prints that
path; --format=litert and onnx write EXPORT_DIR/gated_inpaint[_float16|_int8].tflite or
EXPORT_DIR/gated_inpaint.onnx (see the README's "Phones and browsers"). SavedModel signatures:
`serving_default` (image_bytes, mask_bytes [, edge_bytes] -> output_bytes, PNG) and
`inpaint_tensors` (uint8 image, mask [, edge] -> output). How to serve it with TF Serving and
call it over REST: the README, and the docstring of `gated_inpaint.serving.module`.

The same as `gated-inpaint export`, with the same flags (`gated_inpaint.commands.export`).
Every flag: `python export.py --helpfull`; flags can also come from --flagfile.
"""

from __future__ import annotations

import sys

from absl import app

from gated_inpaint.commands import export
from gated_inpaint.commands.flags import absl_namespace, define_absl_flags
from gated_inpaint.commands.main import run_command
from gated_inpaint.commands.startup import VERBOSE_FLAG

FLAGS = (*export.FLAGS, VERBOSE_FLAG)
define_absl_flags(FLAGS)


def main(argv: list[str]) -> None:
    del argv
    sys.exit(run_command(export.NAME, export.run, absl_namespace(FLAGS)))


if __name__ == "__main__":
    app.run(main)
