"""End-to-end training runs: in-process through run_training, and train.py as users run it."""

import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import time

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from gated_inpaint.inference.precision import dtype_policy
from gated_inpaint.models import InpaintGenerator, SNPatchGANDiscriminator
from gated_inpaint.testing import amplify_weights, official_tensors, write_tf1_checkpoint
from gated_inpaint.training import callbacks, trainer
from gated_inpaint.training.config import TrainConfig
from gated_inpaint.training.trainer import (
    build_model,
    initialise_from_official,
    make_checkpoint,
    make_optimizers,
    run_training,
)
from gated_inpaint.weights.run_folder import read_train_flags

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TINY_FLAGS = [
    "--image_size=32", "--batch_size=2", "--cnum=8", "--d_cnum=8", "--mask_type=strokes",
    "--log_every_steps=1", "--summary_every_steps=1000", "--g_lr=1e-3", "--d_lr=1e-3",
]  # fmt: skip


@pytest.fixture(scope="module")
def image_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    for i in range(6):
        ramp = np.linspace(0, 255, 48)[None, :, None] * rng.uniform(0.2, 1, size=(1, 1, 3))
        pixels = np.broadcast_to(ramp, (40, 48, 3)).astype(np.uint8)
        Image.fromarray(pixels).save(folder / f"img{i}.png")
    return str(folder)


def _config(image_dir, model_dir, **overrides):
    settings = dict(
        data=image_dir, val_data=image_dir, model_dir=str(model_dir), image_size=32,
        batch_size=2, cnum=8, d_cnum=8, mask_type="strokes", max_steps=4, save_every_steps=2,
        summary_every_steps=2, log_every_steps=1, val_steps=1, g_lr=1e-3, d_lr=1e-3,
    )  # fmt: skip
    settings.update(overrides)
    return TrainConfig(**settings)


def _checkpoint_steps(model_dir):
    state = tf.train.get_checkpoint_state(str(model_dir))
    if state is None:
        return []
    return [int(p.rsplit("-", 1)[1]) for p in state.all_model_checkpoint_paths]


def test_the_seed_fixes_the_initial_weights(image_dir, tmp_path):
    """Two new runs with one --seed start from the same networks (and so, with the seeded
    data order, train alike); another seed starts elsewhere."""

    def first_checkpoint(name, seed):
        config = _config(image_dir, tmp_path / name, val_data=None, max_steps=1, seed=seed)
        run_training(dataclasses.replace(config, save_every_steps=1, g_lr=0.0, d_lr=0.0))
        reader = tf.train.load_checkpoint(str(tmp_path / name))
        names = sorted(n for n in reader.get_variable_to_shape_map() if "kernel" in n)
        return [reader.get_tensor(n) for n in names]

    first, again, other = (first_checkpoint(*run) for run in (("a", 3), ("b", 3), ("c", 4)))
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, c) for a, c in zip(first, other, strict=True))


def test_run_writes_checkpoints_and_summaries_then_resumes(image_dir, tmp_path):
    result = run_training(_config(image_dir, tmp_path))
    assert result["step"] == 4 and result["interrupted_by"] is None
    assert _checkpoint_steps(tmp_path) == [2, 4]
    assert {"val_l1", "val_psnr", "val_ssim", "d_loss", "g_loss"} <= set(result["history"])
    events = [os.path.join(r, f) for r, _, fs in os.walk(tmp_path / "logs") for f in fs]
    tags = set()
    for path in events:
        for event in tf.compat.v1.train.summary_iterator(path):
            tags |= {value.tag for value in event.summary.value}
    assert {"d_loss", "g_loss", "l1_fine", "input|coarse|fine|completed|original", "psnr"} <= tags

    # Resumed with other learning rates: the flags' rates apply, not the checkpoint's.
    resumed = run_training(_config(image_dir, tmp_path, max_steps=6, g_lr=0.0, d_lr=0.0))
    assert resumed["step"] == 6
    assert _checkpoint_steps(tmp_path) == [2, 4, 6]
    at_4, at_6 = (_checkpoint_tensors(str(tmp_path / f"ckpt-{n}")) for n in (4, 6))
    kernels = [n for n in at_4 if n.startswith("networks/") and ".Skernel/" in n]
    assert len(kernels) == 42 + 6
    for name in kernels:
        np.testing.assert_array_equal(at_6[name], at_4[name], err_msg=name)
    assert run_training(_config(image_dir, tmp_path, max_steps=6))["step"] == 6


