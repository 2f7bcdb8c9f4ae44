"""Inpaint one photo with a free-form hole and write input | result | original side by side.

    python demo.py --model runs/demo/export --image data/demo/skimage_astronaut.jpg \
        --output docs/demo.png

--model is anything `gated_inpaint.Inpainter.load` recognises: an exported SavedModel, a
converted *.weights.h5 file or an official TF1 checkpoint. The hole is drawn by the official
free-form stroke generator with --seed, so the picture is the same every time.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from PIL import Image, ImageOps  # noqa: E402

from gated_inpaint import Inpainter  # noqa: E402
from gated_inpaint.data.masks import brush_stroke_mask  # noqa: E402

GAP = 4  # white pixels between the panels


def side_by_side(image: np.ndarray, mask: np.ndarray, result: np.ndarray) -> np.ndarray:
    """uint8 `[H, 3W + 2*GAP, 3]`: the input with its hole in white, the result, the original."""
    masked = np.where(mask[..., None] > 0, 255, image).astype(np.uint8)
    gap = np.full((image.shape[0], GAP, 3), 255, np.uint8)
    return np.concatenate([masked, gap, result, gap, image], axis=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="SavedModel, weights file or checkpoint")
    parser.add_argument("--image", required=True, help="photo to punch a hole in and fill")
    parser.add_argument("--output", required=True, help="side-by-side PNG to write")
    parser.add_argument("--seed", type=int, default=3, help="seed of the free-form hole")
    args = parser.parse_args()

    image = np.asarray(ImageOps.exif_transpose(Image.open(args.image)).convert("RGB"))
    height, width = image.shape[:2]
    mask = brush_stroke_mask(height, width, np.random.default_rng(args.seed))
    result = Inpainter.load(args.model).inpaint(image, mask)
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    Image.fromarray(side_by_side(image, mask, result)).save(args.output)
    print(f"Wrote {args.output}: input with a {mask.mean():.0%} hole | result | original")


if __name__ == "__main__":
    main()
