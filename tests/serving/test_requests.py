"""Bad requests to the exported SavedModel: each fails with a message that names the input, and
the model goes on serving; the image formats and the JPEG mask threshold."""

import struct
import zlib

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from gated_inpaint.inference.uint8_graph import inpaint_uint8
from gated_inpaint.testing import (
    assert_uint8_equal_up_to_rounding,
    decode_image,
    encode_image,
    mask_png,
    run_signature,
    run_signature_def,
)


def empty_bmp(width: int, height: int) -> bytes:
    """A BMP header declaring a `width` x `height` image (PIL refuses to write empty ones)."""
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 0, 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", 54, 0, 0, 54) + info


def claiming_size(png: bytes, height: int, width: int) -> bytes:
    """`png` with its header rewritten (valid CRC) to claim `height` x `width` pixels: a small
    file that would decode to a huge image."""
    ihdr = png[12:16] + struct.pack(">II", width, height) + png[24:29]
    return png[:12] + ihdr + struct.pack(">I", zlib.crc32(ihdr)) + png[33:]


def with_gif_screen(gif: bytes, height: int, width: int) -> bytes:
    """`gif` with another logical screen size (TensorFlow decodes GIFs at their frame size)."""
    return gif[:6] + struct.pack("<HH", width, height) + gif[10:]


def _bad(data, **changes):
    """A valid serving_default request for images[0] and images[1], with `changes`."""
    images, masks = data["images"], data["masks"]
    request = {
        "image_bytes": [encode_image(images[0]), encode_image(images[1])],
        "mask_bytes": [mask_png(masks[0]), mask_png(masks[1])],
    }
    return "serving_default", {**request, **changes}


def _bad_tensors(data, **changes):
    return "inpaint_tensors", {"image": data["images"], "mask": data["masks"], **changes}


BIG = np.zeros((90, 80, 3), np.uint8)
# Each case breaks one rule only: with two failing checks either message could come first.
ERROR_CASES = {
    "not an image": (
        lambda d: _bad(d, image_bytes=[b"hello, world", encode_image(d["images"][1])]),
        r"image_bytes\[0\] is not a PNG, JPEG, GIF or BMP file \(12 bytes",
    ),
    "mask not an image": (
        lambda d: _bad(d, mask_bytes=[mask_png(d["masks"][0]), b'{"b64": "iVBO"}']),
        r"mask_bytes\[1\] is not a PNG, JPEG, GIF or BMP file",
    ),
    "truncated PNG": (
        lambda d: _bad(
            d, image_bytes=[encode_image(d["images"][0])[:60], encode_image(d["images"][1])]
        ),
        r"Invalid PNG data, size 60",
    ),
    "empty image": (
        lambda d: _bad(d, image_bytes=[empty_bmp(50, 0)] * 2),
        r"Height must be nonzero",
    ),
    "mask size": (
        lambda d: _bad(d, mask_bytes=[mask_png(d["masks"][0][:30]), mask_png(d["masks"][1])]),
        r"mask_bytes\[0\] is 30x50 pixels but its image is 37x50",
    ),
    "GIF mask size": (
        lambda d: _bad(
            d,
            mask_bytes=[
                with_gif_screen(
                    encode_image(np.where(d["masks"][0][:30], 255, 0).astype(np.uint8), "GIF"),
                    37,
                    50,
                ),
                mask_png(d["masks"][1]),
            ],
        ),
        r"mask_bytes\[0\] is 30x50 pixels but its image is 37x50",
    ),
    "mask count": (
        lambda d: _bad(d, mask_bytes=[mask_png(d["masks"][0])]),
        r"mask_bytes has 1 entries but image_bytes has 2",
    ),
    "too many pixels": (
        lambda d: _bad(d, image_bytes=[encode_image(BIG)] * 2),
        r"image_bytes\[0\] is 90x80 = 7200 pixels, above the limit of 6400 set at export",
    ),
    "huge header": (
        lambda d: _bad(
            d,
            image_bytes=[claiming_size(encode_image(d["images"][0]), 30000, 30000)] * 2,
        ),
        r"image_bytes\[0\] is 30000x30000 = 900000000 pixels, above the limit of 6400",
    ),
    "scalar bytes": (
        lambda d: _bad(d, image_bytes=encode_image(d["images"][0])),
        r"image_bytes must have shape \[batch\], one encoded image each, got shape \[\]",
    ),
    "4 channels": (
        lambda d: _bad_tensors(d, image=np.concatenate([d["images"], d["images"][..., :1]], -1)),
        r"image must have 3 channel\(s\), got 4",
    ),
    "mask channels": (
        lambda d: _bad_tensors(d, mask=np.repeat(d["masks"], 3, axis=-1)),
        r"mask must have 1 channel\(s\), got 3",
    ),
    "mask shape": (
        lambda d: _bad_tensors(d, mask=d["masks"][:, :30]),
        r"mask has batch, height, width \[2 30 50\] but image has \[2 37 50\]",
    ),
    "empty tensor": (
        lambda d: _bad_tensors(d, image=d["images"][:, :0], mask=d["masks"][:, :0]),
        r"image is empty: shape \[2 0 50 3\]",
    ),
    "empty batch": (
        lambda d: _bad_tensors(d, image=d["images"][:0], mask=d["masks"][:0]),
        r"image has an empty batch: shape \[0 37 50 3\]",
    ),
    "rank": (
        lambda d: _bad_tensors(d, image=d["images"][0]),
        r"image must have shape \[batch, height, width, 3\], got shape \[37 50 3\]",
    ),
    "too large batch": (
        lambda d: _bad_tensors(
            d, image=np.tile(d["images"], (2, 1, 1, 1)), mask=np.tile(d["masks"], (2, 1, 1, 1))
        ),
        r"image is 4x37x50 = 7400 pixels, above the limit of 6400 set at export",
    ),
}


