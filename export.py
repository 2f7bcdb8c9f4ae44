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

The same as `gated-inpaint export`, with the same flags (`gated_inpaint.commands.export`).
Every flag: `python export.py --helpfull`; flags can also come from --flagfile.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app  # noqa: E402

from gated_inpaint.commands import export  # noqa: E402
from gated_inpaint.commands.flags import absl_namespace, define_absl_flags  # noqa: E402
from gated_inpaint.commands.main import run_command  # noqa: E402

define_absl_flags(export.FLAGS)


def main(argv: list[str]) -> None:
    del argv
    sys.exit(run_command(export.NAME, export.run, absl_namespace(export.FLAGS)))


if __name__ == "__main__":
    app.run(main)
