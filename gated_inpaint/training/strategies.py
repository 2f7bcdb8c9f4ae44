"""Builds the `tf.distribute` strategy named on the command line."""

from __future__ import annotations

import functools
import os

import tensorflow as tf

from gated_inpaint.training.config import STRATEGIES


def make_strategy(name: str, tpu: str | None = None) -> tf.distribute.Strategy:
    """Returns the strategy for `--strategy`: the strategy in scope for `default`, else one
    object per name and TPU in a process, so that training twice in one process (a notebook)
    reuses it. A second `MirroredStrategy` numbers its collectives from the keys of the first,
    and its all-reduces can then fail with "Shape mismatch in the collective instance"; a
    multi-worker cluster and a TPU system are set up once per process anyway.

    - `default`: no distribution (TensorFlow's default strategy, first GPU if any).
    - `one_device`: `OneDeviceStrategy` on the first GPU, else the CPU.
    - `mirrored`: `MirroredStrategy` over all local GPUs (or the logical CPUs).
    - `multi_worker`: `MultiWorkerMirroredStrategy`; the cluster comes from `TF_CONFIG`.
    - `tpu`: `TPUStrategy` on `tpu` (a name or `grpc://` address; `local` on a TPU VM).
    """
    if name == "default":
        return tf.distribute.get_strategy()
    return _distributing_strategy(name, tpu)


@functools.cache
def _distributing_strategy(name: str, tpu: str | None) -> tf.distribute.Strategy:
    if name == "one_device":
        device = "/gpu:0" if tf.config.list_logical_devices("GPU") else "/cpu:0"
        return tf.distribute.OneDeviceStrategy(device)
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi_worker":
        if "TF_CONFIG" not in os.environ:
            raise ValueError(
                "--strategy=multi_worker needs the cluster in the TF_CONFIG environment variable "
                '(e.g. {"cluster": {"worker": ["host1:port", "host2:port"]}, '
                '"task": {"type": "worker", "index": 0}}).'
            )
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "tpu":
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu or "")
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
    raise ValueError(f"Unknown strategy {name!r}; choose one of {', '.join(STRATEGIES)}.")


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """Whether this process writes checkpoints and summaries (always true without a cluster)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    task_type = getattr(resolver, "task_type", None)
    if task_type is None:
        return True
    return task_type == "chief" or (task_type == "worker" and resolver.task_id == 0)


def worker_dir(model_dir: str, strategy: tf.distribute.Strategy) -> str:
    """Where this process saves: `model_dir` on the chief, a private scratch folder elsewhere.

    Every worker of a `MultiWorkerMirroredStrategy` must take part in a save; only the
    chief's copy is kept.
    """
    if is_chief(strategy):
        return model_dir
    return os.path.join(model_dir, ".workers", f"worker_{strategy.cluster_resolver.task_id}")
