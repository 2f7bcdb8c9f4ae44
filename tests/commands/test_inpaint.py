import io

import numpy as np
import pytest
from PIL import Image

from gated_inpaint import testing
from gated_inpaint.commands import files
from gated_inpaint.commands.main import main as cli_main
from gated_inpaint.testing import save_image, smooth_photo, stroke_mask

HEIGHT, WIDTH = 250, 333


def run(capsys, *argv):
    code = cli_main(["inpaint", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def test_single_file_writes_a_333x250_result(tmp_path, weights, capsys):
    image, mask = smooth_photo(HEIGHT, WIDTH), stroke_mask(HEIGHT, WIDTH)
    output = tmp_path / "out" / "filled.png"
    code, out, err = run(
        capsys,
        "--model", weights,
        "--image", save_image(image, tmp_path / "photo.png"),
        "--mask", save_image(mask, tmp_path / "photo_mask.png"),
        "--output", output,
    )  # fmt: skip
    assert code == 0, err
    assert out.strip() == f"Wrote {output}"
    result = np.asarray(Image.open(output))
    assert result.shape == (HEIGHT, WIDTH, 3)
    known = mask == 0
    np.testing.assert_array_equal(result[known], image[known])
    assert (result[~known] != image[~known]).any(axis=-1).mean() > 0.5


def test_folder_mode_reports_failures_and_writes_the_others(tmp_path, weights, capsys):
    images, masks = tmp_path / "images", tmp_path / "masks"
    images.mkdir()
    masks.mkdir()
    expected = {}
    for stem, ext, mask_name, (h, w) in [
        ("a", "png", "a.png", (40, 56)),
        ("b", "jpg", "b_mask.png", (33, 47)),
        ("c", "png", "c.bmp", (24, 30)),
    ]:
        save_image(smooth_photo(h, w), images / f"{stem}.{ext}")
        image = np.asarray(Image.open(images / f"{stem}.{ext}"))  # as decoded
        expected[stem] = image, stroke_mask(h, w)
        save_image(expected[stem][1], masks / mask_name)
    (images / "broken.png").write_bytes(b"not a PNG")
    save_image(stroke_mask(10, 10), masks / "broken.png")
    save_image(smooth_photo(20, 20), images / "lonely.png")
    save_image(smooth_photo(20, 20), images / "small.png")
    save_image(stroke_mask(20, 24), masks / "small.png")
    (images / "notes.txt").write_text("not an image, ignored")
    output = tmp_path / "new" / "results"

    code, out, err = run(
        capsys, "--model", weights, "--image", images, "--mask", masks, "--output", output
    )
    assert code == 1
    assert sorted(p.name for p in output.iterdir()) == ["a.png", "b.png", "c.png"]
    for stem, (image, mask) in expected.items():
        result = np.asarray(Image.open(output / f"{stem}.png"))
        assert result.shape == image.shape
        np.testing.assert_array_equal(result[mask == 0], image[mask == 0])
    lines = err.splitlines()
    assert lines[:6] == [
        "[1/6] a.png",
        "[2/6] b.jpg",
        "[3/6] broken.png",
        "[4/6] c.png",
        "[5/6] lonely.png",
        "[6/6] small.png",
    ]
    assert lines[6] == (
        f"gated-inpaint inpaint: error: 3 of 6 images failed (3 written to {output}):"
    )
    assert lines[7].startswith(f"  broken.png: cannot read the image {images / 'broken.png'}")
    assert lines[8] == f"  lonely.png: no mask in {masks} (looked for lonely.* or lonely_mask.*)"
    assert lines[9] == (
        f"  small.png: the mask {masks / 'small.png'} is 24x20 but the image "
        f"{images / 'small.png'} is 20x20 (width x height)"
    )
    assert len(lines) == 10 and out == ""


def test_masks_beside_their_images(tmp_path, weights, capsys):
    image = smooth_photo(24, 40)
    save_image(image, tmp_path / "a.png")
    save_image(stroke_mask(24, 40), tmp_path / "a_mask.png")

    code, _, err = run(
        capsys, "--model", weights, "--image", tmp_path, "--mask", tmp_path, "--output", tmp_path
    )
    assert code == 1
    assert "a.png: the output" in err and "is an input file" in err
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "a.png")), image)

    code, out, err = run(
        capsys, "--model", weights, "--image", tmp_path, "--mask", tmp_path,
        "--output", tmp_path, "--output_format", "bmp",
    )  # fmt: skip
    assert code == 0, err
    assert err == "[1/1] a.png\n"
    assert out.strip() == f"Inpainted 1 image into {tmp_path}"
    assert np.asarray(Image.open(tmp_path / "a.bmp")).shape == (24, 40, 3)


