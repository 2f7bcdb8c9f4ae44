"""The cases of one run, in order: setup (matmul rate, FLOP counts), generator forward,
SavedModel export and serving, Inpainter on high-resolution photos, training steps and masks;
then the disturbed cases once more."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable

from cases import PRECISIONS, pad8
from plan import Plan, rss_points
from runner import NOISY_CORES, Runner, log, recorded_fields
from snapshot import ROOT

PHOTO = os.path.join(ROOT, "data", "demo", "dragonfly_by_bolly.jpg")
# A call estimated cheaper than this also gets the free-form forward and serving_default runs.
CHEAP_CALL_S = 20
# The largest size of the XLA cases (XLA compiles the attention's scores all at once).
XLA_MAX_SIZE = 512


def _hd_shape(side: int) -> tuple[int, int]:
    """`(height, width)` of the square high-resolution photo (issue 5's 4096x4096 target)."""
    return side, side


def run_all(
    args: argparse.Namespace, runner: Runner, results: dict, save: Callable[[], None]
) -> None:
    """Runs every case of `args` into `results`, calling `save()` after each."""
    hd_shapes = [_hd_shape(s) for s in args.hd_sizes]
    flop_shapes = [(s, s) for s in args.sizes] + [(pad8(h), pad8(w)) for h, w in hd_shapes]
    flop_shapes.append((pad8(args.hd_max_size),) * 2)
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
            result = {**recorded_fields(spec), "status": "skipped", "reason": reason}
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
            points = rss_points(forward, precision, "base_rss_mb")
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
            network, points = (size, size), rss_points(saved, precision, "loaded_rss_mb")
            if hd["strategy"] != "original" and size > hd["max_size"]:
                network, points = (pad8(hd["max_size"]),) * 2, []
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
                points = rss_points(plan.forward, precision, "base_rss_mb")
                network = (pad8(height), pad8(width))
                if strategy != "original" and max(height, width) > args.hd_max_size:
                    network, points = (pad8(args.hd_max_size),) * 2, []
                reason = plan.check(network, precision, 1 + args.hd_runs, points)
                label = f"Inpainter {width}x{height} {strategy} {precision}"
                run(spec, label, reason, hd)

    # XLA against no XLA, float32, at the sizes where the compiled forward is cheap.
    xla = results["xla_forward"] = []
    for size in [size for size in args.sizes if size <= XLA_MAX_SIZE]:
        spec = {"kind": "xla_forward", "size": size, "runs": args.runs}
        run(spec, f"XLA against no XLA {size} float32", None, xla)

    # Training steps, uncompiled and XLA-compiled, and masks.
    train = results["train"] = []
    for precision in PRECISIONS:
        for jit_compile in (False, True):
            spec = {
                "kind": "train",
                "precision": precision,
                "jit_compile": jit_compile,
                **args.train,
            }
            label = (
                f"training step {args.train['size']} batch {args.train['batch']} {precision}"
                f"{' XLA' if jit_compile else ''}"
            )
            run(spec, label, None, train)
    spec = {"kind": "masks", **args.masks}
    results["masks"] = runner(spec, "training masks")
    cases.append((spec, "training masks", results["masks"]))
    save()
    retry_noisy(runner, cases, save)


def retry_noisy(runner: Runner, cases: list, save: Callable[[], None]) -> None:
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
