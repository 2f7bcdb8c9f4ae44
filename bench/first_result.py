"""Time to first result: one 512x512 photo through `gated-inpaint inpaint`, as a user runs it.

Usage: python bench/first_result.py [--size 512] [--runs 3]

Each run is a fresh process. The command itself is timed from outside (wall time of
`gated-inpaint inpaint ...`, and of `gated-inpaint inpaint --help`), and the same steps are
timed inside one process, in the order the command takes them: importing the command and
TensorFlow, loading the model (`Inpainter.load` of a cnum=48 `*.weights.h5` file with random
weights), the first `inpaint` call (tracing the graph plus one forward pass), and a second
call on another photo of the same size (one forward pass). Tracing is the first call minus
the second. Medians over `--runs`; the target is a command no slower than import + load + two
forward passes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
STEPS = ("import", "load", "first_call", "second_call")
WALLS = ("command_wall", "help_wall")

INSIDE = """
import json, sys, time
start = time.perf_counter()
from gated_inpaint.commands import main  # what `gated-inpaint` imports first
from gated_inpaint.commands.options import load_inpainter
from gated_inpaint.commands.startup import start_tensorflow
from PIL import Image
start_tensorflow()  # what a command does before its work
import gated_inpaint.inference.inpainter  # what load_inpainter imports
imported = time.perf_counter()
args = main.build_parser().parse_args(["inpaint", "--model", sys.argv[1], "--image", sys.argv[2],
                                       "--mask", sys.argv[3], "--output", sys.argv[4]])
inpainter = load_inpainter(args)
loaded = time.perf_counter()
image, mask = Image.open(sys.argv[2]), Image.open(sys.argv[3])
inpainter.inpaint(image, mask)
first = time.perf_counter()
inpainter.inpaint(image.transpose(Image.Transpose.FLIP_LEFT_RIGHT), mask)
second = time.perf_counter()
print(json.dumps({"import": imported - start, "load": loaded - imported,
                  "first_call": first - loaded, "second_call": second - first}))
"""


def _files(folder: str, size: int) -> list[str]:
    """The model, photo, mask and output paths, the first three written into `folder`."""
    sys.path.insert(0, HERE)
    from common import freeform_mask, random_generator, smooth_image
    from PIL import Image

    model = os.path.join(folder, "generator.weights.h5")
    random_generator().save_weights(model)
    photo, mask = os.path.join(folder, "photo.png"), os.path.join(folder, "mask.png")
    Image.fromarray(smooth_image(size, size)).save(photo)
    Image.fromarray(freeform_mask(size, size) * 255).save(mask)
    return [model, photo, mask, os.path.join(folder, "out.png")]


def measure(size: int, runs: int) -> dict:
    """Medians of the command's wall time and of each step, over `runs` fresh processes."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    command = os.path.join(os.path.dirname(sys.executable), "gated-inpaint")
    with tempfile.TemporaryDirectory(prefix="first_result_") as folder:
        model, photo, mask, output = _files(folder, size)
        walls, steps = {name: [] for name in WALLS}, []
        for _ in range(runs):
            if os.path.exists(output):
                os.remove(output)
            argv = ["--model", model, "--image", photo, "--mask", mask, "--output", output]
            for name, args in [("command_wall", argv), ("help_wall", ["--help"])]:
                start = time.perf_counter()
                subprocess.run(
                    [command, "inpaint", *args], check=True, env=env, capture_output=True
                )
                walls[name].append(time.perf_counter() - start)
            inside = subprocess.run(
                [sys.executable, "-c", INSIDE, model, photo, mask, output],
                check=True, env=env, capture_output=True, text=True,
            )  # fmt: skip
            steps.append(json.loads(inside.stdout.strip().splitlines()[-1]))
    result = {name: statistics.median(s[name] for s in steps) for name in STEPS}
    result["trace"] = result["first_call"] - result["second_call"]
    result.update({name: statistics.median(times) for name, times in walls.items()})
    result["target"] = result["import"] + result["load"] + 2 * result["second_call"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=512, help="square photo side (default 512)")
    parser.add_argument("--runs", type=int, default=3, help="fresh processes (default 3)")
    args = parser.parse_args()
    result = measure(args.size, args.runs)
    print(json.dumps({"size": args.size, "runs": args.runs, **result}, indent=1))


if __name__ == "__main__":
    main()
