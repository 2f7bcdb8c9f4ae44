"""Shared fixtures: quiet TensorFlow, seeded randomness, the optional parity fixture."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

from gated_inpaint.testing import amplify_weights  # noqa: E402

PARITY_ENV = "GATED_INPAINT_PARITY_DIR"

# Two logical CPU devices, so MirroredStrategy tests run on a machine without GPUs.
# This must happen before TensorFlow initialises its devices.
_cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(_cpu, [tf.config.LogicalDeviceConfiguration()] * 2)


@pytest.fixture(autouse=True)
def _seed():
    np.random.seed(0)
    tf.random.set_seed(0)
    import keras

    keras.utils.set_random_seed(0)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture(scope="session")
def parity_dir():
    """The official-graph fixture directory (../shared/parity_a); skips when not configured."""
    path = os.environ.get(PARITY_ENV)
    if not path:
        pytest.skip(f"{PARITY_ENV} is not set (the parity fixture lives outside the repo)")
    if not os.path.isdir(path):
        pytest.fail(f"{PARITY_ENV}={path} is not a directory")
    return path


@pytest.fixture
def tiny_generator():
    """A built cnum=8 generator with weights that give non-trivial outputs."""
    from gated_inpaint.models import InpaintGenerator

    g = InpaintGenerator(cnum=8)
    g.build((1, None, None, 3))
    return amplify_weights(g)


def assert_uint8_equal_up_to_rounding(actual, desired, max_fraction: float = 1e-3):
    """uint8 images from two execution paths of the same network (eager and a graph, or a
    SavedModel): float round-off may move a value across a truncation boundary, so values may
    differ by 1 level, in at most `max_fraction` of them; anything more is a real difference."""
    actual, desired = np.asarray(actual), np.asarray(desired)
    assert actual.shape == desired.shape, (actual.shape, desired.shape)
    diff = np.abs(actual.astype(np.int16) - desired.astype(np.int16))
    assert diff.max() <= 1, f"max difference {diff.max()} levels at {np.argwhere(diff > 1)[:5]}"
    assert (diff > 0).mean() <= max_fraction, f"{(diff > 0).mean():.2%} of the values differ"
