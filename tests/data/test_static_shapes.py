"""Static batch shapes for XLA and TPUs: training batches always, evaluation with drop_remainder."""

import numpy as np
import pytest
from PIL import Image

from gated_inpaint.data.pipeline import make_dataset


@pytest.fixture(scope="module")
def five_images(tmp_path_factory):
    folder = tmp_path_factory.mktemp("five")
    rng = np.random.default_rng(0)
    for i, size in enumerate([(20, 30), (40, 24), (16, 16), (33, 47), (18, 60)]):
        Image.fromarray(rng.integers(0, 256, (*size, 3), np.uint8)).save(folder / f"{i}.png")
    return str(folder)


@pytest.mark.parametrize("crop", ["random_crop", "resize"])
@pytest.mark.parametrize("guided", [False, True])
def test_every_training_tensor_has_a_static_shape(five_images, crop, guided):
    train = make_dataset(five_images, (16, 24), 2, training=True, crop=crop, guided=guided)
    for name, spec in train.element_spec.items():
        assert spec.shape.is_fully_defined(), (name, spec.shape)
    assert train.element_spec["mask"].shape == (2, 16, 24, 1)


def test_evaluation_with_drop_remainder_keeps_full_batches_only(five_images):
    kept = make_dataset(five_images, 16, 2, training=False, drop_remainder=True)
    for name, spec in kept.element_spec.items():
        assert spec.shape.is_fully_defined(), (name, spec.shape)
    assert [batch["image"].shape[0] for batch in kept] == [2, 2]
    every = make_dataset(five_images, 16, 2, training=False)
    assert [batch["image"].shape[0] for batch in every] == [2, 2, 1]
