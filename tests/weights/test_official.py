import numpy as np
import pytest

from gated_inpaint.models import InpaintGenerator, SNPatchGANDiscriminator
from gated_inpaint.testing import amplify_weights, official_tensors, write_tf1_checkpoint
from gated_inpaint.weights import official
from gated_inpaint.weights.official import CheckpointMismatchError, load_official_checkpoint


@pytest.fixture
def networks():
    g = InpaintGenerator(cnum=8)
    g.build((1, None, None, 3))
    d = SNPatchGANDiscriminator(cnum=8)
    d.build((None, 64, 64, 4))
    return amplify_weights(g), d


def _inputs(rng):
    image = rng.uniform(-1, 1, size=(2, 64, 64, 3)).astype("float32")
    mask = np.zeros((2, 64, 64, 1), "float32")
    mask[:, 16:40, 20:52] = 1
    return image, mask


def test_bgr_load_reproduces_the_source_networks(tmp_path, networks, rng):
    g, d = networks
    write_tf1_checkpoint(tmp_path, official_tensors(g, d))
    g2, d2 = InpaintGenerator(cnum=8), SNPatchGANDiscriminator(cnum=8)
    loaded = load_official_checkpoint(str(tmp_path), g2, d2, channel_order="bgr")
    assert len(loaded) == 84 + 18
    image, mask = _inputs(rng)
    for a, b in zip(g2(image, mask), g(image, mask), strict=True):
        np.testing.assert_array_equal(a, b)
    x = np.concatenate([image, mask], axis=-1)
    np.testing.assert_array_equal(d2(x), d(x))


def test_rgb_load_gives_the_bgr_result_on_rgb_input(tmp_path, networks, rng):
    g, d = networks
    write_tf1_checkpoint(tmp_path, official_tensors(g, d))
    g_rgb, d_rgb = InpaintGenerator(cnum=8), SNPatchGANDiscriminator(cnum=8)
    load_official_checkpoint(str(tmp_path), g_rgb, d_rgb, channel_order="rgb")
    bgr, mask = _inputs(rng)
    rgb = bgr[..., ::-1].copy()
    for ours, theirs in zip(g_rgb(rgb, mask), g(bgr, mask), strict=True):
        assert np.abs(theirs.numpy()).mean() > 1e-2
        np.testing.assert_allclose(ours, theirs.numpy()[..., ::-1], atol=1e-5)
    x_bgr = np.concatenate([bgr, mask], axis=-1)
    x_rgb = np.concatenate([rgb, mask], axis=-1)
    np.testing.assert_allclose(d_rgb(x_rgb), d(x_bgr), atol=1e-5)


def test_missing_tensor_is_named_and_nothing_is_loaded(tmp_path, networks):
    g, _ = networks
    tensors = official_tensors(g)
    del tensors["inpaint_net/allconv13_upsample/allconv13_upsample_conv/bias"]
    write_tf1_checkpoint(tmp_path, tensors)
    target = InpaintGenerator(cnum=8)
    target.build((1, None, None, 3))
    before = [w.numpy().copy() for w in target.weights]
    with pytest.raises(CheckpointMismatchError, match="allconv13_upsample_conv/bias"):
        load_official_checkpoint(str(tmp_path), target)
    assert all(np.array_equal(w.numpy(), b) for w, b in zip(target.weights, before, strict=True))


def test_wrong_shape_is_named_with_both_shapes(tmp_path, networks):
    g, _ = networks
    tensors = official_tensors(g)
    tensors["inpaint_net/conv5/kernel"] = np.zeros((3, 3, 8, 16), "float32")
    write_tf1_checkpoint(tmp_path, tensors)
    with pytest.raises(
        CheckpointMismatchError, match=r"conv5/kernel.*\[3, 3, 8, 16\].*\[3, 3, 16, 32\]"
    ):
        load_official_checkpoint(str(tmp_path), InpaintGenerator(cnum=8))


def test_generator_only_checkpoint_cannot_fill_a_discriminator(tmp_path, networks):
    g, _ = networks
    write_tf1_checkpoint(tmp_path, official_tensors(g))
    with pytest.raises(
        CheckpointMismatchError, match="discriminator/sn_patch_gan/conv1/kernel_sn/u"
    ):
        load_official_checkpoint(str(tmp_path), discriminator=SNPatchGANDiscriminator(cnum=8))


def test_checkpoint_locations(tmp_path, networks):
    g, _ = networks
    tensors = official_tensors(g)
    prefix = write_tf1_checkpoint(tmp_path / "state", tensors)
    assert official.resolve_checkpoint(str(tmp_path / "state")) == prefix
    assert official.resolve_checkpoint(prefix) == prefix
    released = write_tf1_checkpoint(tmp_path / "release", tensors, "snap-0", "checkpoint.txt")
    assert official.resolve_checkpoint(str(tmp_path / "release")) == released
    lone = write_tf1_checkpoint(tmp_path / "lone", tensors, "snap-7", state_file=None)
    assert official.resolve_checkpoint(str(tmp_path / "lone")) == lone
    with pytest.raises(FileNotFoundError, match="No TF1 checkpoint"):
        official.resolve_checkpoint(str(tmp_path))
    with pytest.raises(FileNotFoundError, match="No checkpoint at"):
        official.resolve_checkpoint(str(tmp_path / "nothing"))


def test_guided_checkpoint_is_recognised(tmp_path):
    g = InpaintGenerator(cnum=8, guided=True)
    g.build((1, None, None, 3))
    write_tf1_checkpoint(tmp_path, official_tensors(g))
    assert official.inspect_generator(str(tmp_path)) == {"cnum": 8, "guided": True}
