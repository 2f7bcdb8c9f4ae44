import os

import numpy as np

from gated_inpaint.commands.main import main as cli_main
from gated_inpaint.models import InpaintGenerator
from gated_inpaint.testing import official_tensors, tiny_generator, write_tf1_checkpoint


def test_command_writes_a_loadable_weights_file(tmp_path, rng, capsys):
    g = tiny_generator()
    write_tf1_checkpoint(tmp_path / "ckpt", official_tensors(g))
    out = str(tmp_path / "generator.weights.h5")
    argv = ["--checkpoint_dir", str(tmp_path / "ckpt"), "--output", out, "--channel_order", "bgr"]
    assert cli_main(["convert", *argv]) == 0
    assert "cnum=8, guided=False" in capsys.readouterr().out
    restored = InpaintGenerator(cnum=8)
    restored.build((1, None, None, 3))
    restored.load_weights(out)
    image = rng.uniform(-1, 1, size=(2, 64, 64, 3)).astype("float32")
    mask = np.zeros((2, 64, 64, 1), "float32")
    mask[:, 16:40, 20:52] = 1
    np.testing.assert_array_equal(restored(image, mask)[1], g(image, mask)[1])
    assert cli_main(["convert", *argv]) == 1
    assert "--overwrite" in capsys.readouterr().err
    assert cli_main(["convert", *argv, "--overwrite"]) == 0
    assert cli_main(["convert", *argv[:3], str(tmp_path / "g.h5")]) == 1
    assert ".weights.h5" in capsys.readouterr().err


def test_console_script_convert_subcommand(tmp_path, capsys):
    g = tiny_generator()
    write_tf1_checkpoint(tmp_path / "ckpt", official_tensors(g))
    out = str(tmp_path / "g.weights.h5")
    assert cli_main(["convert", "--checkpoint_dir", str(tmp_path / "ckpt"), "--output", out]) == 0
    assert "RGB" in capsys.readouterr().out and os.path.exists(out)
    assert cli_main(["convert", "--checkpoint_dir", str(tmp_path / "none"), "--output", out]) == 1
    assert "No checkpoint at" in capsys.readouterr().err
