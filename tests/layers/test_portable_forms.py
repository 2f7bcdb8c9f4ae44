"""The forms that let the attention and the generator convert to LiteRT and ONNX, each compared
with the form it replaced: patches as pad + strided slices (was `tf.image.extract_patches`),
the fold in 4-D (was a 6-D pad), the portable blocks loop (was a `TensorArray` behind a branch).
Explicit padding before the dilated convolutions and the upsampling's constant slices are
checked against SAME convolutions in test_gated_conv.py."""

import numpy as np
import pytest
import tensorflow as tf

from gated_inpaint.layers import ContextualAttention, attention_chunks
from gated_inpaint.layers.attention_ops import extract_patches, fold_patches


@pytest.mark.parametrize(("size", "stride"), [(3, 1), (4, 2), (3, 2), (2, 3), (1, 1)])
@pytest.mark.parametrize("shape", [(2, 12, 10, 5), (1, 7, 9, 2), (1, 1, 3, 1)])
def test_extract_patches_is_tf_extract_patches_bit_for_bit(rng, size, stride, shape):
    x = rng.normal(size=shape).astype("float32")
    want = tf.image.extract_patches(
        x, [1, size, size, 1], [1, stride, stride, 1], [1, 1, 1, 1], "SAME"
    ).numpy()
    np.testing.assert_array_equal(extract_patches(tf.constant(x), size, stride), want)
    unknown = tf.function(
        lambda t: extract_patches(t, size, stride),
        input_signature=[tf.TensorSpec([None, None, None, shape[-1]])],
    )
    got = unknown(x)
    np.testing.assert_array_equal(got, want)
    assert got.shape[-1] == size * size * shape[-1]


@pytest.mark.parametrize(("size", "stride"), [(3, 1), (4, 2), (3, 2), (6, 3)])
def test_extract_patches_gradient_is_tf_extract_patches_gradient(rng, size, stride):
    """The blocks form (`size` a multiple of `stride > 1`) writes its gradient out."""
    x = tf.constant(rng.normal(size=(2, 12, 10, 5)).astype("float32"))

    def gradient(extract):
        with tf.GradientTape() as tape:
            tape.watch(x)
            patches = extract(x)
            weights = tf.constant(rng.normal(size=patches.shape).astype("float32"))
            loss = tf.reduce_sum(patches * weights)
        return tape.gradient(loss, x)

    rng_state = rng.bit_generator.state
    got = gradient(lambda t: extract_patches(t, size, stride))
    rng.bit_generator.state = rng_state  # the same weights
    want = gradient(
        lambda t: tf.image.extract_patches(
            t, [1, size, size, 1], [1, stride, stride, 1], [1, 1, 1, 1], "SAME"
        )
    )
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def _fold_by_loops(patches, rate):
    """The SAME conv2d_transpose (stride rate, kernel 2*rate) of the official code, as loops:
    patch (p, q) is added at rows rate*p - rate//2 + dy, columns rate*q - rate//2 + dx."""
    batch, h, w, size, _, channels = patches.shape
    out = np.zeros((batch, rate * h + 2 * size, rate * w + 2 * size, channels), np.float64)
    for p in range(h):
        for q in range(w):
            top, left = size + rate * p - rate // 2, size + rate * q - rate // 2
            out[:, top : top + size, left : left + size] += patches[:, p, q]
    return out[:, size : size + rate * h, size : size + rate * w]


@pytest.mark.parametrize("rate", [2, 3])
def test_fold_in_4d_is_the_overlap_add_of_the_patches(rng, rate):
    size = 2 * rate
    patches = rng.normal(size=(2, 5, 7, size, size, 3)).astype("float32")
    flat = patches.reshape(2, 5, 7, size * size * 3)  # channels (dy, dx, c)
    np.testing.assert_allclose(
        fold_patches(tf.constant(flat), rate), _fold_by_loops(patches, rate), atol=1e-5
    )
    unknown = tf.function(
        lambda t: fold_patches(t, rate), input_signature=[tf.TensorSpec([None, None, None, None])]
    )
    np.testing.assert_allclose(unknown(flat), _fold_by_loops(patches, rate), atol=1e-5)