def test_a_run_on_a_remote_file_system_writes_and_resumes_there(image_dir, tmp_path, monkeypatch):
    """`ram://` is TensorFlow's in-memory file system; it stands for `gs://` on a TPU VM, which
    Python's own file functions cannot write either."""
    monkeypatch.chdir(tmp_path)  # where a local "ram:" folder would appear
    model_dir = "ram://runs/remote"
    config = _config(image_dir, model_dir, val_data=None, max_steps=2)
    run_training(config, flags_text="--cnum=8\n--d_cnum=8\n")
    assert tf.train.latest_checkpoint(model_dir).endswith("ckpt-2")
    assert read_train_flags(model_dir) == {"cnum": 8, "d_cnum": 8}
    assert not os.path.exists("ram:")
    assert run_training(dataclasses.replace(config, max_steps=3))["step"] == 3


def test_checkpoint_from_another_model_is_explained(image_dir, tmp_path):
    run_training(_config(image_dir, tmp_path, max_steps=2))
    with pytest.raises(ValueError, match="does not fit the model built from these flags"):
        run_training(_config(image_dir, tmp_path, cnum=12, max_steps=4))


def test_global_batch_must_split_over_replicas(image_dir, tmp_path, mirrored_strategy):
    with pytest.raises(ValueError, match="--batch_size=3"):
        run_training(_config(image_dir, tmp_path, batch_size=3), strategy=mirrored_strategy)


def test_nan_guard_stops_with_a_clear_error():
    class FakeModel:
        completed_steps = 7

    guard = callbacks.NaNGuard()
    guard.set_model(FakeModel())
    guard.on_train_batch_end(0, {"d_loss": 0.5, "g_loss": 1.0})
    with pytest.raises(FloatingPointError, match="g_loss became nan at step 7"):
        guard.on_train_batch_end(0, {"d_loss": 0.5, "g_loss": float("nan")})


def _checkpoint_tensors(prefix):
    reader = tf.train.load_checkpoint(prefix)
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()}


def test_nan_loss_stops_the_real_model_and_the_last_checkpoint_stays_as_it_was(
    image_dir, tmp_path, monkeypatch
):
    config = _config(image_dir, tmp_path, max_steps=3, save_every_steps=1, val_data=None)
    manager = tf.train.CheckpointManager(make_checkpoint(build_model(config)), str(tmp_path), 3)
    saved = manager.save(checkpoint_number=0)  # the run resumes from it
    tensors = _checkpoint_tensors(saved)
    real_make_dataset = trainer.make_dataset

    def nan_images(*args, training, **kwargs):
        dataset = real_make_dataset(*args, training=training, **kwargs)
        return dataset.map(lambda b: {**b, "image": b["image"] * np.nan}) if training else dataset

    monkeypatch.setattr(trainer, "make_dataset", nan_images)
    handler = signal.getsignal(signal.SIGINT)
    with pytest.raises(FloatingPointError, match="became nan at step 1.*checkpoint is intact"):
        run_training(config)
    assert signal.getsignal(signal.SIGINT) is handler  # not left to the stopped run
    assert tf.train.latest_checkpoint(str(tmp_path)) == saved
    for name, value in _checkpoint_tensors(saved).items():
        np.testing.assert_array_equal(value, tensors[name], err_msg=name)
    make_checkpoint(build_model(config)).restore(saved).assert_existing_objects_matched()