def _error_cases(tmp_path, weights):
    image = save_image(smooth_photo(25, 33), tmp_path / "photo.png")
    mask = save_image(stroke_mask(25, 33), tmp_path / "mask.png")
    small_mask = save_image(stroke_mask(20, 30), tmp_path / "small_mask.png")
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 truncated")
    a_file = tmp_path / "file.txt"
    a_file.write_text("")
    (tmp_path / "exists.png").write_bytes(b"")
    images = tmp_path / "images"
    images.mkdir()
    save_image(smooth_photo(8, 8), images / "x.png")
    model = ["--model", weights]
    out = ["--output", tmp_path / "out.png"]
    return {
        "missing image": (
            [*model, "--image", tmp_path / "nope.png", "--mask", mask, *out],
            f"--image {tmp_path / 'nope.png'} does not exist",
        ),
        "missing model": (
            ["--model", tmp_path / "model", "--image", image, "--mask", mask, *out],
            "--model",
        ),
        "unreadable image": (
            [*model, "--image", broken, "--mask", mask, *out],
            f"cannot read the image {broken}",
        ),
        "mask of another size": (
            [*model, "--image", image, "--mask", small_mask, *out],
            "is 30x20 but the image",
        ),
        "output is an input": (
            [*model, "--image", image, "--mask", mask, "--output", mask],
            "is an input file",
        ),
        "output exists": (
            [*model, "--image", image, "--mask", mask, "--output", tmp_path / "exists.png"],
            "--overwrite",
        ),
        "unknown output format": (
            [*model, "--image", image, "--mask", mask, "--output", tmp_path / "out.xyz"],
            "cannot write .xyz images",
        ),
        "folder that cannot be created": (
            [*model, "--image", images, "--mask", images, "--output", a_file / "out"],
            f"cannot create the output folder {a_file / 'out'}",
        ),
        "folder of images, mask file": (
            [*model, "--image", images, "--mask", mask, "--output", tmp_path / "o"],
            "--mask must be a folder too",
        ),
    }


@pytest.mark.parametrize(
    "case",
    [
        "missing image",
        "missing model",
        "unreadable image",
        "mask of another size",
        "output is an input",
        "output exists",
        "unknown output format",
        "folder that cannot be created",
        "folder of images, mask file",
    ],
)
def test_errors_are_one_line_without_traceback(tmp_path, weights, capsys, case):
    argv, message = _error_cases(tmp_path, weights)[case]
    code, out, err = run(capsys, *argv)
    assert code == 1
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("gated-inpaint inpaint: error: ")
    assert message in err


def test_unrecognised_model_is_a_one_line_error(tmp_path, capsys):
    save_image(smooth_photo(8, 8), tmp_path / "a.png")
    save_image(stroke_mask(8, 8), tmp_path / "m.png")
    (tmp_path / "model").mkdir()
    code, _, err = run(
        capsys, "--model", tmp_path / "model", "--image", tmp_path / "a.png",
        "--mask", tmp_path / "m.png", "--output", tmp_path / "o.png",
    )  # fmt: skip
    assert code == 1
    assert err.count("\n") == 1 and "holds no model" in err


@pytest.mark.parametrize(
    ("argv", "expected"),
    [([], "inpaint"), (["inpaint"], "STEM_mask.*"), (["convert"], "--checkpoint_dir")],
)
def test_help(capsys, argv, expected):
    with pytest.raises(SystemExit) as exit_info:
        cli_main([*argv, "--help"])
    assert exit_info.value.code == 0
    assert expected in capsys.readouterr().out


def test_progress_rewrites_one_line_on_a_terminal():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    stream = Terminal()
    progress = files.Progress(2, stream)
    progress.update("long_name.jpg")
    progress.update("b.jpg")
    progress.close()
    assert stream.getvalue() == "\r[1/2] long_name.jpg\r[2/2] b.jpg        \n"


def test_export_subcommand_writes_the_next_version(tmp_path, capsys):
    from gated_inpaint.models import InpaintGenerator

    generator = InpaintGenerator(cnum=8)
    generator.build((1, None, None, 3))
    weights = str(tmp_path / "g.weights.h5")
    generator.save_weights(weights)
    argv = ["export", "--weights", weights, "--export_dir", str(tmp_path / "exports")]
    assert cli_main(argv) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "exports" / "1")
    assert (tmp_path / "exports" / "1" / "saved_model.pb").is_file()
    assert cli_main([*argv, "--version", "1"]) == 1
    assert "--overwrite" in capsys.readouterr().err


def test_edge_sketch_for_a_guided_model(tmp_path, capsys):

    weights = str(tmp_path / "guided.weights.h5")
    testing.tiny_generator(cnum=4, guided=True).save_weights(weights)
    mask = np.zeros((32, 40), np.uint8)
    mask[4:28, 4:36] = 255
    edge = np.zeros((32, 40), np.uint8)
    edge[16, :] = 255
    paths = {}
    for name, pixels in [("image", smooth_photo(32, 40)), ("mask", mask), ("edge", edge)]:
        paths[name] = str(tmp_path / f"{name}.png")
        Image.fromarray(pixels).save(paths[name])
    base = ["inpaint", "--model", weights, "--image", paths["image"], "--mask", paths["mask"]]
    with_edge, without = str(tmp_path / "with.png"), str(tmp_path / "without.png")
    assert cli_main([*base, "--edge", paths["edge"], "--output", with_edge]) == 0
    assert cli_main([*base, "--output", without]) == 0
    assert (np.asarray(Image.open(with_edge)) != np.asarray(Image.open(without))).any()
    missing = str(tmp_path / "none.png")
    assert cli_main([*base, "--edge", missing, "--output", str(tmp_path / "x.png")]) == 1
    assert f"--edge {missing} does not exist" in capsys.readouterr().err