def _fold_gradient_by_loops(upstream, rate, h, w):
    """The gradient of `_fold_by_loops` for `upstream`: each patch pixel receives the upstream
    gradient of the output pixel it was added to (zero outside the image)."""
    batch, _, _, channels = upstream.shape
    size = 2 * rate
    padded = np.zeros((batch, rate * h + 2 * size, rate * w + 2 * size, channels))
    padded[:, size : size + rate * h, size : size + rate * w] = upstream
    gradient = np.zeros((batch, h, w, size, size, channels))
    for p in range(h):
        for q in range(w):
            top, left = size + rate * p - rate // 2, size + rate * q - rate // 2
            gradient[:, p, q] = padded[:, top : top + size, left : left + size]
    return gradient.reshape(batch, h, w, size * size * channels)


@pytest.mark.parametrize("rate", [2, 3])
def test_fold_gradient_is_the_gather_of_the_upstream_gradient(rng, rate):
    """`fold_patches` writes its gradient out (one pad and one concat instead of a zero-filled
    copy of all the patches per slice): it must be exactly the op-by-op gradient's values."""
    patches = tf.constant(rng.normal(size=(2, 5, 7, (2 * rate) ** 2 * 3)).astype("float32"))
    upstream = rng.normal(size=(2, 5 * rate, 7 * rate, 3)).astype("float32")
    expected = _fold_gradient_by_loops(upstream, rate, 5, 7)

    def gradient(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            folded = fold_patches(x, rate)
        return tape.gradient(folded, x, output_gradients=tf.constant(upstream))

    np.testing.assert_array_equal(gradient(patches), expected)
    unknown = tf.function(gradient, input_signature=[tf.TensorSpec([None, None, None, None])])
    np.testing.assert_array_equal(unknown(patches), expected)


def _inputs(rng, h, w, batch=2, channels=5):
    features = rng.uniform(0, 1, size=(batch, h, w, channels)).astype("float32")
    mask = np.zeros((batch, h, w, 1), "float32")
    mask[:, h // 4 : h // 2, w // 3 : w // 2 + 2] = 1
    return features, mask


@pytest.mark.parametrize("fuse", [True, False])
@pytest.mark.parametrize(("size", "chunk"), [((28, 40), 3000), ((16, 24), 2**24), ((20, 10), 1)])
def test_portable_blocks_equal_the_whole_attention(rng, fuse, size, chunk):
    """Always a loop, even for one block; int32 sizes; outputs concatenated, no TensorArray."""
    features, mask = _inputs(rng, *size)
    whole = ContextualAttention(fuse=fuse, chunk_elements=None)(features, mask).numpy()
    portable = ContextualAttention(fuse=fuse, chunk_elements=chunk, portable=True)
    spec = [tf.TensorSpec([None, None, None, 5]), tf.TensorSpec([None, None, None, 1])]
    unknown = tf.function(portable.call, input_signature=spec)
    np.testing.assert_allclose(unknown(features, mask), whole, atol=1e-6)
    np.testing.assert_allclose(portable(features, mask), whole, atol=1e-6)
    graph = unknown.get_concrete_function().graph.as_graph_def()
    ops = {node.op for node in graph.node} | {
        node.op for function in graph.library.function for node in function.node_def
    }
    assert "While" in ops or "StatelessWhile" in ops
    assert not ops & {
        "If",
        "StatelessIf",
        "TensorListReserve",
        "TensorArrayV3",
        "ExtractImagePatches",
    }


def test_rows_per_chunk_in_int32():
    chunks = attention_chunks.RowChunks(
        tf.zeros([1, 40 * 30, 27]), tf.zeros([1, 40 * 30, 27]), (40, 30), (40, 30), 3, tf.int32
    )
    assert chunks.rows_per_chunk(30 * 1200 * 12) == 10