def _train_command(image_dir, model_dir, *extra):
    return [sys.executable, os.path.join(ROOT, "train.py"), f"--data={image_dir}",
            f"--model_dir={model_dir}", *TINY_FLAGS, *extra]  # fmt: skip


def _wait_for(predicate, process, timeout=240):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if process.poll() is not None:
            raise AssertionError(f"train.py exited early: {process.communicate()}")
        time.sleep(0.2)
    process.kill()
    raise AssertionError("timed out")


@pytest.mark.slow
def test_train_py_resumes_after_kill_and_after_sigterm(image_dir, tmp_path):
    model_dir = tmp_path / "run"
    command = _train_command(image_dir, model_dir, "--save_every_steps=2")
    process = subprocess.Popen(
        [*command, "--max_steps=100000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    _wait_for(lambda: 2 in _checkpoint_steps(model_dir), process)
    process.kill()  # kill -9 between checkpoints
    process.wait()
    saved = max(_checkpoint_steps(model_dir))
    assert (model_dir / "flags.txt").read_text().count("--cnum=8") == 1

    process = subprocess.Popen(
        [*command, "--max_steps=100000", "--save_every_steps=100000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    log = []

    def trained_two_more_steps():
        line = process.stdout.readline()
        log.append(line)
        return f"step {saved + 2}/" in line

    _wait_for(trained_two_more_steps, process)
    process.send_signal(signal.SIGTERM)
    output = "".join(log) + process.communicate(timeout=120)[0]
    assert process.returncode == 128 + signal.SIGTERM, output
    assert f"at step {saved}" in output  # resumed from the checkpoint, not from 0
    interrupted = max(_checkpoint_steps(model_dir))
    assert interrupted >= saved + 2
    assert "Interrupted at step" in output

    done = subprocess.run(
        [*command, f"--max_steps={interrupted + 1}"], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert f"at step {interrupted}" in done.stderr
    assert max(_checkpoint_steps(model_dir)) == interrupted + 1


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_multi_worker_with_two_local_processes(image_dir, tmp_path):
    cluster = {"worker": [f"127.0.0.1:{_free_port()}", f"127.0.0.1:{_free_port()}"]}
    model_dir = tmp_path / "mw"
    workers = []
    for index in range(2):
        env = dict(
            os.environ,
            TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}),
        )
        command = _train_command(
            image_dir,
            model_dir,
            "--strategy=multi_worker",
            "--max_steps=3",
            "--save_every_steps=2",
            "--batch_size=4",
        )
        workers.append(
            subprocess.Popen(
                command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
            )
        )
    outputs = [w.communicate(timeout=400)[0] for w in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs[0][-3000:] + outputs[1][:200]
    assert _checkpoint_steps(model_dir) == [2, 3]
    assert "step 3/3" in outputs[0] and "step 3/3" in outputs[1]


def test_init_from_official_loads_generator_and_discriminator(image_dir, tmp_path):
    g = InpaintGenerator(cnum=8)
    g.build((1, None, None, 3))
    amplify_weights(g)
    d = SNPatchGANDiscriminator(cnum=8)
    d.build((None, 32, 32, 4))
    tensors = official_tensors(g, d)
    write_tf1_checkpoint(tmp_path / "official", tensors)
    config = _config(
        image_dir,
        tmp_path / "run",
        max_steps=1,
        g_lr=0.0,
        d_lr=0.0,
        init_from_official=str(tmp_path / "official"),
        val_data=None,
    )
    run_training(config)
    reader = tf.train.load_checkpoint(str(tmp_path / "run"))
    names = reader.get_variable_to_shape_map()
    kernel = next(n for n in names if n.startswith("networks/generator.Sconv5.Skernel/"))
    np.testing.assert_array_equal(reader.get_tensor(kernel), tensors["inpaint_net/conv5/kernel"])
    bias = next(n for n in names if n.startswith("networks/discriminator.Sconv2.Sbias/"))
    np.testing.assert_array_equal(
        reader.get_tensor(bias), tensors["discriminator/sn_patch_gan/conv2/bias"]
    )


def test_mixed_precision_trains_in_bfloat16_and_restores_the_policy(image_dir, tmp_path):
    import keras

    result = run_training(
        _config(image_dir, tmp_path, max_steps=1, mixed_precision=True, val_data=None)
    )
    assert result["step"] == 1
    assert np.isfinite(result["history"]["g_loss"]).all()
    assert keras.mixed_precision.global_policy().name == "float32"


def _official_checkpoint(directory, d_cnum=None):
    """An official-style checkpoint of a cnum=8 generator, with a discriminator if `d_cnum`."""
    g = InpaintGenerator(cnum=8)
    g.build((1, None, None, 3))
    d = None
    if d_cnum is not None:
        d = SNPatchGANDiscriminator(cnum=d_cnum)
        d.build((None, 32, 32, 4))
    write_tf1_checkpoint(directory, official_tensors(amplify_weights(g), d))
    return str(directory), g


@pytest.mark.parametrize("d_cnum", [None, 16], ids=["no_discriminator", "other_d_cnum"])
def test_official_discriminator_that_does_not_fit_is_an_error_unless_scratch(tmp_path, d_cnum):
    path, official_g = _official_checkpoint(tmp_path / "official", d_cnum)
    model = build_model(TrainConfig(data="", model_dir="", cnum=8, d_cnum=8))
    d_before = [w.numpy().copy() for w in model.discriminator.weights]
    name = "'discriminator/sn_patch_gan/conv1/kernel'"
    reason = f"missing tensor {name}" if d_cnum is None else rf"{name} has shape \[5, 5, 4, 16\]"
    pattern = f"(?s){reason}.*--d_cnum.*--init_discriminator=scratch"
    with pytest.raises(ValueError, match=pattern):
        initialise_from_official(model, path, "official")
    kernel = model.generator.conv_layers()["conv5"].kernel
    assert not np.array_equal(kernel.numpy(), official_g.conv_layers()["conv5"].kernel.numpy())

    initialise_from_official(model, path, "scratch")
    np.testing.assert_array_equal(kernel.numpy(), official_g.conv_layers()["conv5"].kernel.numpy())
    for w, b in zip(model.discriminator.weights, d_before, strict=True):
        np.testing.assert_array_equal(w.numpy(), b)
    with pytest.raises(ValueError, match="--init_discriminator='random'"):
        initialise_from_official(model, path, "random")


def test_official_optimizer_is_one_adam_with_the_official_settings():
    config = TrainConfig(data="", model_dir="", g_lr=2e-4, d_lr=2e-4, beta2=0.99)
    g_opt, d_opt = make_optimizers(config)
    assert g_opt is not d_opt
    shared, same = make_optimizers(dataclasses.replace(config, official_optimizer=True))
    assert shared is same and isinstance(shared, keras.optimizers.Adam)
    assert (shared.beta_1, shared.beta_2, shared.epsilon) == (0.5, 0.99, 1e-8)
    np.testing.assert_allclose(float(shared.learning_rate.numpy()), 2e-4)
    with pytest.raises(ValueError, match="--g_lr=0.0001 and --d_lr=0.0002 must be equal"):
        make_optimizers(TrainConfig(data="", model_dir="", d_lr=2e-4, official_optimizer=True))
    model = build_model(
        TrainConfig(data="", model_dir="", cnum=8, d_cnum=8, official_optimizer=True)
    )
    assert model.g_optimizer is model.d_optimizer
    assert len(model.g_optimizer.variables) == 2 + 2 * len(model.trainable_variables)


def test_float16_policy_wraps_both_optimizers_for_loss_scaling():
    config = TrainConfig(data="", model_dir="", cnum=8, d_cnum=8)
    with dtype_policy("float16") as policy:
        model = build_model(config, policy)
    for optimizer in (model.g_optimizer, model.d_optimizer):
        assert isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
        assert isinstance(optimizer.inner_optimizer, keras.optimizers.Adam)
    assert model.generator.compute_dtype == model.discriminator.compute_dtype == "float16"
