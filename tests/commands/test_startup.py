"""Start-up of the commands: --help without TensorFlow, TensorFlow's start-up lines hidden
unless --verbose, and a failed command printing its error only."""

import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from gated_inpaint import testing
from gated_inpaint.commands.startup import START_UP_LINES
from gated_inpaint.models import SNPatchGANDiscriminator
from gated_inpaint.weights.run_folder import network_variables

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ENV = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
COMMAND = [sys.executable, "-m", "gated_inpaint"]
HELP_PROBE = """
import runpy, sys
script, *sys.argv[1:] = sys.argv[1:]
try:
    if script == "gated-inpaint":
        from gated_inpaint.commands.main import main
        main(sys.argv[1:])
    else:
        sys.argv[0] = script
        runpy.run_path(script, run_name="__main__")
except SystemExit:
    pass
print("tensorflow" in sys.modules, "keras" in sys.modules, file=sys.stderr)
"""


@pytest.mark.parametrize(
    "argv",
    [
        ["gated-inpaint", "--help"],
        *[
            ["gated-inpaint", name, "--help"]
            for name in ("convert", "inpaint", "export", "masks", "evaluate", "serve")
        ],
        [os.path.join(ROOT, "export.py"), "--help"],
        [os.path.join(ROOT, "train.py"), "--help"],
    ],
    ids=lambda argv: " ".join(os.path.basename(a) for a in argv),
)
def test_help_does_not_import_tensorflow(argv):
    done = subprocess.run(
        [sys.executable, "-c", HELP_PROBE, *argv], capture_output=True, text=True, timeout=60
    )
    assert "--help" in done.stdout, done.stderr
    assert done.stderr.splitlines()[-1] == "False False"


def _run(*args):
    return subprocess.run(
        [*COMMAND, *args], capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=300
    )


def test_start_up_lines_hidden_unless_verbose(weights, tmp_path):
    Image.fromarray(testing.smooth_photo(24, 32)).save(tmp_path / "photo.png")
    mask = np.zeros((24, 32), np.uint8)
    mask[8:16, 8:20] = 255
    Image.fromarray(mask).save(tmp_path / "mask.png")
    files = ["--image", str(tmp_path / "photo.png"), "--mask", str(tmp_path / "mask.png")]
    quiet = _run("inpaint", "--model", weights, *files, "--output", str(tmp_path / "a.png"))
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == ""
    verbose = _run(
        "inpaint", "--model", weights, *files, "--output", str(tmp_path / "b.png"), "--verbose"
    )
    assert verbose.returncode == 0, verbose.stderr
    assert any(START_UP_LINES.search(line) for line in verbose.stderr.splitlines())


def test_export_py_prints_the_path_only(weights, tmp_path):
    """absl shows TensorFlow's Python information lines (what saving a SavedModel does)."""
    command = [sys.executable, os.path.join(ROOT, "export.py"), f"--weights={weights}"]
    done = subprocess.run(
        [*command, f"--export_dir={tmp_path}"], capture_output=True, text=True, env=ENV
    )
    assert done.returncode == 0, done.stderr
    assert (done.stdout.strip(), done.stderr) == (str(tmp_path / "1"), "")


def test_start_up_lines_are_told_from_real_ones():
    hidden = [
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
        "I0000 00:00:1796205694.786500    6816 port.cc:153] oneDNN custom operations are on.",
        "I0000 00:00:1796205694.786809    6816 cudart_stub.cc:31] Could not find cuda drivers",
        "E0000 00:00:1796205696.546028    6816 cuda_platform.cc:52] failed call to cuInit: ...",
        "To enable the following instructions: AVX2 FMA, in other operations, rebuild "
        "TensorFlow with the appropriate compiler flags.",
    ]
    shown = [
        "W0000 00:00:1796205696.546028    6816 op_kernel.cc:1857] OP_REQUIRES failed at ...",
        "E0000 00:00:1796205696.546028    6816 bfc_allocator.cc:466] Allocator ran out of memory",
        "gated-inpaint inpaint: warning: the mask has no hole",
    ]
    assert all(START_UP_LINES.search(line) for line in hidden)
    assert not any(START_UP_LINES.search(line) for line in shown)


def test_failed_export_prints_its_error_only(tmp_path):
    """A training run's checkpoint read with the wrong width: one line, not a warning per
    checkpoint value that the failed restore left unread."""
    generator = testing.tiny_generator(cnum=4)
    discriminator = SNPatchGANDiscriminator(cnum=4)
    discriminator.build((None, None, None, 4))
    optimizer_slots = {f"slot{i}": tf.Variable(np.zeros(3, np.float32)) for i in range(20)}
    run = tmp_path / "run"
    checkpoint = tf.train.Checkpoint(
        networks=network_variables(generator, discriminator), optimizer=optimizer_slots
    )
    checkpoint.save(str(run / "ckpt"))
    (run / "flags.txt").write_text("--cnum=8\n")
    done = _run("export", "--model_dir", str(run), "--export_dir", str(tmp_path / "exports"))
    assert done.returncode == 1
    assert done.stderr.splitlines() == [done.stderr.strip()], done.stderr[:3000]
    assert done.stderr.startswith("gated-inpaint export: error: The checkpoint")
    assert "generator/conv1/kernel: [5, 5, 5, 4] in the checkpoint" in done.stderr