@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_invalid_requests_fail_with_a_clear_message_and_serving_goes_on(
    case, session, data, expected
):
    make_request, message = ERROR_CASES[case]
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        run_signature_def(session, *make_request(data))
    out = run_signature_def(
        session, "inpaint_tensors", {"image": data["images"], "mask": data["masks"]}
    )
    assert_uint8_equal_up_to_rounding(out["output"], expected["batch"])


def test_invalid_requests_through_tf_saved_model_load(loaded, data, expected):
    # One test for all cases: the autouse seed fixture clears TF's function caches, which
    # costs ~1 s per test with a loaded model (a TF1 Session is not affected).
    for make_request, message in ERROR_CASES.values():
        with pytest.raises(tf.errors.InvalidArgumentError, match=message):
            run_signature(loaded, *make_request(data))
        out = run_signature(
            loaded, "inpaint_tensors", {"image": data["images"], "mask": data["masks"]}
        )
        assert_uint8_equal_up_to_rounding(out["output"], expected["batch"])


def test_formats_and_jpeg_mask_threshold(loaded, data, expected):
    image, mask = data["images"][0], data["masks"][0]
    jpeg_mask = encode_image(np.where(mask > 0, 255, 0).astype(np.uint8), "JPEG", quality=90)
    values = decode_image(jpeg_mask)
    assert ((values > 0) & (values < 255)).any()  # "nonzero = hole" would grow the hole
    requests = [
        (encode_image(image, "BMP"), jpeg_mask),
        (
            encode_image(image),
            with_gif_screen(encode_image(np.where(mask > 0, 255, 0).astype(np.uint8), "GIF"), 9, 9),
        ),
        (
            encode_image(image),
            encode_image(np.repeat(np.where(mask > 0, 255, 0), 3, -1).astype(np.uint8)),
        ),
    ]
    for image_bytes, mask_bytes in requests:
        out = run_signature(
            loaded, "serving_default", {"image_bytes": [image_bytes], "mask_bytes": [mask_bytes]}
        )
        assert_uint8_equal_up_to_rounding(
            decode_image(out["output_bytes"][0]), expected["single"][0]
        )


def test_coloured_and_transparent_masks_follow_the_input_rules(loaded, data, generator):
    image, hole = data["images"][0], data["masks"][0][..., 0] > 0
    green = np.zeros((*hole.shape, 3), np.uint8)  # channel 0 stays 0: no hole by that rule
    green[hole, 1] = 255
    layer = np.full((*hole.shape, 4), 255, np.uint8)  # white everywhere, opaque on the hole
    layer[..., 3] = np.where(hole, 255, 0)
    expected = inpaint_uint8(generator, image[None], data["masks"][:1]).numpy()[0]
    for mask in (green, layer):
        request = {"image_bytes": [encode_image(image)], "mask_bytes": [encode_image(mask)]}
        out = run_signature(loaded, "serving_default", request)
        assert_uint8_equal_up_to_rounding(decode_image(out["output_bytes"][0]), expected)


def test_exif_orientation_is_not_applied_by_the_saved_model(loaded, data, generator):
    """Documented: a graph cannot read EXIF, so the stored pixels are filled as stored."""
    stored, mask = data["images"][0], data["masks"][0]
    exif = Image.Exif()
    exif[0x0112] = 6  # "turn 90 degrees clockwise to show"
    request = {
        "image_bytes": [encode_image(stored, exif=exif)],
        "mask_bytes": [encode_image(np.where(mask > 0, 255, 0).astype(np.uint8))],
    }
    out = run_signature(loaded, "serving_default", request)
    expected = inpaint_uint8(generator, stored[None], mask[None]).numpy()[0]
    assert_uint8_equal_up_to_rounding(decode_image(out["output_bytes"][0]), expected)
