import keras
import numpy as np
import pytest

from gated_inpaint.inference.precision import dtype_policy, with_precision
from gated_inpaint.inference.uint8_graph import inpaint_uint8
from gated_inpaint.testing import smooth_photo


def test_float32_is_the_same_generator(tiny_generator):
    assert with_precision(tiny_generator, "float32") is tiny_generator


def test_bfloat16_copy_computes_in_bfloat16_close_to_float32(tiny_generator):
    before = keras.mixed_precision.global_policy().name
    fast = with_precision(tiny_generator, "bfloat16")
    assert keras.mixed_precision.global_policy().name == before
    assert fast.dtype_policy.name == "mixed_bfloat16"
    assert fast.contextual_attention.compute_dtype == "bfloat16"
    for a, b in zip(fast.get_weights(), tiny_generator.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    image = smooth_photo(64, 96)[None]
    mask = np.zeros((1, 64, 96, 1), np.uint8)
    mask[:, 16:48, 24:72] = 1
    exact = inpaint_uint8(tiny_generator, image, mask).numpy().astype(int)
    approx = inpaint_uint8(fast, image, mask).numpy().astype(int)
    hole = mask[..., 0] > 0
    difference = np.abs(exact - approx)[hole]
    # bench/bf16_error.py measures this setting (mean 0.199 levels on the 2-core EPYC), so a
    # doubling of the bfloat16 error fails here.
    assert 0 < difference.mean() < 0.3
    assert difference.max() <= 3
    np.testing.assert_array_equal(exact[~hole], approx[~hole])


def test_unknown_precision():
    with pytest.raises(ValueError, match="Unknown precision 'int8'"), dtype_policy("int8"):
        pass
