import keras
import numpy as np
import pytest

from gated_inpaint.models import SNPatchGANDiscriminator


def _trainable(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


def test_parameter_counts_are_the_official_ones():
    d = SNPatchGANDiscriminator()
    d.build((None, 256, 256, 4))
    assert _trainable(d) == 5_946_816
    assert sum(int(np.prod(w.shape)) for w in d.non_trainable_weights) == 1_216
    guided = SNPatchGANDiscriminator(guided=True)
    guided.build((None, 256, 256, 5))
    assert _trainable(guided) == 5_948_416


def test_output_is_flattened_patch_map_with_leaky_relu(rng):
    d = SNPatchGANDiscriminator(cnum=8)
    x = rng.uniform(-1, 1, size=(3, 128, 192, 4)).astype("float32")
    y = d(x).numpy()
    assert y.shape == (3, 2 * 3 * 32)
    negative = y[y < 0]
    assert negative.size > 0
    feature_map = x
    for conv in d.convs:
        pre = conv(feature_map).numpy()
        feature_map = np.where(pre > 0, pre, 0.2 * pre)
    np.testing.assert_allclose(y, feature_map.reshape(3, -1), atol=1e-5)


def test_wrong_channel_count_is_rejected():
    with pytest.raises(ValueError, match="expects 5 input channels"):
        SNPatchGANDiscriminator(cnum=8, guided=True)(np.zeros((1, 64, 64, 4), "float32"))


def test_training_call_updates_u_and_inference_does_not(rng):
    d = SNPatchGANDiscriminator(cnum=8)
    x = rng.uniform(-1, 1, size=(2, 64, 64, 4)).astype("float32")
    d(x)
    before = [c.u.numpy().copy() for c in d.convs]
    d(x, training=False)
    assert all(np.array_equal(c.u.numpy(), b) for c, b in zip(d.convs, before, strict=True))
    d(x, training=True)
    assert all(not np.array_equal(c.u.numpy(), b) for c, b in zip(d.convs, before, strict=True))


def test_keras_file_round_trip(tmp_path, rng):
    d = SNPatchGANDiscriminator(cnum=8)
    x = rng.uniform(-1, 1, size=(2, 64, 64, 4)).astype("float32")
    expected = d(x)
    path = str(tmp_path / "d.keras")
    d.save(path)
    np.testing.assert_array_equal(keras.models.load_model(path)(x), expected)
