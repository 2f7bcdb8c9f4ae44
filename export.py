r"""Export a DeepFill v2 generator as a versioned SavedModel for TF Serving.

    python export.py --model_dir=runs/places2 --export_dir=exports/gated_inpaint
    python export.py --weights=places2.weights.h5 --export_dir=exports/gated_inpaint
    python export.py --official_checkpoint=release_places2_256 --export_dir=exports/gated_inpaint

Writes EXPORT_DIR/<version>/ (the next version number unless --version) through a
temporary sibling directory renamed into place, and prints that path. Signatures:
`serving_default` (image_bytes, mask_bytes [, edge_bytes] -> output_bytes, PNG) and
`inpaint_tensors` (uint8 image, mask [, edge] -> output). Serve the export directory:

    docker run -p 8501:8501 -v $PWD/exports/gated_inpaint:/models/gated_inpaint \
        -e MODEL_NAME=gated_inpaint tensorflow/serving

and fill the white pixels of mask.png in photo.png over REST:

    python3 -c 'import base64, json; print(json.dumps({"instances": [{
        key: {"b64": base64.b64encode(open(path, "rb").read()).decode()}
        for key, path in [("image_bytes", "photo.png"), ("mask_bytes", "mask.png")]}]}))' \
        > request.json
    curl -s -X POST -H 'Content-Type: application/json' -d @request.json \
        http://localhost:8501/v1/models/gated_inpaint:predict > response.json
    python3 -c 'import base64, json; open("filled.png", "wb").write(base64.b64decode(
        json.load(open("response.json"))["predictions"][0]["b64"]))'

Every flag: `python export.py --helpfull`; flags can also come from --flagfile.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags, logging  # noqa: E402

from gated_inpaint import export_lib  # noqa: E402

flags.DEFINE_string(
    "model_dir",
    None,
    "Training directory (train.py --model_dir): exports the generator of its latest "
    "checkpoint; cnum and guided are read from its flags.txt.",
)
flags.DEFINE_string(
    "weights",
    None,
    "Keras generator weights file (*.weights.h5, e.g. from `gated-inpaint convert`); "
    "cnum and guided are read from its conv1 kernel.",
)
flags.DEFINE_string(
    "official_checkpoint",
    None,
    "Official DeepFill v2 TF1 checkpoint directory or prefix (Places2, CelebA-HQ release); "
    "converted to RGB on the fly.",
)
flags.mark_flags_as_mutual_exclusive(["model_dir", "weights", "official_checkpoint"], required=True)
flags.DEFINE_integer(
    "cnum",
    None,
    "Generator width, needed only when the source does not say it (a --model_dir without "
    "flags.txt; default then 48); must agree with the source otherwise.",
)
flags.DEFINE_bool(
    "guided",
    None,
    "Whether the generator takes an edge map, needed only when the source does not say it "
    "(default then false); must agree with the source otherwise.",
)
flags.DEFINE_string(
    "export_dir",
    None,
    "Model base directory (TF Serving's --model_base_path, mounted at /models/<name> in "
    "the Docker image); the version is written into a numbered subdirectory.",
)
flags.DEFINE_integer(
    "version",
    None,
    "Version number (subdirectory name); default: 1 + the largest existing one, or 1.",
    lower_bound=0,
)
flags.DEFINE_bool(
    "overwrite",
    False,
    "Replace an existing --version (the old directory is renamed aside, the new one "
    "renamed in, then the old one deleted); without it an existing version is an error.",
)
flags.DEFINE_integer(
    "max_pixels",
    export_lib.DEFAULT_MAX_PIXELS,
    "Most pixels one network run of the served model may get (height*width per image for "
    "serving_default, batch*height*width for inpaint_tensors); larger requests fail with "
    "InvalidArgument. Memory grows with its square: about 1.2 GB at 512x512 and 7-8 GB at "
    "1024x1024 (cnum=48, CPU), so set it for the server's memory.",
    lower_bound=1,
)
flags.mark_flags_as_required(["export_dir"])

FLAGS = flags.FLAGS


def main(argv):
    del argv
    try:
        generator = export_lib.load_generator(
            model_dir=FLAGS.model_dir,
            weights=FLAGS.weights,
            official_checkpoint=FLAGS.official_checkpoint,
            cnum=FLAGS.cnum,
            guided=FLAGS.guided,
        )
        path = export_lib.export_saved_model(
            generator,
            FLAGS.export_dir,
            version=FLAGS.version,
            overwrite=FLAGS.overwrite,
            max_pixels=FLAGS.max_pixels,
        )
    except (ValueError, OSError) as error:
        logging.error("%s", error)
        logging.debug("Traceback (shown with --verbosity=1):", exc_info=True)
        sys.exit(1)
    logging.info(
        "Exported the generator (cnum=%d, guided=%s) to %s.",
        generator.cnum,
        generator.guided,
        path,
    )
    print(path)


if __name__ == "__main__":
    app.run(main)
