"""The strategies of `--strategy`."""

import pytest
import tensorflow as tf

from gated_inpaint.training.strategies import make_strategy


def test_each_strategy_is_made_once_per_process():
    """A second MirroredStrategy would reuse the first one's collective keys (see
    `make_strategy`), so training twice in a notebook must get the same object."""
    assert make_strategy("mirrored") is make_strategy("mirrored")
    assert make_strategy("one_device") is make_strategy("one_device")
    assert isinstance(make_strategy("mirrored"), tf.distribute.MirroredStrategy)


def test_multi_worker_without_a_cluster_says_what_to_set(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match="TF_CONFIG"):
        make_strategy("multi_worker")


def test_default_is_the_strategy_in_scope():
    mirrored = make_strategy("mirrored")
    with mirrored.scope():
        assert make_strategy("default") is mirrored
    assert make_strategy("default") is tf.distribute.get_strategy()
