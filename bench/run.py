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
- the exported SavedModel (`gated_inpaint.serving.export.export_saved_model` into a temporary
  directory with its default high-resolution strategy, `inpaint_tensors` signature checked),
  loaded by `tf.saved_model.load`: `inpaint_tensors` (uint8 tensors) and, when cheap,
  `serving_default` (PNG in and out): latency and peak RSS per size (bench/serving_latency.py's
  `measure`);
- `Inpainter` on high-resolution photos (a demo photo resized to `--hd_sizes` square,
  free-form hole of ~10 %) with `hd_strategy` crop, resize and original
  (`--hd_strategies`, `--hd_max_size`, `--hd_margin`), float32 and bfloat16 (`precision=`);
- XLA against no XLA (bench/xla_forward.py's `measure`, float32, at the `--sizes` up to 512):
  the generator forward and the uint8 graph through `Inpainter`, uncompiled and compiled
  (`jit_compile=True`), and how many hole values of the two uint8 results differ;
- training steps/s (one D + one G update, 256x256, batch 4; bench/train_step.py's `measure`),
  float32 and mixed_bfloat16, uncompiled and XLA-compiled (`--jit_compile`), with the official
  graph's step time quoted beside them (it is not run by the bench);
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

This file is the entry point (flags, `main`); the rest is in bench/: cases.py (the cases, each
run in a child process as `run.py --child SPEC`), suite.py (the cases of a run, in order),
runner.py (one child process per case, retries, RSS limit), plan.py (RSS and time estimates,
skips), machine.py (/proc probes), snapshot.py (the copy of the code and the header),
derived.py (GFLOP/s and fractions of the matmul rate) and report.py (the table).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import tempfile
import time

from cases import run_child
from derived import derive
from machine import meminfo_gb
from report import table
from runner import NOISY_CORES, Runner, log, previous_cases
from snapshot import BENCH_DIR, copy_package, header
from suite import run_all

HD_STRATEGIES = ("crop", "resize", "original")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The flags, with the defaults of a full run or of `--quick` filled in."""
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
        default=os.path.join(BENCH_DIR, "results.json"),
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
        args.max_rss_gb = round(0.8 * meminfo_gb("MemAvailable"), 1)
    for size in args.sizes:
        if size <= 0 or size % 8:
            parser.error(f"--sizes must be positive multiples of 8, got {size}")
    return args


def main(argv: list[str] | None = None) -> None:
    """Runs a child case (`--child`), prints a results file (`--table`) or runs the bench."""
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
