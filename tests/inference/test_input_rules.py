"""The input rules with the files people have: 16-bit images, phone photos with an EXIF
orientation, coloured, transparent and stray-valued masks, and masks that fill nothing or
everything. Each case failed silently (or with a misleading error) before these rules."""

import warnings

import numpy as np
import pytest
from PIL import Image

from gated_inpaint import Inpainter
from gated_inpaint.commands.main import main as cli_main
from gated_inpaint.inference.input_rules import MaskWarning, as_binary, as_rgb
from gated_inpaint.testing import save_image, smooth_photo, stroke_mask, tiny_generator

HEIGHT, WIDTH = 96, 64  # not square, so a turned photo cannot pass for an upright one
ORIENTATION = 0x0112  # the EXIF tag


@pytest.fixture(scope="module")
def inpainter():
    return Inpainter(tiny_generator())


def _gradient_16_bit(height=HEIGHT, width=WIDTH):
    return (np.linspace(0, 65535, height * width).reshape(height, width)).astype(np.uint16)


def test_16_bit_images_are_scaled_to_8_bits_not_clipped(tmp_path, inpainter, capsys):
    values = _gradient_16_bit()
    expected = np.repeat(np.round(values / 257).astype(np.uint8)[..., None], 3, axis=-1)
    Image.fromarray(values).save(tmp_path / "deep.png")
    with Image.open(tmp_path / "deep.png") as image:
        assert image.mode == "I;16"
        np.testing.assert_array_equal(as_rgb(image, ""), expected)
    np.testing.assert_array_equal(as_rgb(values, ""), expected)
    for wide in (values.astype(np.int32) * 32768, (values / 65535).astype(np.float32)):
        assert np.abs(as_rgb(Image.fromarray(wide), "").astype(int) - expected).max() <= 1

    mask = stroke_mask(HEIGHT, WIDTH)
    known = mask == 0
    result = inpainter.inpaint(Image.open(tmp_path / "deep.png"), mask)
    np.testing.assert_array_equal(result[known], expected[known])
    argv = ["--model", tmp_path / "g.weights.h5", "--image", tmp_path / "deep.png"]
    inpainter.generator.save_weights(tmp_path / "g.weights.h5")
    save_image(mask, tmp_path / "mask.png")
    argv += ["--mask", tmp_path / "mask.png", "--output", tmp_path / "out.png"]
    assert cli_main(["inpaint", *map(str, argv)]) == 0, capsys.readouterr().err
    written = np.asarray(Image.open(tmp_path / "out.png"))
    np.testing.assert_array_equal(written[known], expected[known])


def _phone_photo(path, upright: np.ndarray) -> None:
    """`upright` stored turned on its side, with EXIF orientation 6 (turn 90 degrees
    clockwise to show), as phones write portrait photos."""
    stored = Image.fromarray(upright).transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    stored.save(path, exif=exif)


def test_exif_orientation_is_applied_to_pil_images_and_files(tmp_path, inpainter, capsys):
    upright = smooth_photo(HEIGHT, WIDTH)
    _phone_photo(tmp_path / "phone.png", upright)
    with Image.open(tmp_path / "phone.png") as stored:
        assert stored.size == (HEIGHT, WIDTH)  # width x height: on its side
    mask = stroke_mask(HEIGHT, WIDTH)  # drawn on the photo as displayed
    save_image(mask, tmp_path / "mask.png")
    expected = inpainter.inpaint(upright, mask)

    result = inpainter.inpaint(
        Image.open(tmp_path / "phone.png"), Image.open(tmp_path / "mask.png")
    )
    np.testing.assert_array_equal(result, expected)
    with pytest.raises(ValueError, match="EXIF orientation"):  # numpy arrays are taken as stored
        inpainter.inpaint(np.asarray(Image.open(tmp_path / "phone.png")), mask)


def test_a_coloured_stroke_is_a_hole():
    red = np.zeros((8, 8, 3), np.uint8)
    red[2:5, 3:6, 0] = 255  # grey 76 once converted to L: no hole before
    expected = (red[..., 0] > 0).astype(np.uint8)
    np.testing.assert_array_equal(as_binary(Image.fromarray(red), "mask", ""), expected)
    np.testing.assert_array_equal(as_binary(red, "mask", ""), expected)


def test_alpha_counts_where_a_mask_has_it():
    layer = np.full((8, 8, 4), 255, np.uint8)  # white, hidden under full transparency
    layer[..., 3] = 0
    layer[1:3, 2:7, 3] = 255  # the painted strokes: opaque
    expected = (layer[..., 3] > 0).astype(np.uint8)
    np.testing.assert_array_equal(as_binary(Image.fromarray(layer), "mask", ""), expected)
    np.testing.assert_array_equal(as_binary(layer, "mask", ""), expected)
    opaque = layer.copy()
    opaque[..., 3] = 255
    opaque[..., :3] = 0
    opaque[4:6, 4:6, :3] = 255
    np.testing.assert_array_equal(  # all opaque: the colours say where the hole is
        as_binary(Image.fromarray(opaque), "mask", ""), (opaque[..., 0] > 0).astype(np.uint8)
    )


def test_a_stray_value_does_not_flip_a_0_1_mask():
    mask = np.zeros((10, 10), np.uint8)
    mask[2:6, 2:6] = 1
    mask[9, 9] = 2  # one stray value
    np.testing.assert_array_equal(as_binary(mask, "mask", ""), (mask > 0).astype(np.uint8))
    jpeg_like = np.where(mask > 0, 250, 3).astype(np.uint8)  # lossy 0/255 mask
    np.testing.assert_array_equal(as_binary(jpeg_like, "mask", ""), (mask > 0).astype(np.uint8))


@pytest.mark.parametrize(
    "kind, message",
    [("black", "has no hole"), ("white", "100% of the image a hole"), ("inverted", "inverted")],
)
def test_masks_that_fill_nothing_or_everything_give_a_warning(inpainter, kind, message):
    image = smooth_photo(HEIGHT, WIDTH)
    normal = np.zeros((HEIGHT, WIDTH), np.uint8)
    normal[20:50, 10:40] = 255
    mask = {"black": 0 * normal, "white": 0 * normal + 255, "inverted": 255 - normal}[kind]
    with pytest.warns(MaskWarning, match=message):
        inpainter.inpaint(image, mask)
    with warnings.catch_warnings():
        warnings.simplefilter("error", MaskWarning)
        inpainter.inpaint(image, normal)


def test_the_command_prints_a_mask_warning_as_one_line(tmp_path, inpainter, capsys):
    inpainter.generator.save_weights(tmp_path / "g.weights.h5")
    argv = ["--model", tmp_path / "g.weights.h5"]
    argv += ["--image", save_image(smooth_photo(HEIGHT, WIDTH), tmp_path / "photo.png")]
    argv += ["--mask", save_image(np.zeros((HEIGHT, WIDTH), np.uint8), tmp_path / "mask.png")]
    assert cli_main(["inpaint", *map(str, argv), "--output", str(tmp_path / "out.png")]) == 0
    err = capsys.readouterr().err
    assert "gated-inpaint inpaint: warning: The mask has no hole" in err
    assert "MaskWarning" not in err and "warnings.warn" not in err
