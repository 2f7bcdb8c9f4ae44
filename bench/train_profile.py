"""Where the time of a training step goes: an op trace of D + G steps, summed by part and op.

Usage: python bench/train_profile.py [--size 256] [--batch 4] [--steps 2] [--mixed_precision]

Builds the model as bench/train_step.py does (TrainConfig defaults, cnum 48, synthetic images
and union masks), runs two untraced warm-up steps, then `--steps` steps under
`tf.profiler.experimental` and reads the trace's op events (the `tf_Compute` threads of the
host plane). Prints the op time per step, summed over TensorFlow's inter-op threads (so it
is CPU-side op time, not wall time), by part (generator or discriminator, forward or
gradient, optimizer; and the contextual attention's share), by op type and the top ops.
"""

from __future__ import annotations

import argparse
import collections
import glob
import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow.tsl.profiler.protobuf import xplane_pb2  # noqa: E402

from gated_inpaint.data.masks import random_mask  # noqa: E402
from gated_inpaint.training.config import TrainConfig  # noqa: E402
from gated_inpaint.training.trainer import build_model, set_precision_policy  # noqa: E402

WARMUP_STEPS = 2


def trace(size: int, batch: int, steps: int, mixed_precision: bool, logdir: str) -> str:
    """Runs the warm-up and the traced steps; returns the path of the `.xplane.pb` trace."""
    model = build_model(TrainConfig(data="", model_dir=""), set_precision_policy(mixed_precision))
    rng = np.random.default_rng(0)
    image = rng.uniform(-1, 1, (batch, size, size, 3)).astype("float32")
    masks = np.stack([random_mask(size, size, "union", rng) for _ in range(batch)])
    data = tf.data.Dataset.from_tensors({"image": image, "mask": masks[..., None]}).repeat()
    model.fit(data, steps_per_epoch=WARMUP_STEPS, verbose=0)
    tf.profiler.experimental.start(logdir)
    model.fit(data, steps_per_epoch=steps, verbose=0)
    tf.profiler.experimental.stop()
    return glob.glob(os.path.join(logdir, "plugins", "profile", "*", "*.xplane.pb"))[0]


def op_events(path: str) -> list[tuple[str, str, float]]:
    """`(scope, op type, seconds)` of every op event on the host's compute threads."""
    space = xplane_pb2.XSpace()
    with open(path, "rb") as f:
        space.ParseFromString(f.read())
    host = next(plane for plane in space.planes if plane.name == "/host:CPU")
    events = []
    for line in host.lines:
        if not line.name.startswith("tf_Compute"):
            continue
        for event in line.events:
            name = host.event_metadata[event.metadata_id].name
            if ":" in name and not name.startswith(("Threadpool", "Executor")):
                scope, op = name.rsplit(":", 1)
                events.append((scope, op, event.duration_ps / 1e12))
    return events


def part(scope: str) -> str:
    """`generator`/`discriminator` `forward`/`gradient`, `optimizer` or `other`."""
    if "/adam/" in scope:
        return "optimizer"
    network = (
        "discriminator"
        if "discriminator" in scope
        else "generator"
        if "generator" in scope
        else "other"
    )
    return f"{network} {'gradient' if 'gradient_tape' in scope else 'forward'}"


def report(events: list[tuple[str, str, float]], steps: int, top: int) -> str:
    """The breakdown as text: seconds per step and shares of the op time."""
    total = sum(seconds for _, _, seconds in events)
    sums = {name: collections.Counter() for name in ("part", "attention", "type", "op")}
    for scope, op, seconds in events:
        sums["part"][part(scope)] += seconds
        if "contextual_attention" in scope:
            sums["attention"][f"attention {part(scope).split()[-1]}"] += seconds
        sums["type"][op] += seconds
        sums["op"][f"{scope.split('/', 1)[-1]}:{op}"] += seconds
    lines = [f"op time {total / steps:.2f} s/step (summed over inter-op threads)"]
    for name, count in (("part", None), ("attention", None), ("type", top), ("op", top)):
        lines.append(f"-- by {name}")
        for key, seconds in sums[name].most_common(count):
            lines.append(f"{seconds / steps:7.3f} s {seconds / total:6.1%}  {key}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--mixed_precision", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="train_profile_") as logdir:
        path = trace(args.size, args.batch, args.steps, args.mixed_precision, logdir)
        print(report(op_events(path), args.steps, args.top))


if __name__ == "__main__":
    main()
