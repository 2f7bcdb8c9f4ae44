import keras
import numpy as np
import pytest
import tensorflow as tf

from gated_inpaint.layers import ContextualAttention, attention_chunks, resize_nearest_align_corners


def _official_style_attention(f, mask, softmax_scale=10.0, fuse=True):
    """One sample at a time with the official op sequence (spec section 4): conv2d scores,
    eye(3) convs for fuse, conv2d_transpose reconstruction. Independent of the layer's
    batched matmul/fold formulation."""
    outputs = []
    for i in range(f.shape[0]):
        fi = tf.constant(f[i : i + 1])
        _, h, w, c = fi.shape
        raw = tf.image.extract_patches(fi, [1, 4, 4, 1], [1, 2, 2, 1], [1, 1, 1, 1], "SAME")
        raw = tf.transpose(tf.reshape(raw, [-1, 4, 4, c]), [1, 2, 3, 0])  # [4, 4, C, L]
        down = resize_nearest_align_corners(fi, (h // 2, w // 2))
        hd, wd = h // 2, w // 2
        patches = tf.image.extract_patches(down, [1, 3, 3, 1], [1, 1, 1, 1], [1, 1, 1, 1], "SAME")
        patches = tf.transpose(tf.reshape(patches, [-1, 3, 3, c]), [1, 2, 3, 0])
        norm = tf.sqrt(tf.reduce_sum(tf.square(patches), axis=[0, 1, 2]))
        patches = patches / tf.maximum(norm, 1e-4)
        m = resize_nearest_align_corners(tf.constant(mask[i : i + 1]), (hd, wd))
        m = tf.image.extract_patches(m, [1, 3, 3, 1], [1, 1, 1, 1], [1, 1, 1, 1], "SAME")
        valid = tf.cast(tf.reduce_mean(m[0], axis=-1) == 0.0, tf.float32)
        valid = tf.reshape(valid, [1, 1, 1, -1])
        s = tf.nn.conv2d(down, patches, 1, "SAME")  # [1, hd, wd, L]
        if fuse:
            eye = tf.reshape(tf.eye(3), [3, 3, 1, 1])
            s = tf.nn.conv2d(tf.reshape(s, [1, hd * wd, hd * wd, 1]), eye, 1, "SAME")
            s = tf.transpose(tf.reshape(s, [1, hd, wd, hd, wd]), [0, 2, 1, 4, 3])
            s = tf.nn.conv2d(tf.reshape(s, [1, hd * wd, hd * wd, 1]), eye, 1, "SAME")
            s = tf.transpose(tf.reshape(s, [1, wd, hd, wd, hd]), [0, 2, 1, 4, 3])
            s = tf.reshape(s, [1, hd, wd, hd * wd])
        s = tf.nn.softmax(s * valid * softmax_scale, axis=3) * valid
        y = tf.nn.conv2d_transpose(s, raw, [1, h, w, c], [1, 2, 2, 1], "SAME") / 4.0
        outputs.append(y)
    return tf.concat(outputs, 0).numpy()


def _inputs(rng, batch=2, h=16, w=24, c=5):
    f = rng.uniform(0, 1, size=(batch, h, w, c)).astype("float32")
    mask = np.zeros((batch, h, w, 1), "float32")
    mask[0, 3:9, 4:12] = 1
    if batch > 1:
        mask[1, 8:15, 10:22] = 1
    return f, mask


@pytest.mark.parametrize("fuse", [True, False])
@pytest.mark.parametrize("size", [(16, 24), (12, 12), (20, 10)])
def test_matches_per_sample_official_op_sequence(rng, fuse, size):
    f, mask = _inputs(rng, h=size[0], w=size[1])
    got = ContextualAttention(fuse=fuse)(f, mask).numpy()
    np.testing.assert_allclose(got, _official_style_attention(f, mask, fuse=fuse), atol=2e-6)


def test_each_sample_uses_its_own_mask(rng):
    f, mask = _inputs(rng)
    f[1] = f[0]
    layer = ContextualAttention()
    out = layer(f, mask).numpy()
    assert np.abs(out[0] - out[1]).max() > 1e-3
    np.testing.assert_allclose(out[1:], layer(f[1:], mask[1:]), atol=1e-6)
    shared = layer(f, mask[:1]).numpy()
    np.testing.assert_allclose(shared[1], out[0], atol=1e-6)


def test_without_mask_all_patches_valid(rng):
    f, _ = _inputs(rng)
    zeros = np.zeros(f.shape[:3] + (1,), "float32")
    np.testing.assert_allclose(ContextualAttention()(f), ContextualAttention()(f, zeros), atol=1e-7)


def test_dynamic_shapes_in_tf_function(rng):
    layer = ContextualAttention()
    spec = tf.TensorSpec([None, None, None, 5], tf.float32)
    fn = tf.function(layer.call, input_signature=[spec, tf.TensorSpec([None, None, None, 1])])
    for size in [(16, 24), (8, 32)]:
        f, mask = _inputs(rng, h=size[0], w=size[1])
        np.testing.assert_allclose(fn(f, mask), layer(f, mask), atol=1e-6)


def test_odd_feature_size_is_rejected(rng):
    f = rng.uniform(size=(1, 15, 16, 3)).astype("float32")
    with pytest.raises(ValueError, match="divisible by rate=2"):
        ContextualAttention()(f)


def test_gradients_are_finite(rng):
    f, mask = _inputs(rng)
    x = tf.constant(f)
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_sum(ContextualAttention()(x, mask) ** 2)
    grad = tape.gradient(loss, x).numpy()
    assert np.isfinite(grad).all() and np.abs(grad).sum() > 0


def test_config_and_keras_file_round_trip(tmp_path, rng):
    layer = ContextualAttention(ksize=3, softmax_scale=5.0, fuse=False, name="ca")
    assert ContextualAttention.from_config(layer.get_config()).get_config() == layer.get_config()
    feats = keras.Input((16, 24, 5))
    mask = keras.Input((16, 24, 1))
    model = keras.Model([feats, mask], layer(feats, mask))
    path = str(tmp_path / "ca.keras")
    model.save(path)
    restored = keras.models.load_model(path)
    f, m = _inputs(rng)
    np.testing.assert_array_equal(model([f, m]), restored([f, m]))


def _chunk_calls(monkeypatch):
    """Records the rows per block each time the chunked path runs."""
    calls = []
    pasted = attention_chunks.RowChunks.pasted

    def spy(self, rows, attend):
        calls.append(rows)
        return pasted(self, rows, attend)

    monkeypatch.setattr(attention_chunks.RowChunks, "pasted", spy)
    return calls


@pytest.mark.parametrize("fuse_k", [3, 1, 2, 5])
@pytest.mark.parametrize(("size", "chunk"), [((32, 24), 1), ((28, 40), 3000), ((20, 10), 1)])
def test_chunked_equals_whole(rng, monkeypatch, fuse_k, size, chunk):
    """Blocks of rows (the smallest allowed: fuse_k rows, or a few) give the whole-matrix
    result, with the column-major wrap between blocks and at the top and bottom rows."""
    calls = _chunk_calls(monkeypatch)
    f, mask = _inputs(rng, h=size[0], w=size[1])
    whole = ContextualAttention(fuse_k=fuse_k, chunk_elements=None)(f, mask).numpy()
    chunked = ContextualAttention(fuse_k=fuse_k, chunk_elements=chunk)(f, mask).numpy()
    assert calls and calls[0] < size[0] // 2  # several blocks
    np.testing.assert_allclose(chunked, whole, atol=1e-6)


@pytest.mark.parametrize("fuse_k", [3, 1, 2])
def test_chunked_with_a_shorter_last_block(rng, monkeypatch, fuse_k):
    """7 rows in blocks of 3: the last block runs past the bottom row."""
    calls = _chunk_calls(monkeypatch)
    f, mask = _inputs(rng, h=14, w=24)
    per_row = 2 * 12 * 7 * 12  # batch x width x patches
    layer = ContextualAttention(fuse_k=fuse_k, chunk_elements=per_row * (fuse_k + 2))
    whole = ContextualAttention(fuse_k=fuse_k, chunk_elements=None)(f, mask).numpy()
    np.testing.assert_allclose(layer(f, mask).numpy(), whole, atol=1e-6)
    assert calls == [3]


@pytest.mark.parametrize("fuse", [True, False])
def test_chunked_matches_official_op_sequence(rng, fuse):
    f, mask = _inputs(rng, h=24, w=20)
    got = ContextualAttention(fuse=fuse, chunk_elements=1)(f, mask).numpy()
    np.testing.assert_allclose(got, _official_style_attention(f, mask, fuse=fuse), atol=1e-5)


def test_chunked_with_dynamic_shapes_picks_blocks_at_run_time(rng, monkeypatch):
    """Unknown sizes: one graph decides per call between one block and several."""
    calls = _chunk_calls(monkeypatch)
    chunk_elements = 2 * 6 * 96  # batch 2, 6 rows of a 12-wide map against 96 patches
    layer = ContextualAttention(chunk_elements=chunk_elements)
    spec = tf.TensorSpec([None, None, None, 5], tf.float32)
    fn = tf.function(layer.call, input_signature=[spec, tf.TensorSpec([None, None, None, 1])])
    reference = ContextualAttention(chunk_elements=None)
    for size in [(16, 24), (32, 24), (8, 8)]:
        f, mask = _inputs(rng, h=size[0], w=size[1])
        np.testing.assert_allclose(fn(f, mask), reference(f, mask), atol=1e-6)
    assert len(calls) == 1  # traced once; the blocks run in a tf.while_loop


@pytest.mark.parametrize(
    ("fuse_k", "size", "chunk"),
    [(3, (32, 24), 1), (2, (28, 40), 3000), (5, (20, 10), 1), (1, (14, 24), 1)],
)
def test_chunked_compiles_with_xla_at_static_shapes(rng, monkeypatch, fuse_k, size, chunk):
    """Static shapes, as an XLA-compiled training step has them: the blocks are unrolled, every
    slice of fixed bounds, so XLA compiles them, forward and backward, with the whole-matrix
    results."""
    calls = _chunk_calls(monkeypatch)
    f, mask = _inputs(rng, h=size[0], w=size[1])

    def output_and_gradient(layer, features):
        with tf.GradientTape() as tape:
            tape.watch(features)
            output = layer(features, mask)
            loss = tf.reduce_sum(output**2)
        return output, tape.gradient(loss, features)

    chunked = ContextualAttention(fuse_k=fuse_k, chunk_elements=chunk)
    compiled = tf.function(lambda x: output_and_gradient(chunked, x), jit_compile=True)
    whole = ContextualAttention(fuse_k=fuse_k, chunk_elements=None)
    expected, expected_gradient = output_and_gradient(whole, tf.constant(f))
    got, gradient = compiled(tf.constant(f))
    assert calls and calls[0] < size[0] // 2  # several blocks
    np.testing.assert_allclose(got, expected, atol=1e-5)
    scale = np.abs(expected_gradient).max()
    np.testing.assert_allclose(gradient / scale, expected_gradient / scale, atol=5e-5)


def test_rows_per_chunk_follows_the_budget():
    neighbourhoods = tf.zeros([2, 40 * 30, 27])
    patches = tf.zeros([2, 40 * 30, 27])
    chunks = attention_chunks.RowChunks(neighbourhoods, patches, (40, 30), (40, 30), fuse_k=3)
    per_row = 2 * 30 * 1200
    assert chunks.rows_per_chunk(per_row * 12) == 10  # 10 rows + 2 shared = 12 rows of scores
    assert chunks.rows_per_chunk(per_row * 42) == 40  # everything fits: one block
    assert chunks.rows_per_chunk(1) == 3  # at least fuse_k rows
    assert chunks.rows_per_chunk(per_row * 9) == 7  # at most 7 rows: 6 blocks, 7 rows each
    assert chunks.rows_per_chunk(per_row * 23) == 20  # at most 21 rows: 2 blocks of 20


def test_blocks_compute_each_row_of_scores_once(rng, monkeypatch):
    """Blocks of 3 rows carry the fuse rows they share instead of recomputing them: the score
    matmuls (eager, one call per block) cover the h*w positions plus a few per block, where
    recomputing would take 5/3 of them."""
    score_rows = []
    matmul = tf.matmul

    def spy(a, b, *args, **kwargs):
        if a.shape[-1] == 9 * 5:  # neighbourhoods x patches, not the paste
            score_rows.append(a.shape[1])
        return matmul(a, b, *args, **kwargs)

    monkeypatch.setattr(tf, "matmul", spy)
    f, mask = _inputs(rng, h=48, w=24)  # 24 x 12 positions, 288 patches
    ContextualAttention(chunk_elements=2 * 12 * 288 * 5)(f, mask)
    positions = 24 * 12
    assert len(score_rows) > 8  # blocks of 3 rows
    assert positions <= sum(score_rows) < 1.2 * positions
