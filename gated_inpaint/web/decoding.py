"""The images of a predict request, decoded by the project's input rules
(`gated_inpaint.inference.input_rules`), so the server fills the same pixels as
`Inpainter.inpaint` given the same files; every refusal is a 400 that names the input."""

from __future__ import annotations

import io

from PIL import Image

from gated_inpaint.inference.input_rules import upright
from gated_inpaint.web.request_error import RequestError
from gated_inpaint.web.rest_api import PredictRequest

FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP")  # what Pillow may open; nothing more exotic


def decode_image(data: bytes, label: str, max_pixels: int) -> Image.Image:
    """The image file `data`, upright by its EXIF orientation, in its own mode (the input rules
    then read it as an image, a mask or an edge map).

    Its size is read from the header and checked against `max_pixels` before the pixels are
    decoded, so a small file that would decode to a huge image costs nothing. RequestError
    400 naming `label` (e.g. `instances[0].mask_bytes`) if it is too large or cannot be
    decoded.
    """
    try:
        with Image.open(io.BytesIO(data), formats=FORMATS) as image:
            width, height = image.size
            if width * height > max_pixels:
                raise RequestError(
                    400,
                    f"{label} is {width}x{height} = {width * height} pixels, above this "
                    f"server's limit of {max_pixels} (gated-inpaint serve --max_pixels).",
                )
            return upright(image)
    except RequestError:
        raise
    except Exception as error:  # any failure of a decoder on untrusted bytes is a bad input
        raise RequestError(
            400,
            f"{label} cannot be decoded as a {', '.join(FORMATS)} image ({len(data)} bytes): "
            f"{error}",
        ) from error


def decode_instance(request: PredictRequest, index: int, max_pixels: int) -> dict[str, Image.Image]:
    """The images of `request.instances[index]` by input name, checked to have the image's
    width and height."""
    images = {
        name: decode_image(data, request.label(index, name), max_pixels)
        for name, data in request.instances[index].items()
    }
    image = images["image_bytes"]
    for name, plane in images.items():
        if plane.size != image.size:
            raise RequestError(
                400,
                f"{request.label(index, name)} is {plane.width}x{plane.height} pixels but its "
                f"image {request.label(index, 'image_bytes')} is {image.width}x{image.height} "
                f"(width x height): they must be the same size.",
            )
    return images
