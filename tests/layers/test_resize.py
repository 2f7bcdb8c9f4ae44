"""`resize_nearest_align_corners`: TF1's align-corners index rule, built from gathers so that a
training step through it compiles with XLA."""

import numpy as np
import pytest
import tensorflow as tf

from gated_inpaint.layers import resize_nearest_align_corners
from gated_inpaint.layers.resize import align_corners_indices

# Every pair up to 70 (down, up, equal, to and from 1), and large sizes where float32
# rounding of i * scale could move an index by one.
SIZES = [(i, o) for i in range(1, 71) for o in range(1, 71)] + [
    (n, m) for n in (255, 511, 1023, 2047, 4095) for m in (127, 254, 383, 1000, 3001)
]


def _kernel_indices(in_size, out_size):
    """Indices TensorFlow's ResizeNearestNeighbor(align_corners=True) kernel takes."""
    ramp = tf.reshape(tf.range(in_size, dtype=tf.float32), [1, in_size, 1, 1])
    resized = tf.raw_ops.ResizeNearestNeighbor(
        images=ramp, size=[out_size, 1], align_corners=True, half_pixel_centers=False
    )
    return resized.numpy().ravel().astype(np.int64)


def test_indices_are_those_of_the_tensorflow_kernel():
    mismatched = [
        (i, o)
        for i, o in SIZES
        if not np.array_equal(align_corners_indices(i, o).numpy(), _kernel_indices(i, o))
    ]
    assert not mismatched


@pytest.mark.parametrize("dtype", [tf.float32, tf.bfloat16, tf.float16])
def test_same_values_as_the_kernel_for_tensors_and_dynamic_sizes(dtype):
    x = tf.cast(tf.random.stateless_normal([2, 37, 50, 3], seed=[1, 2]), dtype)
    expected = tf.raw_ops.ResizeNearestNeighbor(
        images=x, size=[19, 25], align_corners=True, half_pixel_centers=False
    )

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], dtype)])
    def resize(images):
        shape = tf.shape(images)
        return resize_nearest_align_corners(images, ((shape[1] + 1) // 2, (shape[2] + 1) // 2))

    np.testing.assert_array_equal(resize(x).numpy(), expected.numpy())


def test_static_shapes_stay_static():
    @tf.function
    def half(images):
        shape = tf.shape(images)
        return resize_nearest_align_corners(images, (shape[1] // 2, shape[2] // 2))

    traced = half.get_concrete_function(tf.TensorSpec([4, 64, 48, 8]))
    assert traced.structured_outputs.shape == (4, 32, 24, 8)


def test_gradient_compiles_with_xla_and_routes_to_the_picked_pixels():
    x = tf.random.stateless_normal([1, 9, 7, 2], seed=[3, 4])

    @tf.function(jit_compile=True)
    def gradient(images):
        with tf.GradientTape() as tape:
            tape.watch(images)
            # Squared, so that the upstream gradient is no constant TensorFlow could fold away.
            total = tf.reduce_sum(tf.square(resize_nearest_align_corners(images, (4, 3))))
        return tape.gradient(total, images)

    counts = np.zeros([9, 7])
    for row in _kernel_indices(9, 4):
        for column in _kernel_indices(7, 3):
            counts[row, column] += 1
    expected = 2 * x.numpy() * counts[None, :, :, None]
    np.testing.assert_allclose(gradient(x).numpy(), expected, rtol=1e-6)
