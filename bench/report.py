"""The console table of a run's results."""

from __future__ import annotations

from cases import CNUM, FREEFORM_COVERAGE
from derived import derive

# The official TF1 graph's D + G step at 256x256, batch 4, float32, quoted beside the training
# rows: the official code is not ours to ship or run here (README, "Training on accelerators").
OFFICIAL_STEP = {
    "shape": (256, 4),
    "note": "7.85 s/step in float32 (TF 2.21 compat.v1, imports adapted; measured 2026-12-02 "
    "on the 2-core EPYC CI machine type, not by this bench)",
}


def _gb(mb) -> str:
    """MB as GB with two decimals, or "-" when not measured."""
    return f"{mb / 1024:.2f}" if isinstance(mb, int | float) else "-"


def _others(r: dict) -> str:
    """The `others` column: cores other work kept busy during the case."""
    return f" {r['other_cores']:6.2f}" if "other_cores" in r else ""


def _status_line(r: dict) -> str:
    return f"{r['status']}: {r.get('reason', '')}"


def _xla_lines(xla: list) -> list[str]:
    """The XLA-against-no-XLA rows (bench/xla_forward.py's `measure`)."""
    if not xla:
        return []
    lines = [
        "",
        "XLA against no XLA, float32, batch 1, free-form hole (median s; the uint8 results' hole "
        "values that differ)",
        f"  {'size':>5} {'forward':>8} {'XLA':>7} {'uint8 graph':>11} {'XLA':>7} "
        f"{'differ':>8} {'by > 1':>8} {'XLA first s':>11} {'others':>6}",
    ]
    for r in xla:
        if r["status"] != "ok":
            lines.append(f"  {r['size']:>5}  {_status_line(r)}")
            continue
        lines.append(
            f"  {r['size']:>5} {r['forward_chunked']['median_s']:8.3f} "
            f"{r['forward_xla']['median_s']:7.3f} {r['uint8_graph']['median_s']:11.3f} "
            f"{r['uint8_graph_xla']['median_s']:7.3f} {r['hole_values_differing']:8.4%} "
            f"{r['hole_values_differing_by_more_than_1']:8.4%} "
            f"{r['forward_xla']['first_call_s']:11.1f}{_others(r)}"
        )
    return lines


def table(results: dict) -> str:
    """The console table of a run's `results` (derived figures recomputed first)."""
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

    lines += _xla_lines(results.get("xla_forward", []))
    train = results.get("train", [])
    if train:
        t0 = train[0]
        lines += [
            "",
            f"training step (one D + one G update, {t0['size']}x{t0['size']}, batch "
            f"{t0['batch']}, {t0['steps']} steps after 2 warm-up; first = tracing, compiling "
            "and the first step)",
            f"  {'precision':<9} {'XLA':<3} {'median s':>9} {'min s':>7} {'max s':>7} "
            f"{'first s':>7} {'steps/s':>8} {'peak RSS GB':>11} {'others':>6}",
        ]
        for r in train:
            start = f"  {r['precision']:<9} {'yes' if r.get('jit_compile') else 'no':<3}"
            if r["status"] != "ok":
                lines.append(f"{start}  {_status_line(r)}")
                continue
            # Results files written before the first step was recorded have no first_step_s.
            first = f"{r['first_step_s']:7.1f}" if "first_step_s" in r else f"{'-':>7}"
            lines.append(
                f"{start} {r['median_s']:9.3f} {r['min_s']:7.3f} {r['max_s']:7.3f} "
                f"{first} {r['steps_per_s']:8.3f} "
                f"{_gb(r['peak_rss_mb']):>11}{_others(r)}"
            )
        if (t0["size"], t0["batch"]) == OFFICIAL_STEP["shape"]:
            lines.append(f"  official TF1 graph: {OFFICIAL_STEP['note']}")

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
