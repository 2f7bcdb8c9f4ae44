"""Latency of the exported full-size model (cnum=48, random weights) through `serving_default`:
one PNG image and its PNG mask in, one PNG out, batch 1.

Usage: python bench/serving_latency.py [--size 512] [--runs 7] [--json FILE]

Exports into a temporary directory, then, in a fresh process per runner, loads the SavedModel
(`tf.saved_model.load`, and a TF1 Session by SignatureDef as TF Serving does), times the first
(cold) call, makes two warm-up calls, and reports the median, min and max of `--runs` timed
calls of `serving_default`, the same for `inpaint_tensors` on the decoded pixels, and the
process's peak RSS. bench/run.py calls `measure` (with `saved_model_load`) at every size.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from common import peak_rss_mb, rect_mask, smooth_image, timings  # noqa: E402

RUNNERS = ("saved_model_load", "tf1_session")
SIGNATURES = ("serving_default", "inpaint_tensors")


def _inputs(size: int) -> dict:
    """A smooth random image and a centred rectangular hole of a quarter of its area."""
    image = smooth_image(size, size)
    mask = rect_mask(size, size)[..., None] * np.uint8(255)
    return {
        "serving_default": {
            "image_bytes": np.array([tf.io.encode_png(image).numpy()], dtype=object),
            "mask_bytes": np.array([tf.io.encode_png(mask).numpy()], dtype=object),
        },
        "inpaint_tensors": {"image": image[None], "mask": mask[None]},
    }


def _callables(path: str, runner: str) -> dict:
    """`signature name -> f(inputs dict)` for the chosen way of loading."""
    if runner == "saved_model_load":
        model = tf.saved_model.load(path)
        return {
            name: (lambda inputs, f=f: {k: v.numpy() for k, v in f(**inputs).items()})
            for name, f in model.signatures.items()
        }
    graph = tf.Graph()
    with graph.as_default():
        session = tf.compat.v1.Session(graph=graph)
        meta_graph = tf.compat.v1.saved_model.loader.load(session, ["serve"], path)

    def run(signature):
        fetches = {k: v.name for k, v in signature.outputs.items()}
        return lambda inputs: session.run(
            fetches, {signature.inputs[k].name: v for k, v in inputs.items()}
        )

    return {name: run(s) for name, s in meta_graph.signature_def.items()}


def measure(path: str, runner: str, size: int, runs: int, names=SIGNATURES) -> dict:
    """Timings of one runner, in this process (call it in a fresh one), of the signatures
    `names`; `loaded_rss_mb` is the peak RSS once loaded, before the first call."""
    start = time.perf_counter()
    signatures = _callables(path, runner)
    result = {"load_s": time.perf_counter() - start, "loaded_rss_mb": peak_rss_mb()}
    inputs = _inputs(size)
    for name in names:
        f, x = signatures[name], inputs[name]
        result[name] = timings(lambda f=f, x=x: f(x), runs, warmup=3)
    result["peak_rss_mb"] = peak_rss_mb()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512, help="image side in pixels")
    parser.add_argument("--runs", type=int, default=7, help="timed calls after warm-up")
    parser.add_argument("--json", help="also write the results to this JSON file")
    parser.add_argument(
        "--measure", nargs=2, metavar=("SAVED_MODEL", "RUNNER"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(*args.measure, args.size, args.runs)))
        return

    from gated_inpaint.models import InpaintGenerator
    from gated_inpaint.serving.export import export_saved_model

    generator = InpaintGenerator(cnum=48)
    generator.build((1, None, None, 3))
    results = {"size": args.size, "cpus": os.cpu_count(), "tensorflow": tf.__version__}
    with tempfile.TemporaryDirectory() as base:
        path = export_saved_model(generator, base)
        for runner in RUNNERS:
            command = [sys.executable, __file__, "--measure", path, runner]
            command += [f"--size={args.size}", f"--runs={args.runs}"]
            done = subprocess.run(command, capture_output=True, text=True, check=True)
            results[runner] = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"{args.size}x{args.size}, cnum=48, {results['cpus']} CPUs, TF {tf.__version__}")
    print(f"{'runner':>17} {'signature':>16} {'first s':>8} {'median s':>9} {'min s':>6} "
          f"{'max s':>6} {'peak RSS MB':>12}")  # fmt: skip
    for runner in RUNNERS:
        for name in SIGNATURES:
            r = results[runner][name]
            print(
                f"{runner:>17} {name:>16} {r['first_call_s']:8.3f} {r['median_s']:9.3f} "
                f"{r['min_s']:6.3f} {r['max_s']:6.3f} {results[runner]['peak_rss_mb']:12.0f}"
            )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
