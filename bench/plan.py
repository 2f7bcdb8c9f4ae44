"""Which cases to run: each case's peak RSS and time, estimated, against the limits."""

from __future__ import annotations

import argparse
import math

from derived import matmul_reference

# A-priori peak RSS of one generator forward at H x W (used until two sizes are measured),
# fitted on this machine with the all-pairs attention: the process with TF and the model,
# the conv activations, and a few live copies of the [N, N] attention scores, N = H*W/64.
BASE_GB = 0.7
ACTIVATIONS_GB_PER_MPIXEL = 1.0
ATTENTION_COPIES = 6


def estimate_gb(
    height: int, width: int, precision: str, measured: list[dict], chunk: int | None
) -> tuple[float, str]:
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


def rss_points(results: list, precision: str, base_key: str) -> list[dict]:
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


class Plan:
    """Decides which cases to run: estimated peak RSS and time against the limits."""

    def __init__(self, args: argparse.Namespace, setup: dict):
        self.args = args
        self.flops = setup["flops"]
        self.matmul = {p: m["gflops"] for p, m in matmul_reference(setup).items()}
        self.chunk = setup.get("attention_chunk_elements")
        self.forward: list[dict] = []  # ok forward results, for the rate and RSS estimates

    def gflop(self, height: int, width: int) -> float:
        """GFLOP of one forward at `height x width` (convs + attention matmuls)."""
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
