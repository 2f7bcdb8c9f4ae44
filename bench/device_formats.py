"""Device exports beside the SavedModel, in one run: file size, latency and peak RSS of LiteRT
(float32, float16, int8) and ONNX (float32) files and of the TF SavedModel (float32),
cnum=48 with random weights (bench/common.py), batch 1, a smooth image with a centred hole of
a quarter of the area.

Usage:
    python bench/device_formats.py [--sizes 256 512] [--runs 5] [--rounds 2] [--json FILE]
    python bench/device_formats.py --probe litert:544 onnx:1024   # float32 memory at a size
    python bench/device_formats.py --profile 512                          # onnxruntime op profile

The models are exported once, in a subprocess, into a temporary folder. Every (model, size)
then runs in a fresh process of its own (so its peak RSS, `ru_maxrss`, is its own; the LiteRT
and onnxruntime processes do not import TensorFlow), with all cores as threads: the first
(cold) call, one warm-up call, then `--runs` timed calls. `--rounds` repeats the whole series,
the models in turn in alternating order, and the median is over every timed call of every
round, so that load from other work on a shared machine spreads over all models alike.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import statistics
import subprocess
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from common import peak_rss_mb, rect_mask, smooth_image, timings  # noqa: E402

CASES = (
    ("savedmodel", "none"),
    ("litert", "none"),
    ("litert", "float16"),
    ("litert", "int8"),
    ("onnx", "none"),
)
REFERENCE = ("savedmodel", "none")
BENCH_MAX_PIXELS = 4096 * 4096  # the bench probes sizes above the files' default limit


def export_all(folder: str, cnum: int) -> dict:
    """Exports every case into `folder`; returns `{"format/quantize": path}`."""
    from common import random_generator

    from gated_inpaint.serving.export import export_saved_model
    from gated_inpaint.serving.litert_export import export_litert
    from gated_inpaint.serving.onnx_export import export_onnx

    generator = random_generator(cnum)
    paths = {}
    for format, quantize in CASES:
        if format == "savedmodel":
            path = export_saved_model(generator, os.path.join(folder, "saved_model"))
        else:
            export = export_litert if format == "litert" else export_onnx
            path = export(generator, folder, quantize=quantize, max_pixels=BENCH_MAX_PIXELS)
        paths[f"{format}/{quantize}"] = path
    return paths


def file_megabytes(path: str) -> float:
    """The size of a file, or of every file under a folder, in MB."""
    if os.path.isfile(path):
        return os.path.getsize(path) / 1e6
    return (
        sum(
            os.path.getsize(os.path.join(root, name))
            for root, _, names in os.walk(path)
            for name in names
        )
        / 1e6
    )


def run_case(format: str, path: str, size: int, runs: int) -> dict:
    """Times one model at one size in this process."""
    if format == "savedmodel":
        from gated_inpaint.inference.saved_model import SavedModelRunner as Runner
    elif format == "litert":
        from gated_inpaint.inference.litert_runner import LiteRTRunner as Runner
    else:
        from gated_inpaint.inference.onnx_runner import OnnxRunner as Runner
    runner = Runner(path)
    image = smooth_image(size, size)[None]
    mask = rect_mask(size, size)[None, ..., None]
    result = timings(lambda: runner(image, mask, None), runs=runs)
    result["peak_rss_mb"] = peak_rss_mb()
    result["tensorflow_imported"] = "tensorflow" in sys.modules
    return result


def onnx_profile(path: str, size: int) -> list[tuple[str, float, int]]:
    """`(op type, seconds per call, nodes)` of an ONNX file at `size`, from onnxruntime's
    profiler over two calls after a warm-up one, largest first."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = os.cpu_count()
    session = onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    feeds = {
        "image": smooth_image(size, size)[None],
        "mask": rect_mask(size, size)[None, ..., None],
    }
    session.run(None, feeds)
    with tempfile.TemporaryDirectory() as folder:
        options.enable_profiling = True
        options.profile_file_prefix = os.path.join(folder, "onnxruntime_profile")
        session = onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        for _ in range(3):
            session.run(None, feeds)
        with open(session.end_profiling()) as f:
            events = json.load(f)
    totals, nodes = collections.Counter(), collections.defaultdict(set)
    for event in events:
        if event.get("cat") == "Node" and event["name"].endswith("_kernel_time"):
            totals[event["args"]["op_name"]] += event["dur"] / 1e6 / 3
            nodes[event["args"]["op_name"]].add(event["name"])
    return [(op, seconds, len(nodes[op])) for op, seconds in totals.most_common()]


