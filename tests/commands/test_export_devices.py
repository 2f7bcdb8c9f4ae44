"""`gated-inpaint export --format litert|onnx` and `--quantize`, and `gated-inpaint inpaint` with
the file written: from an official-layout checkpoint of a guided model, so the edge input of
the device graph is exercised too."""

import argparse

import numpy as np
import pytest
from absl import flags as absl_flags
from PIL import Image

from gated_inpaint.commands import export
from gated_inpaint.commands.flags import absl_namespace, define_absl_flags
from gated_inpaint.commands.main import main as cli_main
from gated_inpaint.inference.uint8_graph import inpaint_uint8
from gated_inpaint.models import InpaintGenerator
from gated_inpaint.testing import (
    hole_differences,
    official_tensors,
    save_image,
    smooth_photo,
    tiny_generator,
    write_tf1_checkpoint,
)
from gated_inpaint.weights.official import load_official_checkpoint


def test_litert_from_an_official_guided_checkpoint_then_inpaint(tmp_path, capsys):
    write_tf1_checkpoint(tmp_path / "release", official_tensors(tiny_generator(8, guided=True)))
    argv = ["export", "--official_checkpoint", str(tmp_path / "release")]
    argv += ["--export_dir", str(tmp_path / "out"), "--format", "litert"]
    assert cli_main(argv) == 0
    path = capsys.readouterr().out.strip()
    assert path == str(tmp_path / "out" / "gated_inpaint.tflite")
    assert cli_main(argv) == 1  # exists
    assert "--overwrite" in capsys.readouterr().err

    image = smooth_photo(45, 38)
    mask = np.zeros((45, 38), np.uint8)
    mask[10:30, 5:25] = 255
    edge = np.zeros_like(mask)
    edge[::4] = 255
    files = {name: save_image(a, tmp_path / f"{name}.png") for name, a in
             [("image", image), ("mask", mask), ("edge", edge)]}  # fmt: skip
    out = tmp_path / "filled.png"
    code = cli_main(["inpaint", "--model", path, "--image", files["image"], "--mask",
                     files["mask"], "--edge", files["edge"], "--output", str(out)])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    rgb = InpaintGenerator(cnum=8, guided=True)
    load_official_checkpoint(str(tmp_path / "release"), generator=rgb, channel_order="rgb")
    hole = (mask > 0).astype(np.uint8)[None, ..., None]
    lines = (edge > 0).astype(np.uint8)[None, ..., None]
    want = inpaint_uint8(rgb, image[None], hole, lines).numpy()
    got = np.asarray(Image.open(out))[None]
    assert hole_differences(got, want, hole)[0] <= 1
    np.testing.assert_array_equal(got[0][mask == 0], image[mask == 0])


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--quantize", "int8"], "--quantize applies to --format litert and onnx"),
        (
            ["--format", "litert", "--hd_strategy", "resize"],
            "not for --format litert: --hd_strategy",
        ),
        (["--format", "onnx", "--version", "3"], "not for --format onnx: --version"),
        (["--format", "onnx", "--quantize", "float16"], "it is a LiteRT option"),
    ],
)
def test_flags_that_do_not_apply_are_refused(tmp_path, capsys, flags, message):
    weights = str(tmp_path / "g.weights.h5")
    tiny_generator(8).save_weights(weights)
    argv = ["export", "--weights", weights, "--export_dir", str(tmp_path / "out"), *flags]
    assert cli_main(argv) == 1
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_export_py_takes_the_same_flags():
    values = absl_flags.FlagValues()
    define_absl_flags(export.FLAGS, values)
    values(
        ["export.py", "--weights=g.h5", "--export_dir=out", "--format=litert", "--quantize=int8"]
    )
    args = absl_namespace(export.FLAGS, values)
    assert isinstance(args, argparse.Namespace)
    assert (args.format, args.quantize, args.max_pixels) == ("litert", "int8", None)
    with pytest.raises(absl_flags.IllegalFlagValueError):
        values(["export.py", "--format=tflite"])
