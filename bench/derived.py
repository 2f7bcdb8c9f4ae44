"""Figures derived from the measurements: the matmul reference rate, and each forward's GFLOP,
achieved GFLOP/s and fraction of that rate."""

from __future__ import annotations


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