def _subprocess(*args: str) -> dict:
    command = [sys.executable, os.path.abspath(__file__), *args]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr else "failed"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def table(results: dict, sizes: list[int]) -> str:
    """The markdown table of `main`'s results."""
    reference = results["cases"][f"{REFERENCE[0]}/{REFERENCE[1]}"]
    head = ["format", "quantize", "file MB"]
    head += [f"{s} s" for s in sizes] + [f"peak RSS {s} GB" for s in sizes]
    head += [f"speed-up vs TF at {s}" for s in sizes]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for key, case in results["cases"].items():
        format, quantize = key.split("/")
        row = [format, quantize, f"{case['file_mb']:.1f}"]
        row += [_seconds(case, s) for s in sizes]
        row += [_rss(case, s) for s in sizes]
        row += [_ratio(reference, case, s) for s in sizes]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def _seconds(case, size):
    times = case.get(str(size), {}).get("times_s")
    return f"{statistics.median(times):.2f}" if times else case.get(str(size), {}).get("error", "-")


def _rss(case, size):
    rss = case.get(str(size), {}).get("peak_rss_mb")
    return f"{max(rss) / 1024:.2f}" if rss else "-"


def _ratio(reference, case, size):
    a, b = reference.get(str(size), {}).get("times_s"), case.get(str(size), {}).get("times_s")
    return f"{statistics.median(a) / statistics.median(b):.2f}x" if a and b else "-"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--cnum", type=int, default=48)
    parser.add_argument("--json", help="write the results to this file")
    parser.add_argument(
        "--probe", nargs="*", default=[], metavar="FORMAT:SIZE", help="e.g. litert:544 onnx:1024"
    )
    parser.add_argument("--profile", type=int, nargs="*", default=[], metavar="SIZE")
    parser.add_argument("--export", metavar="DIR", help=argparse.SUPPRESS)
    parser.add_argument("--case", nargs=4, metavar="X", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.export:
        print(json.dumps(export_all(args.export, args.cnum)))
        return 0
    if args.case:
        format, path, size, runs = args.case
        print(json.dumps(run_case(format, path, int(size), int(runs))))
        return 0

    with tempfile.TemporaryDirectory() as folder:
        paths = _subprocess("--export", folder, "--cnum", str(args.cnum))
        if "error" in paths:
            print(f"export failed: {paths['error']}", file=sys.stderr)
            return 1
        results = {"cnum": args.cnum, "threads": os.cpu_count(), "cases": {}}
        for key, path in paths.items():
            results["cases"][key] = {"file_mb": file_megabytes(path)}
        for round_index in range(args.rounds):
            order = list(paths.items())
            if round_index % 2:
                order.reverse()
            for size in args.sizes:
                for key, path in order:
                    out = _subprocess("--case", key.split("/")[0], path, str(size), str(args.runs))
                    case = results["cases"][key].setdefault(str(size), {})
                    if "error" in out:
                        case["error"] = out["error"]
                        continue
                    case.setdefault("times_s", []).extend(out["times_s"])
                    case.setdefault("peak_rss_mb", []).append(out["peak_rss_mb"])
                    case.setdefault("first_call_s", []).append(out["first_call_s"])
                    print(f"round {round_index + 1} {key} {size}: {out['median_s']:.2f} s, "
                          f"{out['peak_rss_mb'] / 1024:.2f} GB", file=sys.stderr)  # fmt: skip
        for probe in args.probe:
            format, size = probe.split(":")
            out = _subprocess("--case", format, paths[f"{format}/none"], size, "1")
            results.setdefault("float32_by_size", {})[f"{format} {size}"] = out
        for size in args.profile:
            results.setdefault("onnx_profile", {})[str(size)] = onnx_profile(
                paths["onnx/none"], size
            )
    print(table(results, args.sizes))
    for key, out in results.get("float32_by_size", {}).items():
        format, size = key.split()
        rss = out.get("peak_rss_mb", 0) / 1024
        seconds = out.get("median_s", 0)
        print(f"{format} float32 at {size}x{size}: {seconds:.2f} s, peak RSS {rss:.2f} GB "
              f"{out.get('error', '')}")  # fmt: skip
    for size, ops in results.get("onnx_profile", {}).items():
        total = sum(seconds for _, seconds, _ in ops)
        print(f"onnxruntime float32 at {size}: {total:.2f} s in kernels")
        for op, seconds, count in ops[:12]:
            print(f"  {op:24s} {seconds:6.2f} s  {100 * seconds / total:4.1f} %  ({count} nodes)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
