"""The benchmark suite behind `make bench`: one run, a console table and a JSON file.

Usage:
    python bench/run.py [--sizes 256 512 1024 2048 4096] [--runs 5] [--json bench/results.json]
    python bench/run.py --quick           # small sizes, few runs: checks it works (~4 min)
    python bench/run.py --code HEAD ...   # gated_inpaint/ as committed, not the working tree
    python bench/run.py --table bench/results_epyc_2core.json   # print a results file

Measures, with TensorFlow's default thread settings:

- the machine's matmul rate: GFLOP/s of `tf.linalg.matmul` on square float32 and bfloat16
  matrices (`--matmul_sizes`, 2048 and 4096), median of `--runs` after two warm-up calls; the
  best median of each precision is the reference for the fractions below;
- the Keras generator forward (cnum=48, batch 1, `tf.function`, random weights scaled so the
  activations stay away from 0) at each of `--sizes`, float32 and mixed_bfloat16 (the
  policy set before the generator is built), on a smooth random image with a centred
  rectangular hole (25 % of the area) and, when a call is cheap, a free-form hole (~10 %):
  median, min and max of `--runs` timed calls after two warm-up calls, peak RSS, and the
  achieved GFLOP/s (`gated_inpaint.models.flops`: convolutions + attention matmuls) with its
  fraction of the matmul rate of the same precision;
- the exported SavedModel (`export_lib.export_saved_model` into a temporary directory with its
  default high-resolution strategy, `inpaint_tensors` signature checked), loaded by
  `tf.saved_model.load`: `inpaint_tensors` (uint8 tensors) and, when cheap,
  `serving_default` (PNG in and out): latency and peak RSS per size (bench/serving_latency.py's
  `measure`);
- `Inpainter` on high-resolution photos (a demo photo resized to `--hd_sizes` square,
  free-form hole of ~10 %) with `hd_strategy` crop, resize and original
  (`--hd_strategies`, `--hd_max_size`, `--hd_margin`), float32 and bfloat16 (`precision=`);
- training steps/s (one D + one G update, 256x256, batch 4; bench/train_step.py's `measure`),
  float32 and mixed_bfloat16;
- training masks per second (bench/bench_masks.py's `masks_per_second`).

Every case runs in a fresh subprocess, so its peak RSS (`ru_maxrss` of the child) is its own,
on a copy of `gated_inpaint/` and of these scripts made at the start (edits during a long run
do not count; the header says which code ran). A case is skipped, with the reason in the
table, when its estimated peak RSS exceeds `--max_rss_gb` (default 80 % of the memory
available at the start) or its estimated time exceeds `--max_case_minutes` (FLOPs over the
rate measured so far); a running case whose RSS passes the limit, or that runs past
`--timeout`, is killed. The RSS estimate is a model (process + activations + the scores the
contextual attention holds at once: all pairs, or its `chunk_elements`) until two sizes of
the same kind are measured, then a power law through the two largest measured sizes.

The machine may be shared: a case during which other work kept more than 0.25 cores busy on
average (the `others` column: busy CPU time of the machine minus the bench's own, over the
wall time) is run again at once (`--retries`) and, if still disturbed, once more at the end
of the run; the quietest run counts.

On the 2-core EPYC CI machine, `--hd_strategies crop resize` with the default sizes took 68
minutes: the 2048 forward is half of it (~3 min a call in float32), 4096 is skipped (~40 min a
call), and so is the 4096 `original` photo; the 2048 `original` photo adds about 20 minutes.
Progress goes to stderr, the table to stdout, the results to `--json` (written after every
case).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import importlib.metadata
import io
import json
import math
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PHOTO = os.path.join(ROOT, "data", "demo", "dragonfly_by_bolly.jpg")
PRECISIONS = ("float32", "bfloat16")
HD_STRATEGIES = ("crop", "resize", "original")
HD_ARGUMENTS = ("hd_strategy", "hd_max_size", "hd_margin")
CNUM = 48
FREEFORM_COVERAGE = 0.10

# A-priori peak RSS of one generator forward at H x W (used until two sizes are measured),
# fitted on this machine with the all-pairs attention: the process with TF and the model,
# the conv activations, and a few live copies of the [N, N] attention scores, N = H*W/64.
BASE_GB = 0.7
ACTIVATIONS_GB_PER_MPIXEL = 1.0
ATTENTION_COPIES = 6
POLL_S = 0.2
# A case during which other work kept more cores than this busy on average is run again.
NOISY_CORES = 0.25
# A call estimated cheaper than this also gets the free-form forward and serving_default runs.
CHEAP_CALL_S = 20


# ------------------------------------------------------------------------------------------
# Children: each measures one case in a fresh process and writes a JSON dict.


def _set_policy(precision: str) -> None:
    import keras

    keras.mixed_precision.set_global_policy(
        "mixed_bfloat16" if precision == "bfloat16" else "float32"
    )


def _export_hd_default() -> dict:
    """The high-resolution strategy `export_saved_model` uses by default."""
    from gated_inpaint.hd_strategy import DEFAULT_HD

    return dataclasses.asdict(DEFAULT_HD)


def child_setup(spec: dict) -> dict:
    """Versions, the matmul rates and the FLOP counts of every shape."""
    import keras
    import tensorflow as tf
    from common import timings

    from gated_inpaint.models import InpaintGenerator
    from gated_inpaint.models.flops import generator_flops

    matmul = []
    for precision in PRECISIONS:
        for n in spec["matmul_sizes"]:
            a = tf.cast(tf.random.normal([n, n], seed=1), precision)
            b = tf.cast(tf.random.normal([n, n], seed=2), precision)
            # Eager CPU ops run synchronously; reading one element avoids a 64 MB copy.
            t = timings(lambda a=a, b=b: tf.linalg.matmul(a, b)[0, 0].numpy(), spec["runs"])
            del a, b
            matmul.append(
                {
                    "precision": precision,
                    "n": n,
                    **t,
                    "gflops": 2 * n**3 / t["median_s"] / 1e9,
                    "max_gflops": 2 * n**3 / t["min_s"] / 1e9,
                }
            )
    export_hd = _export_hd_default()
    shapes = [tuple(shape) for shape in spec["flop_shapes"]]
    shapes.append((_pad8(export_hd["max_size"]),) * 2)
    generator = InpaintGenerator(cnum=CNUM)
    counts = {f"{h}x{w}": generator_flops(generator, h, w) for h, w in shapes}
    return {
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "matmul": matmul,
        "flops": {shape: count["by_kind"] for shape, count in counts.items()},
        "executed_flops": {shape: count["executed"] for shape, count in counts.items()},
        # Scores held at once by the contextual attention (None: all, quadratic in pixels).
        "attention_chunk_elements": generator.contextual_attention.chunk_elements,
        "export_hd_default": export_hd,
    }


def child_forward(spec: dict) -> dict:
    """The Keras generator forward at one size and precision: centred rectangular hole, and
    (`spec["with_freeform"]`) a free-form hole."""
    import numpy as np
    import tensorflow as tf
    from common import (
        freeform_mask,
        peak_rss_mb,
        random_generator,
        rect_mask,
        smooth_image,
        timings,
    )

    _set_policy(spec["precision"])
    generator = random_generator(CNUM)
    size, runs = spec["size"], spec["runs"]
    image = tf.constant(smooth_image(size, size)[None].astype("float32") / 127.5 - 1.0)
    masks = {"rect": rect_mask(size, size)}
    if spec["with_freeform"]:
        masks["freeform"] = freeform_mask(size, size, FREEFORM_COVERAGE)
    forward = tf.function(lambda i, m: generator(i, m)[1])
    result = {"base_rss_mb": peak_rss_mb(), "dtype_policy": generator.dtype_policy.name}
    for name, mask in masks.items():
        m = tf.constant(mask[None, ..., None].astype("float32"))
        last = {}

        def call(m=m, last=last):
            last["output"] = forward(image, m).numpy()

        # The free-form run reuses the traced graph: its first call is its warm-up.
        result[name] = timings(call, runs, warmup=2 if name == "rect" else 1)
        result[name]["hole_fraction"] = float(mask.mean())
        result[name]["output_std"] = float(np.std(last["output"].astype("float32")))
    return result


def child_export(spec: dict) -> dict:
    """Exports the random-weight generator in one precision; checks the `inpaint_tensors`
    signature of the reloaded SavedModel."""
    import tensorflow as tf
    from common import random_generator

    from gated_inpaint import export_lib

    generator = random_generator(CNUM)
    export_dir = os.path.join(spec["dir"], f"saved_model_{spec['precision']}")
    path = export_lib.export_saved_model(generator, export_dir, compute_precision=spec["precision"])
    signature = tf.saved_model.load(path).signatures[export_lib.TENSOR_SIGNATURE]
    inputs = {k: v.dtype.name for k, v in signature.structured_input_signature[1].items()}
    outputs = {k: v.dtype.name for k, v in signature.structured_outputs.items()}
    if inputs != {"image": "uint8", "mask": "uint8"} or outputs != {"output": "uint8"}:
        raise ValueError(f"Unexpected inpaint_tensors signature: {inputs} -> {outputs}")
    return {
        "path": path,
        "hd": _export_hd_default(),
        "signature": {"inputs": inputs, "outputs": outputs},
    }


def child_saved_model(spec: dict) -> dict:
    """The exported model's signatures at one size (bench/serving_latency.py's `measure`)."""
    import serving_latency

    return serving_latency.measure(
        spec["path"], "saved_model_load", spec["size"], spec["runs"], spec["signatures"]
    )


def photo(path: str, height: int, width: int):
    """The photo at `path` resized (bicubic) to `height x width`, uint8 RGB."""
    import numpy as np
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert("RGB").resize((width, height), Image.BICUBIC))


def child_hd(spec: dict) -> dict:
    """`Inpainter.inpaint` on one high-resolution photo with one hd_strategy and precision."""
    from common import freeform_mask, random_generator, timings

    from gated_inpaint import Inpainter

    options = {k: spec[k] for k in HD_ARGUMENTS}
    inpainter = Inpainter(random_generator(CNUM), precision=spec["precision"], **options)
    image = photo(spec["photo"], spec["height"], spec["width"])
    mask = freeform_mask(spec["height"], spec["width"], FREEFORM_COVERAGE) * 255
    result = timings(lambda: inpainter.inpaint(image, mask), spec["runs"], warmup=1)
    return {**result, "hole_fraction": float((mask > 0).mean()), "inpainter": repr(inpainter)}


def child_train(spec: dict) -> dict:
    import train_step

    return train_step.measure(
        spec["size"], spec["batch"], spec["steps"], spec["precision"] == "bfloat16"
    )


def child_masks(spec: dict) -> dict:
    from bench_masks import BATCH_SIZE, masks_per_second

    from gated_inpaint.masks import MASK_TYPES

    rates = {t: masks_per_second(t, spec["batches"], spec["runs"]) for t in MASK_TYPES}
    return {"batch_size": BATCH_SIZE, "masks_per_s": rates}


CHILDREN = {
    "setup": child_setup,
    "forward": child_forward,
    "export": child_export,
    "saved_model": child_saved_model,
    "hd": child_hd,
    "train": child_train,
    "masks": child_masks,
}


def run_child(spec: dict, out: str) -> None:
    from common import peak_rss_mb

    result = {"status": "ok", **CHILDREN[spec["kind"]](spec)}
    result["peak_rss_mb"] = peak_rss_mb()
    with open(out, "w") as f:
        json.dump(result, f)


# ------------------------------------------------------------------------------------------
# The parent: no TensorFlow here (a fresh child's ru_maxrss starts from its parent's).


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _rss_mb(pid: int) -> float:
    """Current resident set size of process `pid` in MB (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _meminfo_gb(key: str) -> float:
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024**2
    return float("nan")


def _busy_cpu_s() -> float:
    """CPU seconds the whole machine has been busy since boot (all cores; /proc/stat: user,
    nice, system, irq, softirq and steal, i.e. everything but idle and iowait)."""
    with open("/proc/stat") as f:
        fields = f.readline().split()[1:]
    user, nice, system, _, _, irq, softirq, steal = (int(n) for n in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _own_cpu_s() -> float:
    """CPU seconds of this process and of its reaped children."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def _quiet_match(result: dict, fields: dict) -> bool:
    """Whether `result` is an undisturbed ok measurement of the case with spec `fields`."""
    return (
        result.get("status") == "ok"
        and result.get("other_cores", 1.0) <= NOISY_CORES
        and all(json.dumps(result.get(k)) == json.dumps(v) for k, v in fields.items())
    )


def previous_cases(path: str, header: dict) -> list:
    """`(kind, result)` of every case of the results file `path`, to resume that run; its
    code must be the code of this run."""
    with open(path) as f:
        previous = json.load(f)
    for key in ("commit", "modified_files"):
        if previous["header"].get(key) != header.get(key):
            raise SystemExit(
                f"Cannot resume {path}: its {key} is {previous['header'].get(key)!r}, this "
                f"run's is {header.get(key)!r}."
            )
    cases = [("setup", previous.get("setup", {})), ("masks", previous.get("masks", {}))]
    for kind, section in (("forward", "forward"), ("saved_model", "saved_model"),
                          ("hd", "hd"), ("train", "train")):  # fmt: skip
        cases += [(kind, r) for r in previous.get(section, [])]
    return cases


class Runner:
    """Runs children one at a time with a RSS watchdog and a timeout, measures how busy the
    machine was with other work meanwhile, and runs a case again (`retries` times at most)
    when that was more than `NOISY_CORES` cores on average, keeping the quieter run."""

    def __init__(
        self,
        workdir: str,
        snapshot: str,
        max_rss_gb: float,
        timeout_s: float,
        retries: int = 0,
        previous: list | None = None,
    ):
        self.workdir = workdir
        self.snapshot = snapshot
        self.max_rss_gb = max_rss_gb
        self.timeout_s = timeout_s
        self.retries = retries
        self.previous = previous or []  # (kind, result) of a run to resume
        self.count = 0
        self.reused = 0

    def __call__(self, spec: dict, label: str, timed: bool = True) -> dict:
        """The result of one case, with the spec's fields (but `kind`, `path`, `dir`); an
        untimed case (an export) is neither retried nor reused."""
        self.count += 1
        fields = {k: v for k, v in spec.items() if k not in ("kind", "path", "dir")}
        for kind, old in self.previous if timed else []:
            if kind == spec["kind"] and _quiet_match(old, fields):
                log(f"[{self.count:2d}] {label}: reused from the run resumed")
                self.reused += 1
                return {**old, "reused": True}
        best = None
        for attempt in range(1 + self.retries * timed):
            suffix = f" (again: other load {best['other_cores']:.2f} cores)" if attempt else ""
            result = self._run(spec, label + suffix, f"{self.count}_{attempt}")
            if best is None or result["other_cores"] < best["other_cores"]:
                best = result
            if result["status"] != "ok" or best["other_cores"] <= NOISY_CORES:
                break
        best["attempts"] = attempt + 1
        return {**fields, **best}

    def _run(self, spec: dict, label: str, name: str) -> dict:
        out = os.path.join(self.workdir, f"case{name}.json")
        errors = os.path.join(self.workdir, f"case{name}.stderr")
        scripts = os.path.join(self.snapshot, "bench")
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([self.snapshot, scripts]))
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        script = os.path.join(scripts, os.path.basename(__file__))
        command = [sys.executable, script, "--child", json.dumps(spec)]
        log(f"[{self.count:2d}] {label} ...")
        start = time.perf_counter()
        busy, own = _busy_cpu_s(), _own_cpu_s()
        high = 0.0
        killed = None
        with open(errors, "w") as stderr:
            child = subprocess.Popen(
                [*command, "--out", out], stdout=subprocess.DEVNULL, stderr=stderr, env=env
            )
            try:
                while True:
                    try:
                        child.wait(timeout=POLL_S)
                        break
                    except subprocess.TimeoutExpired:
                        pass
                    high = max(high, _rss_mb(child.pid))
                    if high > self.max_rss_gb * 1024:
                        killed = f"killed: RSS passed {self.max_rss_gb:.1f} GB (--max_rss_gb)"
                    elif time.perf_counter() - start > self.timeout_s:
                        killed = f"killed: still running after {self.timeout_s:.0f} s (--timeout)"
                    if killed:
                        break
            finally:  # also on Ctrl-C or SIGTERM: no orphaned child
                if child.poll() is None:
                    child.kill()
                    child.wait()
        elapsed = time.perf_counter() - start
        other = (_busy_cpu_s() - busy) - (_own_cpu_s() - own)
        if killed:
            result = {"status": "failed", "reason": killed, "observed_rss_mb": high}
        elif child.returncode or not os.path.exists(out):
            with open(errors) as f:
                tail = f.read().strip().splitlines()[-15:]
            log("\n".join("    " + line for line in tail))
            last = tail[-1] if tail else ""
            result = {"status": "failed", "reason": f"exit {child.returncode}: {last}"[:200]}
        else:
            with open(out) as f:
                result = json.load(f)
        result["wall_s"] = elapsed
        # Average number of cores busy with other work (other processes, other VMs) meanwhile.
        result["other_cores"] = max(other, 0.0) / elapsed
        status = result["status"]
        detail = f" ({result['reason']})" if "reason" in result else ""
        rss = f", peak RSS {result['peak_rss_mb'] / 1024:.2f} GB" if "peak_rss_mb" in result else ""
        load = f", other load {result['other_cores']:.2f} cores"
        log(f"     {status}{detail} in {elapsed:.0f} s{rss}{load}")
        return result


def estimate_gb(
    height: int, width: int, precision: str, measured: list[dict], chunk: int | None
) -> tuple:
    """Estimated peak RSS (GB) of a generator forward at `height x width`, and how it was made.

    `measured`: earlier ok results of the same kind and precision, with `pixels`, `base_mb`
    (RSS before the first forward) and `peak_mb`. With two or more, a power law through the
    growth (peak - base) of the two largest; else the a-priori model above, with the
    attention holding at most `chunk` scores at once (None: all of them).
    """
    pixels = height * width
    points = sorted((r for r in measured if r["pixels"] != pixels), key=lambda r: r["pixels"])
    if len(points) >= 2:
        small, large = points[-2:]
        grow_small = max(small["peak_mb"] - small["base_mb"], 1.0)
        grow_large = max(large["peak_mb"] - large["base_mb"], 1.0)
        exponent = math.log(grow_large / grow_small) / math.log(large["pixels"] / small["pixels"])
        exponent = min(max(exponent, 1.0), 2.0)
        growth = grow_large * (pixels / large["pixels"]) ** exponent
        sides = ", ".join(r["label"] for r in (small, large))
        return (large["base_mb"] + growth) / 1024, f"pixels^{exponent:.2f} from {sides}"
    n = (height // 8) * (width // 8)
    scores = n * n if chunk is None else min(n * n, chunk)
    itemsize = 2 if precision == "bfloat16" else 4
    gb = (
        BASE_GB
        + ACTIVATIONS_GB_PER_MPIXEL * pixels / 1e6
        + ATTENTION_COPIES * scores * itemsize / 1e9
    )
    return gb, "a-priori model" + (" (all-pairs attention)" if chunk is None else "")


def _git(*args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True)
        return done.stdout.rstrip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def header(code: str | None) -> dict:
    cpu, flags = "unknown", set()
    with open("/proc/cpuinfo") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key.strip() == "model name" and cpu == "unknown":
                cpu = value.strip()
            elif key.strip() == "flags" and not flags:
                flags = set(value.split())
    interesting = ("avx2", "avx512f", "avx512_bf16", "amx_bf16")
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu": cpu,
        "cores": len(os.sched_getaffinity(0)),
        "cpu_flags": [flag for flag in interesting if flag in flags],
        "memory_gb": round(_meminfo_gb("MemTotal"), 1),
        "python": platform.python_version(),
        "tensorflow": importlib.metadata.version("tensorflow"),
        "keras": importlib.metadata.version("keras"),
        "commit": _git("rev-parse", "--short", code or "HEAD"),
        "code": f"git revision {code}" if code else "working tree",
        "modified_files": []
        if code
        else [line[3:] for line in _git("status", "--porcelain").splitlines() if line.strip()],
    }


def _hd_shape(side: int) -> tuple[int, int]:
    """`(height, width)` of the square high-resolution photo (issue 5's 4096x4096 target)."""
    return side, side


def _pad8(n: int) -> int:
    return -(-n // 8) * 8


def matmul_reference(setup: dict) -> dict:
    """Per precision, the matmul measurement with the highest median GFLOP/s (over the sizes):
    the machine's rate that the forward rates are a fraction of."""
    best = {}
    for m in setup["matmul"]:
        if m["precision"] not in best or m["gflops"] > best[m["precision"]]["gflops"]:
            best[m["precision"]] = m
    return {p: {"n": m["n"], "gflops": m["gflops"]} for p, m in best.items()}


def derive(results: dict) -> None:
    """(Re)computes the derived figures from the measurements: the matmul reference, and each
    forward's GFLOP, achieved GFLOP/s and fraction of the matmul rate."""
    setup = results.get("setup", {})
    if setup.get("status") != "ok":
        return
    reference = results["matmul_reference"] = matmul_reference(setup)
    for r in results.get("forward", []):
        by_kind = setup["flops"][f"{r['size']}x{r['size']}"]
        r["gflop"] = (by_kind["conv"] + by_kind["attention"]) / 1e9
        executed = setup.get("executed_flops", {}).get(f"{r['size']}x{r['size']}")
        if executed:
            r["executed_gflop"] = (executed["conv"] + executed["attention"]) / 1e9
        if r["status"] == "ok":
            rate = reference[r["precision"]]["gflops"]
            r["gflops"] = r["gflop"] / r["rect"]["median_s"]
            r["fraction_of_matmul"] = r["gflops"] / rate
            if executed:
                r["executed_fraction_of_matmul"] = (
                    r["executed_gflop"] / r["rect"]["median_s"] / rate
                )


class Plan:
    """Decides which cases to run: estimated peak RSS and time against the limits."""

    def __init__(self, args, setup: dict):
        self.args = args
        self.flops = setup["flops"]
        self.matmul = {p: m["gflops"] for p, m in matmul_reference(setup).items()}
        self.chunk = setup.get("attention_chunk_elements")
        self.forward: list[dict] = []  # ok forward results, for the rate and RSS estimates

    def gflop(self, height: int, width: int) -> float:
        by_kind = self.flops[f"{height}x{width}"]
        return (by_kind["conv"] + by_kind["attention"]) / 1e9

    def seconds_per_call(self, height: int, width: int, precision: str) -> float:
        """FLOPs over the GFLOP/s of the largest forward measured in `precision`, else over
        half the matmul rate."""
        done = [r for r in self.forward if r["precision"] == precision]
        rate = done[-1]["gflops"] if done else 0.5 * self.matmul[precision]
        return self.gflop(height, width) / rate

    def check(self, network: tuple, precision: str, calls: int, points: list) -> str | None:
        """Why a case whose network runs at `network` (height, width) `calls` times must be
        skipped, or None. `points`: RSS measurements for `estimate_gb`."""
        gb, how = estimate_gb(*network, precision, points, self.chunk)
        if gb > self.args.max_rss_gb:
            return (
                f"estimated peak RSS {gb:.0f} GB ({how}) > {self.args.max_rss_gb:.1f} GB "
                f"(--max_rss_gb)"
            )
        minutes = calls * self.seconds_per_call(*network, precision) / 60
        if minutes > self.args.max_case_minutes:
            return (
                f"estimated {minutes:.0f} min ({calls} calls of {self.gflop(*network):.0f} "
                f"GFLOP) > {self.args.max_case_minutes:g} min (--max_case_minutes)"
            )
        return None


def _points(results: list, precision: str, base_key: str) -> list[dict]:
    """RSS measurements of ok square-size results in `precision`, for `estimate_gb`."""
    return [
        {
            "pixels": r["size"] ** 2,
            "base_mb": r[base_key],
            "peak_mb": r["peak_rss_mb"],
            "label": str(r["size"]),
        }
        for r in results
        if r["status"] == "ok" and r["precision"] == precision
    ]


def run_all(args, runner: Runner, results: dict, save) -> None:
    hd_shapes = [_hd_shape(s) for s in args.hd_sizes]
    flop_shapes = [(s, s) for s in args.sizes] + [(_pad8(h), _pad8(w)) for h, w in hd_shapes]
    flop_shapes.append((_pad8(args.hd_max_size),) * 2)
    spec = {"kind": "setup", "matmul_sizes": args.matmul_sizes, "runs": args.runs}
    spec["flop_shapes"] = flop_shapes
    label = "matmul rate, FLOP counts, API check"
    setup = runner(spec, label)
    results["setup"] = setup
    cases = [(spec, label, setup)]  # for `retry_noisy`
    save()
    if setup["status"] != "ok":
        raise SystemExit("The setup case failed; see above.")
    plan = Plan(args, setup)

    def run(spec: dict, label: str, reason: str | None, into: list) -> dict:
        if reason:
            log(f"     {label}: skipped, {reason}")
            fields = {k: v for k, v in spec.items() if k not in ("kind", "path", "dir")}
            result = {**fields, "status": "skipped", "reason": reason}
        else:
            result = runner(spec, label)
        into.append(result)
        cases.append((spec, label, result))
        save()
        return result

    # The Keras generator forward.
    forward = results["forward"] = []
    for size in args.sizes:
        for precision in PRECISIONS:
            # The free-form variant only when a call is cheap (it repeats every timed run).
            freeform = plan.seconds_per_call(size, size, precision) < CHEAP_CALL_S
            calls = (2 + args.runs) + (1 + args.runs) * freeform
            spec = {
                "kind": "forward",
                "size": size,
                "precision": precision,
                "runs": args.runs,
                "with_freeform": freeform,
            }
            points = _points(forward, precision, "base_rss_mb")
            reason = plan.check((size, size), precision, calls, points)
            r = run(spec, f"forward {size} {precision}", reason, forward)
            if r["status"] == "ok":
                plan.forward.append(r)  # with its GFLOP/s, set by `derive` in `save`

    # The exported SavedModel.
    exports = results["exports"] = {}
    for precision in PRECISIONS:
        spec = {"kind": "export", "precision": precision, "dir": runner.workdir}
        exports[precision] = runner(spec, f"export SavedModel {precision}", timed=False)
        save()
    saved = results["saved_model"] = []
    for size in args.sizes:
        for precision in PRECISIONS:
            export = exports[precision]
            if export["status"] != "ok":
                saved.append(
                    {
                        "status": export["status"],
                        "reason": export.get("reason", ""),
                        "size": size,
                        "precision": precision,
                    }
                )
                continue
            # Above the export's hd max_size (crop/resize), the network runs at most at that.
            hd = export.get("hd") or {"strategy": "original"}
            network, points = (size, size), _points(saved, precision, "loaded_rss_mb")
            if hd["strategy"] != "original" and size > hd["max_size"]:
                network, points = (_pad8(hd["max_size"]),) * 2, []
            cheap = plan.seconds_per_call(*network, precision) < CHEAP_CALL_S
            signatures = ["inpaint_tensors"] + ["serving_default"] * cheap
            spec = {
                "kind": "saved_model",
                "path": export["path"],
                "size": size,
                "precision": precision,
                "runs": args.runs,
                "signatures": signatures,
            }
            reason = plan.check(network, precision, len(signatures) * (3 + args.runs), points)
            run(spec, f"SavedModel {size} {precision}", reason, saved)

    # High-resolution photos through Inpainter.
    hd = results["hd"] = []
    for height, width in hd_shapes:
        for strategy in args.hd_strategies:
            for precision in PRECISIONS:
                spec = {
                    "kind": "hd",
                    "height": height,
                    "width": width,
                    "precision": precision,
                    "hd_strategy": strategy,
                    "hd_max_size": args.hd_max_size,
                    "hd_margin": args.hd_margin,
                    "runs": args.hd_runs,
                    "photo": PHOTO,
                }
                points = _points(plan.forward, precision, "base_rss_mb")
                network = (_pad8(height), _pad8(width))
                if strategy != "original" and max(height, width) > args.hd_max_size:
                    network, points = (_pad8(args.hd_max_size),) * 2, []
                reason = plan.check(network, precision, 1 + args.hd_runs, points)
                label = f"Inpainter {width}x{height} {strategy} {precision}"
                run(spec, label, reason, hd)

    # Training steps and masks.
    train = results["train"] = []
    for precision in PRECISIONS:
        spec = {"kind": "train", "precision": precision, **args.train}
        label = f"training step {args.train['size']} batch {args.train['batch']} {precision}"
        run(spec, label, None, train)
    spec = {"kind": "masks", **args.masks}
    results["masks"] = runner(spec, "training masks")
    cases.append((spec, "training masks", results["masks"]))
    save()
    retry_noisy(runner, cases, save)


def retry_noisy(runner: Runner, cases: list, save) -> None:
    """Runs each case that other work still disturbed once more at the end of the run (other
    work often comes in bursts), keeping the quieter measurement: `cases` holds `(spec, label,
    result)`, and a result is updated in place. Nothing with `--retries 0`."""
    for spec, label, result in cases if runner.retries else []:
        if result["status"] != "ok" or result["other_cores"] <= NOISY_CORES:
            continue  # (a reused result is quiet)
        again = runner(spec, f"{label}, at the end (other load {result['other_cores']:.2f})")
        if again["status"] == "ok" and again["other_cores"] < result["other_cores"]:
            result.update(again)
            save()


# ------------------------------------------------------------------------------------------
# The table.


def _gb(mb) -> str:
    return f"{mb / 1024:.2f}" if isinstance(mb, int | float) else "-"


def _others(r: dict) -> str:
    return f" {r['other_cores']:6.2f}" if "other_cores" in r else ""


def _status_line(r: dict) -> str:
    return f"{r['status']}: {r.get('reason', '')}"


def table(results: dict) -> str:
    derive(results)
    h = results["header"]
    lines = [
        f"gated_inpaint bench, {h['date']}, gated_inpaint/ of the {h['code']}: commit "
        f"{h['commit']}"
        + (f" + {len(h['modified_files'])} changed files" if h["modified_files"] else "")
        + (
            f" + untracked {', '.join(h['untracked_files_added'])}"
            if h.get("untracked_files_added")
            else ""
        ),
        f"CPU: {h['cpu']}, {h['cores']} cores ({', '.join(h['cpu_flags'])}), "
        f"{h['memory_gb']} GB; TensorFlow {h['tensorflow']}, Keras {h['keras']}, "
        f"Python {h['python']}",
        f"times: median (min-max) of {results['args']['runs']} timed runs after warm-up; "
        f"peak RSS = ru_maxrss of the case's own process; others = cores kept busy by other "
        f"work during the case (average)",
    ]
    setup = results.get("setup", {})
    if setup.get("status") == "ok":
        lines += ["", "matmul rate (tf.linalg.matmul, n x n, 2n^3 FLOP)"]
        lines.append(f"  {'precision':<9} {'n':>5} {'median s':>9} {'GFLOP/s':>8}")
        for m in setup["matmul"]:
            lines.append(
                f"  {m['precision']:<9} {m['n']:>5} {m['median_s']:9.3f} {m['gflops']:8.1f}"
            )
        chunk = setup.get("attention_chunk_elements")
        attention = f"blocks of <= {chunk:,} scores" if chunk else "all pairs at once"
        lines[2:2] = [f"contextual attention: {attention}"]
        lines.append(
            "  reference for 'of matmul' below (best median): "
            + ", ".join(
                f"{p} {m['gflops']:.0f} GFLOP/s (n={m['n']})"
                for p, m in results["matmul_reference"].items()
            )
        )

    forward = results.get("forward", [])
    if forward:
        lines += [
            "",
            f"generator forward (cnum={CNUM}, batch 1, tf.function, random weights; hole: "
            f"centred rectangle 25%, free-form ~{FREEFORM_COVERAGE:.0%}); GFLOP = convs + "
            f"attention matmuls of the official layers (gated_inpaint.models.flops); "
            f"'executed': the same rate from the FLOPs the graph runs (upsampling convs in "
            f"2x2 phase form)",
            f"  {'size':>5} {'precision':<9} {'GFLOP':>7} {'median s':>9} {'min s':>7} "
            f"{'max s':>7} {'free-form s':>11} {'GFLOP/s':>8} {'of matmul':>9} {'executed':>8} "
            f"{'peak RSS GB':>11} {'others':>6}",
        ]
        for r in forward:
            start = f"  {r['size']:>5} {r['precision']:<9} {r['gflop']:7.1f}"
            if r["status"] != "ok":
                lines.append(f"{start}  {_status_line(r)}")
                continue
            t = r["rect"]
            freeform = f"{r['freeform']['median_s']:11.3f}" if "freeform" in r else f"{'-':>11}"
            executed = r.get("executed_fraction_of_matmul")
            lines.append(
                f"{start} {t['median_s']:9.3f} {t['min_s']:7.3f} {t['max_s']:7.3f} "
                f"{freeform} {r['gflops']:8.1f} {r['fraction_of_matmul']:9.0%} "
                + (f"{executed:8.0%}" if executed else f"{'-':>8}")
                + f" {_gb(r['peak_rss_mb']):>11}{_others(r)}"
            )
        speedups = []
        for size in sorted({r["size"] for r in forward}):
            ok = {r["precision"]: r for r in forward if r["size"] == size and r["status"] == "ok"}
            if len(ok) == 2:
                ratio = ok["float32"]["rect"]["median_s"] / ok["bfloat16"]["rect"]["median_s"]
                speedups.append(f"{size}: {ratio:.2f}x")
        if speedups:
            lines.append(
                "  bfloat16 speed-up (float32 median / bfloat16 median): " + ", ".join(speedups)
            )

    saved = results.get("saved_model", [])
    if saved:
        lines += [
            "",
            "exported SavedModel, tf.saved_model.load (inpaint_tensors: uint8 tensors; "
            "serving_default: PNG in, PNG out)",
            f"  {'size':>5} {'precision':<9} {'load s':>7} {'first s':>8} {'median s':>9} "
            f"{'min s':>7} {'max s':>7} {'PNG median s':>12} {'peak RSS GB':>11} {'others':>6}",
        ]
        export_hd = results["exports"].get("float32", {}).get("hd")
        if export_hd:
            lines.insert(
                -1,
                f"  exported with hd_strategy={export_hd['strategy']}, hd_max_size="
                f"{export_hd['max_size']}, hd_margin={export_hd['margin']} (the default): larger "
                f"images go through that strategy",
            )
        for r in saved:
            start = f"  {r['size']:>5} {r['precision']:<9}"
            if r["status"] != "ok":
                lines.append(f"{start}  {_status_line(r)}")
                continue
            t = r["inpaint_tensors"]
            png = r.get("serving_default", {}).get("median_s")
            png = f"{png:12.3f}" if png else f"{'-':>12}"
            lines.append(
                f"{start} {r['load_s']:7.2f} {t['first_call_s']:8.3f} {t['median_s']:9.3f} "
                f"{t['min_s']:7.3f} {t['max_s']:7.3f} {png} "
                f"{_gb(r['peak_rss_mb']):>11}{_others(r)}"
            )

    hd = results.get("hd", [])
    if hd:
        args = results["args"]
        lines += [
            "",
            f"Inpainter on a demo photo resized to the size shown, free-form hole "
            f"~{FREEFORM_COVERAGE:.0%} (hd_max_size={args['hd_max_size']}, "
            f"hd_margin={args['hd_margin']})",
            f"  {'image':>9} {'strategy':<8} {'precision':<9} {'first s':>8} {'median s':>9} "
            f"{'min s':>7} {'max s':>7} {'peak RSS GB':>11} {'others':>6}",
        ]
        for r in hd:
            image = f"{r['width']}x{r['height']}"
            start = f"  {image:>9} {r['hd_strategy']:<8} {r['precision']:<9}"
            if r["status"] != "ok":
                lines.append(f"{start}  {_status_line(r)}")
                continue
            lines.append(
                f"{start} {r['first_call_s']:8.3f} {r['median_s']:9.3f} {r['min_s']:7.3f} "
                f"{r['max_s']:7.3f} {_gb(r['peak_rss_mb']):>11}{_others(r)}"
            )

    train = results.get("train", [])
    if train:
        t0 = train[0]
        lines += [
            "",
            f"training step (one D + one G update, {t0['size']}x{t0['size']}, batch "
            f"{t0['batch']}, {t0['steps']} steps after 2 warm-up)",
            f"  {'precision':<9} {'median s':>9} {'min s':>7} {'max s':>7} {'steps/s':>8} "
            f"{'peak RSS GB':>11} {'others':>6}",
        ]
        for r in train:
            if r["status"] != "ok":
                lines.append(f"  {r['precision']:<9}  {_status_line(r)}")
                continue
            lines.append(
                f"  {r['precision']:<9} {r['median_s']:9.3f} {r['min_s']:7.3f} {r['max_s']:7.3f} "
                f"{r['steps_per_s']:8.3f} {_gb(r['peak_rss_mb']):>11}{_others(r)}"
            )

    masks = results.get("masks")
    if masks:
        lines += ["", "training masks, 256x256, tf.data, batches of 16"]
        if masks["status"] != "ok":
            lines.append(f"  {_status_line(masks)}")
        else:
            lines += [f"  {t:<8} {rate:8.0f} masks/s" for t, rate in masks["masks_per_s"].items()]
    if "wall_s" in results:
        resumed = (
            f" ({results['reused_cases']} cases reused from {results['resumed_from']})"
            if results.get("resumed_from")
            else ""
        )
        lines += ["", f"total wall time {results['wall_s'] / 60:.1f} min{resumed}"]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        help="square sizes (multiples of 8) "
        "for the forward and SavedModel cases (default 256 512 1024 2048 4096)",
    )
    parser.add_argument("--runs", type=int, help="timed runs per case (default 5)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small sizes and few runs, to check that the script works",
    )
    parser.add_argument(
        "--json",
        default=os.path.join(HERE, "results.json"),
        help="where to write the results (default bench/results.json)",
    )
    parser.add_argument("--matmul_sizes", type=int, nargs="+", help="default 2048 4096")
    parser.add_argument(
        "--hd_sizes",
        type=int,
        nargs="+",
        help="sides of the square Inpainter photos (default 2048 4096)",
    )
    parser.add_argument(
        "--hd_strategies",
        nargs="+",
        choices=HD_STRATEGIES,
        default=list(HD_STRATEGIES),
        help="strategies of the Inpainter photos (default all; `original` runs the whole photo, "
        "as the forward case of the same size does)",
    )
    parser.add_argument("--hd_max_size", type=int, default=1024)
    parser.add_argument("--hd_margin", type=int, default=128)
    parser.add_argument(
        "--max_rss_gb",
        type=float,
        help="skip cases estimated above this peak RSS and kill cases that pass "
        "it (default 80%% of MemAvailable at the start)",
    )
    parser.add_argument(
        "--max_case_minutes",
        type=float,
        default=30,
        help="skip cases estimated to take longer (FLOPs over the rate measured so far)",
    )
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per case")
    parser.add_argument(
        "--retries",
        type=int,
        help=f"run a case again (up to this many times, and once more at the end of the run) "
        f"when other work kept more than {NOISY_CORES} cores busy during it; the quietest run "
        f"counts (default 1; 0 with --quick)",
    )
    parser.add_argument(
        "--code",
        metavar="REV",
        help="benchmark gated_inpaint/ as in this git revision (e.g. HEAD) instead of the "
        "working tree",
    )
    parser.add_argument("--table", metavar="JSON", help="only print the table of a results file")
    parser.add_argument(
        "--resume",
        metavar="JSON",
        help="reuse the undisturbed ok cases of this results file (same code) and run the rest",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return args
    quick = args.quick
    args.sizes = args.sizes or ([64, 128] if quick else [256, 512, 1024, 2048, 4096])
    args.runs = args.runs or (2 if quick else 5)
    if args.retries is None:  # a check of the script needs no clean figures
        args.retries = 0 if quick else 1
    args.matmul_sizes = args.matmul_sizes or ([512, 1024] if quick else [2048, 4096])
    args.hd_sizes = args.hd_sizes or ([512] if quick else [2048, 4096])
    args.hd_runs = min(args.runs, 3)
    if quick and args.hd_max_size == 1024:
        args.hd_max_size = 256
    args.train = (
        {"size": 64, "batch": 1, "steps": 2} if quick else {"size": 256, "batch": 4, "steps": 8}
    )
    args.masks = {"batches": 5, "runs": 1} if quick else {"batches": 125, "runs": 5}
    if args.max_rss_gb is None:
        args.max_rss_gb = round(0.8 * _meminfo_gb("MemAvailable"), 1)
    for size in args.sizes:
        if size <= 0 or size % 8:
            parser.error(f"--sizes must be positive multiples of 8, got {size}")
    return args


def copy_package(code: str | None, destination: str) -> list[str]:
    """Copies `gated_inpaint/` as in the working tree (`code` None) or as in the git revision
    `code` (`git archive`, which leaves the working tree alone) plus the files of the working
    tree that git does not track yet (new modules), into `destination`; returns the latter."""
    os.makedirs(destination)
    # The bench scripts too: the children run this copy, so edits during a run do not count.
    os.makedirs(os.path.join(destination, "bench"))
    for name in os.listdir(HERE):
        if name.endswith(".py"):
            shutil.copy(os.path.join(HERE, name), os.path.join(destination, "bench", name))
    if code is None:
        shutil.copytree(
            os.path.join(ROOT, "gated_inpaint"),
            os.path.join(destination, "gated_inpaint"),
            ignore=shutil.ignore_patterns("__pycache__"),
        )
        return []
    archive = subprocess.run(
        ["git", "archive", "--format=tar", code, "gated_inpaint"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(destination, filter="data")
    untracked = _git("ls-files", "--others", "--exclude-standard", "gated_inpaint").splitlines()
    for path in untracked:
        os.makedirs(os.path.dirname(os.path.join(destination, path)), exist_ok=True)
        shutil.copy(os.path.join(ROOT, path), os.path.join(destination, path))
    return untracked


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.child:
        run_child(json.loads(args.child), args.out)
        return
    if args.table:
        with open(args.table) as f:
            print(table(json.load(f)))
        return
    # SIGTERM unwinds like Ctrl-C: the running case is killed, the results so far are saved.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    start = time.perf_counter()
    recorded = {k: v for k, v in vars(args).items() if k not in ("child", "out")}
    results = {"header": header(args.code), "args": recorded}

    def save():
        derive(results)
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)

    log(
        f"bench: sizes {args.sizes}, {args.runs} runs, limit {args.max_rss_gb} GB, "
        f"results to {args.json}"
    )
    with tempfile.TemporaryDirectory(prefix="gated_inpaint_bench_") as workdir:
        snapshot = os.path.join(workdir, "src")
        results["header"]["untracked_files_added"] = copy_package(args.code, snapshot)
        previous = []
        if args.resume:
            previous = previous_cases(args.resume, results["header"])
            results["resumed_from"] = args.resume
        runner = Runner(workdir, snapshot, args.max_rss_gb, args.timeout, args.retries, previous)
        try:
            run_all(args, runner, results, save)
        finally:
            results["wall_s"] = time.perf_counter() - start
            results["reused_cases"] = runner.reused
            save()
    print(table(results))
    log(f"results written to {args.json}")


if __name__ == "__main__":
    main()
