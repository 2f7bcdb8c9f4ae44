"""Shared fixtures: quiet TensorFlow, seeded randomness, the optional parity fixture, tiny
generators and a uint8 batch with its in-memory results."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

from gated_inpaint.inference.uint8_graph import inpaint_uint8  # noqa: E402
from gated_inpaint.models import InpaintGenerator  # noqa: E402
from gated_inpaint.testing import amplify_weights, save_image, smooth_photo  # noqa: E402

PARITY_ENV = "GATED_INPAINT_PARITY_DIR"
TRAIN_PARITY_ENV = "GATED_INPAINT_TRAIN_PARITY_DIR"

# Two logical CPU devices, so MirroredStrategy tests run on a machine without GPUs.
# This must happen before TensorFlow initialises its devices.
_cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(_cpu, [tf.config.LogicalDeviceConfiguration()] * 2)


@pytest.fixture(scope="session")
def mirrored_strategy():
    """`--strategy=mirrored` over the two logical CPUs: the one MirroredStrategy of the process
    (see `strategies.make_strategy` for why there is only one)."""
    from gated_inpaint.training.strategies import make_strategy

    strategy = make_strategy("mirrored")
    assert strategy.num_replicas_in_sync == 2
    return strategy


@pytest.fixture(autouse=True)
def _seed():
    np.random.seed(0)
    tf.random.set_seed(0)
    import keras

    keras.utils.set_random_seed(0)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def _directory_from(env: str) -> str:
    """The folder named by the environment variable `env`: skips the test when it is not set
    (the official-graph fixtures live outside the repo), fails when it is no folder."""
    path = os.environ.get(env)
    if not path:
        pytest.skip(f"{env} is not set (the official-graph fixture lives outside the repo)")
    if not os.path.isdir(path):
        pytest.fail(f"{env}={path} is not a directory")
    return path


@pytest.fixture(scope="session")
def parity_dir():
    """The official-graph fixture directory (../shared/parity_a); skips when not configured."""
    return _directory_from(PARITY_ENV)


@pytest.fixture(scope="session")
def train_parity_dir():
    """One official training step (../shared/parity_train); skips when not configured."""
    return _directory_from(TRAIN_PARITY_ENV)


@pytest.fixture
def tiny_generator():
    """A built cnum=8 generator with weights that give non-trivial outputs."""
    g = InpaintGenerator(cnum=8)
    g.build((1, None, None, 3))
    return amplify_weights(g)


# One generator, a uint8 batch and its in-memory results, shared by the export and serving tests.


@pytest.fixture(scope="session")
def generator():
    g = InpaintGenerator(cnum=8)
    g.build((1, None, None, 3))
    return amplify_weights(g)


@pytest.fixture(scope="session")
def data():
    """Two 37x50 images with masks (0/255 and 0/1), and one 24x31 image with its mask."""
    rng = np.random.default_rng(7)
    images = rng.integers(0, 256, size=(2, 37, 50, 3), dtype=np.uint8)
    masks = np.zeros((2, 37, 50, 1), np.uint8)
    masks[0, 5:20, 10:30] = 255
    masks[1, 20:35, 3:12] = 1
    small = rng.integers(0, 256, size=(24, 31, 3), dtype=np.uint8)
    small_mask = np.zeros((24, 31, 1), np.uint8)
    small_mask[3:15, 14:29] = 255
    return {"images": images, "masks": masks, "small": small, "small_mask": small_mask}


@pytest.fixture(scope="session")
def expected(generator, data):
    """In-memory `inpaint_uint8`: the batch at once, and each image of `bytes_request` alone."""
    images, masks = data["images"], data["masks"]
    pairs = [(images[0], masks[0]), (data["small"], data["small_mask"]), (images[1], masks[1])]
    return {
        "batch": inpaint_uint8(generator, images, masks).numpy(),
        "single": [inpaint_uint8(generator, i[None], m[None]).numpy()[0] for i, m in pairs],
    }


@pytest.fixture(scope="module")
def training_run(tmp_path_factory):
    """A training run's folder as train.py leaves it: a checkpoint of a cnum=4, d_cnum=4 model
    (at step 0) and the flags.txt absl writes; two images in `images/` beside it."""
    from gated_inpaint.training.config import TrainConfig
    from gated_inpaint.training.trainer import build_model, make_checkpoint

    folder = tmp_path_factory.mktemp("training")
    images = folder / "images"
    images.mkdir()
    for i in range(2):
        save_image(smooth_photo(24, 32, seed=i), images / f"photo{i}.png")
    run = folder / "run"
    config = TrainConfig(data=str(images), model_dir=str(run), cnum=4, d_cnum=4)
    tf.train.CheckpointManager(make_checkpoint(build_model(config)), str(run), 1).save()
    flags = ("--data={data}", "--model_dir={model_dir}", "--cnum=4", "--d_cnum=4", "--noguided",
             "--noofficial_optimizer", "--image_size=256")  # fmt: skip
    (run / "flags.txt").write_text("\n".join(flags).format(**vars(config)) + "\n")
    return run
