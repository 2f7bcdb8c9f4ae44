import os

import numpy as np
import pytest
import tensorflow as tf

from gated_inpaint import convert
from gated_inpaint.convert import CheckpointMismatchError, load_official_checkpoint
from gated_inpaint.models import InpaintGenerator, SNPatchGANDiscriminator
from tests.conftest import amplify_weights


def _official_name(conv_name: str) -> str:
    """TF1 scope of a generator conv, written out independently of convert's table."""
    if conv_name.endswith("_upsample_conv"):
        return f"{conv_name[: -len('_conv')]}/{conv_name}"
    return conv_name


def _official_tensors(generator=None, discriminator=None) -> dict[str, np.ndarray]:
    tensors = {}
    if generator is not None:
        for name, layer in generator.conv_layers().items():
            scope = f"inpaint_net/{_official_name(name)}"
            tensors[f"{scope}/kernel"] = layer.kernel.numpy()
            tensors[f"{scope}/bias"] = layer.bias.numpy()
    if discriminator is not None:
        for i, sn in enumerate(discriminator.convs, start=1):
            scope = f"discriminator/sn_patch_gan/conv{i}"
            tensors[f"{scope}/kernel"] = sn.layer.kernel.numpy()
            tensors[f"{scope}/bias"] = sn.layer.bias.numpy()
            tensors[f"{scope}/kernel_sn/u"] = sn.u.numpy()
    return tensors


def write_tf1_checkpoint(directory, tensors, name="model.ckpt-0", state_file="checkpoint"):
    """Writes a TF1 name-based checkpoint (as tf.compat.v1.train.Saver does) and its state file."""
    os.makedirs(directory, exist_ok=True)
    prefix = os.path.join(str(directory), name)
    keys = sorted(tensors)
    tf.raw_ops.SaveV2(
        prefix=prefix,
        tensor_names=keys,
        shape_and_slices=[""] * len(keys),
        tensors=[tf.constant(tensors[k]) for k in keys],
    )
    if state_file:
        with open(os.path.join(str(directory), state_file), "w") as f:
            f.write(f'model_checkpoint_path: "{name}"\nall_model_checkpoint_paths: "{name}"\n')
    return prefix


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
    write_tf1_checkpoint(tmp_path, _official_tensors(g, d))
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
    write_tf1_checkpoint(tmp_path, _official_tensors(g, d))
    g_rgb, d_rgb = InpaintGenerator(cnum=8), SNPatchGANDiscriminator(cnum=8)
    load_official_checkpoint(str(tmp_path), g_rgb, d_rgb, channel_order="rgb")
    bgr, mask = _inputs(rng)
    rgb = bgr[..., ::-1].copy()
    for ours, official in zip(g_rgb(rgb, mask), g(bgr, mask), strict=True):
        assert np.abs(official.numpy()).mean() > 1e-2
        np.testing.assert_allclose(ours, official.numpy()[..., ::-1], atol=1e-5)
    x_bgr = np.concatenate([bgr, mask], axis=-1)
    x_rgb = np.concatenate([rgb, mask], axis=-1)
    np.testing.assert_allclose(d_rgb(x_rgb), d(x_bgr), atol=1e-5)


def test_missing_tensor_is_named_and_nothing_is_loaded(tmp_path, networks):
    g, _ = networks
    tensors = _official_tensors(g)
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
    tensors = _official_tensors(g)
    tensors["inpaint_net/conv5/kernel"] = np.zeros((3, 3, 8, 16), "float32")
    write_tf1_checkpoint(tmp_path, tensors)
    with pytest.raises(
        CheckpointMismatchError, match=r"conv5/kernel.*\[3, 3, 8, 16\].*\[3, 3, 16, 32\]"
    ):
        load_official_checkpoint(str(tmp_path), InpaintGenerator(cnum=8))


def test_generator_only_checkpoint_cannot_fill_a_discriminator(tmp_path, networks):
    g, _ = networks
    write_tf1_checkpoint(tmp_path, _official_tensors(g))
    with pytest.raises(
        CheckpointMismatchError, match="discriminator/sn_patch_gan/conv1/kernel_sn/u"
    ):
        load_official_checkpoint(str(tmp_path), discriminator=SNPatchGANDiscriminator(cnum=8))


def test_checkpoint_locations(tmp_path, networks):
    g, _ = networks
    tensors = _official_tensors(g)
    prefix = write_tf1_checkpoint(tmp_path / "state", tensors)
    assert convert.resolve_checkpoint(str(tmp_path / "state")) == prefix
    assert convert.resolve_checkpoint(prefix) == prefix
    released = write_tf1_checkpoint(tmp_path / "release", tensors, "snap-0", "checkpoint.txt")
    assert convert.resolve_checkpoint(str(tmp_path / "release")) == released
    lone = write_tf1_checkpoint(tmp_path / "lone", tensors, "snap-7", state_file=None)
    assert convert.resolve_checkpoint(str(tmp_path / "lone")) == lone
    with pytest.raises(FileNotFoundError, match="No TF1 checkpoint"):
        convert.resolve_checkpoint(str(tmp_path))
    with pytest.raises(FileNotFoundError, match="No checkpoint at"):
        convert.resolve_checkpoint(str(tmp_path / "nothing"))


def test_command_writes_a_loadable_weights_file(tmp_path, networks, rng, capsys):
    g, _ = networks
    write_tf1_checkpoint(tmp_path / "ckpt", _official_tensors(g))
    out = str(tmp_path / "generator.weights.h5")
    argv = ["--checkpoint_dir", str(tmp_path / "ckpt"), "--output", out, "--channel_order", "bgr"]
    assert convert.main(argv) == 0
    assert "cnum=8, guided=False" in capsys.readouterr().out
    restored = InpaintGenerator(cnum=8)
    restored.build((1, None, None, 3))
    restored.load_weights(out)
    image, mask = _inputs(rng)
    np.testing.assert_array_equal(restored(image, mask)[1], g(image, mask)[1])
    assert convert.main(argv) == 1
    assert "--overwrite" in capsys.readouterr().err
    assert convert.main([*argv, "--overwrite"]) == 0
    assert convert.main([*argv[:3], str(tmp_path / "g.h5")]) == 1
    assert ".weights.h5" in capsys.readouterr().err


def test_guided_checkpoint_is_recognised(tmp_path):
    g = InpaintGenerator(cnum=8, guided=True)
    g.build((1, None, None, 3))
    write_tf1_checkpoint(tmp_path, _official_tensors(g))
    assert convert.inspect_generator(str(tmp_path)) == {"cnum": 8, "guided": True}


def test_console_script_convert_subcommand(tmp_path, networks, capsys):
    from gated_inpaint import cli

    g, _ = networks
    write_tf1_checkpoint(tmp_path / "ckpt", _official_tensors(g))
    out = str(tmp_path / "g.weights.h5")
    assert cli.main(["convert", "--checkpoint_dir", str(tmp_path / "ckpt"), "--output", out]) == 0
    assert "RGB" in capsys.readouterr().out and os.path.exists(out)
    assert cli.main(["convert", "--checkpoint_dir", str(tmp_path / "none"), "--output", out]) == 1
    assert "No checkpoint at" in capsys.readouterr().err
