"""Request latency through the editor's server (`gated-inpaint serve`) against
`Inpainter.inpaint`, in the same process and run: what the web layer adds.

Usage: python bench/server_latency.py [--size 512] [--runs 9] [--json FILE]

One generator (cnum=48, random weights: `common.random_generator`) in one `Inpainter`, a
smooth image and a centred rectangular hole of a quarter of its area. The ways to fill it:
  direct   `inpainter.inpaint(image, mask)` on decoded uint8 arrays;
  http     a POST of TF Serving's predict JSON (the image and the mask as PNG, base64) over
           real HTTP on 127.0.0.1 to the app served by uvicorn in a thread of this process,
           and the answer's PNG decoded by the client;
  web only the same request to a second server whose model returns its input at once: the
           server's own work (JSON, base64, PNG decoding by the input rules, PNG encoding,
           HTTP), without the model.
The request body is built once, as a client holding the files would. After two warm-up calls
of each, the ways alternate for `--runs` rounds (in reverse order every other round), so
they share the machine's load. Printed: the medians, the overhead as measured (median http /
median direct - 1, and the median of each round's http / direct - 1), and the web-only time
over the direct one, which the machine's load disturbs far less. Timings on a shared machine
are noisy: compare within a run.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import httpx  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from common import random_generator, rect_mask, smooth_image  # noqa: E402

from gated_inpaint import Inpainter  # noqa: E402
from gated_inpaint.testing import decode_image, encode_image, mask_png  # noqa: E402
from gated_inpaint.web.app import build_app  # noqa: E402
from gated_inpaint.web.local_model import LocalModel  # noqa: E402
from gated_inpaint.web.server import Server, bind_socket  # noqa: E402

WARMUP_CALLS = 2
WAYS = ("direct", "http", "web_only")


class InputBack:
    """A `runners.Runner` that returns its images: the server's work without a model."""

    guided = False
    description = "returns its input"

    def __call__(self, images: np.ndarray, masks: np.ndarray, edges) -> np.ndarray:
        return images


def measure(size: int, runs: int) -> dict:
    """Median seconds of each of `WAYS` at `size` x `size`, and the overheads."""
    inpainter = Inpainter(random_generator(cnum=48))
    image, mask = smooth_image(size, size), rect_mask(size, size)
    instance = {
        "image_bytes": {"b64": base64.b64encode(encode_image(image)).decode()},
        "mask_bytes": {"b64": base64.b64encode(mask_png(mask)).decode()},
    }
    body = json.dumps({"instances": [instance]}).encode()
    servers = [
        Server(build_app(LocalModel(model)), bind_socket("127.0.0.1", 0), access_log=False)
        for model in [inpainter, Inpainter.from_runner(InputBack())]
    ]
    with (
        servers[0].running_in_thread() as url,
        servers[1].running_in_thread() as web_only_url,
        httpx.Client(timeout=600) as client,
    ):

        def post(base_url):
            answer = client.post(
                f"{base_url}v1/models/gated_inpaint:predict",
                content=body,
                headers={"Content-Type": "application/json"},
            )
            answer.raise_for_status()
            return decode_image(base64.b64decode(answer.json()["predictions"][0]["b64"]))

        calls = {
            "direct": lambda: inpainter.inpaint(image, mask),
            "http": lambda: post(url),
            "web_only": lambda: post(web_only_url),
        }
        assert np.array_equal(calls["http"](), calls["direct"]())
        for way in WAYS:
            for _ in range(WARMUP_CALLS):
                calls[way]()
        times = {way: [] for way in WAYS}
        for round_ in range(runs):
            for way in WAYS if round_ % 2 == 0 else WAYS[::-1]:  # no way always goes first
                start = time.perf_counter()
                calls[way]()
                times[way].append(time.perf_counter() - start)
    medians = {way: statistics.median(times[way]) for way in WAYS}
    return {
        "size": size,
        "runs": runs,
        "cpus": os.cpu_count(),
        "tensorflow": tf.__version__,
        "median_s": medians,
        "times_s": times,
        "overhead_measured": medians["http"] / medians["direct"] - 1,
        "overhead_paired": statistics.median(
            h / d - 1 for h, d in zip(times["http"], times["direct"], strict=True)
        ),
        "overhead_web_only": medians["web_only"] / medians["direct"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512, help="image side in pixels")
    parser.add_argument("--runs", type=int, default=9, help="timed rounds after warm-up")
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args()
    result = measure(args.size, args.runs)
    print(
        f"{args.size}x{args.size}, cnum=48, {result['cpus']} CPUs, TF {result['tensorflow']}, "
        f"medians of {args.runs} alternating rounds"
    )
    for way in WAYS:
        print(f"{way:>9} {result['median_s'][way]:8.3f} s")
    print(
        f"overhead: {result['overhead_measured']:+.1%} measured (median http / median direct "
        f"- 1), {result['overhead_paired']:+.1%} as the median of the rounds' ratios, "
        f"{result['overhead_web_only']:+.1%} as the server's own work (web_only / direct)"
    )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
