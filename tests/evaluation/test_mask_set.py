import numpy as np
import pytest

from gated_inpaint.data.masks import brush_stroke_mask
from gated_inpaint.evaluation import mask_set
from gated_inpaint.evaluation.metrics import coverage_percent

BUCKETS = [(10, 20), (20, 30), (30, 40), (40, 50), (50, 60)]


@pytest.mark.parametrize("size", [32, 64, 256])
def test_mask_i_has_a_coverage_in_bucket_i_mod_5(size):
    for index in range(10):
        hole = mask_set.bucket_mask(7, index, size)
        assert hole.shape == (size, size) and hole.dtype == bool
        low, high = BUCKETS[index % 5]
        assert low <= coverage_percent(hole) < high, (index, coverage_percent(hole))


def test_masks_are_pure_functions_of_seed_index_and_size():
    first = mask_set.bucket_mask(3, 4, 64)
    np.testing.assert_array_equal(mask_set.bucket_mask(3, 4, 64), first)
    assert (mask_set.bucket_mask(4, 4, 64) != first).any()
    assert (mask_set.bucket_mask(3, 9, 64) != first).any()  # same bucket, other index


def test_masks_differ_from_the_training_masks_of_the_same_seed():
    # Training draws stroke mask i of seed K from default_rng([K, i]). Where that mask is in
    # bucket 10-20 %, mask i of the set would be it if the set used the same generator.
    in_bucket = 0
    for index in range(0, 100, 5):
        training = brush_stroke_mask(256, 256, np.random.default_rng([0, index])) > 0
        if 10 <= coverage_percent(training) < 20:
            in_bucket += 1
            assert (mask_set.bucket_mask(0, index, 256) != training).any()
    assert in_bucket >= 5


def test_an_unreachable_bucket_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(mask_set, "MAX_DRAWS", 50)
    # At 16x16 one stroke mask covers 40 % or more: 10-20 % cannot be reached.
    with pytest.raises(ValueError) as error:
        mask_set.bucket_mask(1, 5, 16)
    assert str(error.value) == (
        "mask 5 (seed 1): 50 stroke masks gave no hole of 10-20 % of a 16x16 image; use a "
        "larger --size"
    )


def test_mask_names_have_five_digits_or_more():
    assert mask_set.mask_name(3, 10) == "00003.png"
    assert mask_set.mask_name(99999, 100000) == "99999.png"
    assert mask_set.mask_name(7, 100001) == "000007.png"
