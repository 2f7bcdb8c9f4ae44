"""The XLA-compiled training step (`jit_compile`, what a TPU runs): the same losses and weights
as the uncompiled step, under the default strategy (the whole D+G step one XLA program) and under
MirroredStrategy on the two logical CPUs of conftest; a step graph free of host callbacks and
of data-dependent shapes; and `run_training` with `jit_compile` end to end."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from gated_inpaint.layers.attention_chunks import RowChunks
from gated_inpaint.models import InpaintGenerator, InpaintingModel, SNPatchGANDiscriminator
from gated_inpaint.models.generator import DEFAULT_CHUNK_ELEMENTS
from gated_inpaint.training.config import TrainConfig
from gated_inpaint.training.trainer import build_model, needs_static_shapes, run_training

SIZE, BATCH, STEPS = 32, 4, 2
# The attention's scores in blocks of rows (2 blocks of 2 rows at SIZE 32), compiled too.
CHUNK_ELEMENTS = 1
# Ops that call back into Python on the host: a TPU cannot run them inside a step.
HOST_OPS = {"PyFunc", "PyFuncStateless", "EagerPyFunc", "NumpyFunction"}
# Ops whose output shape depends on the data: XLA needs every shape at compile time.
DYNAMIC_SHAPE_OPS = {"Where", "Unique", "UniqueV2", "UniqueWithCounts", "NonMaxSuppressionV5"}
# Compiled and uncompiled steps agree to float32 rounding (losses and weights are of order 1).
ATOL = 2e-6


def xla_hazards(function: tf.types.experimental.ConcreteFunction) -> list[str]:
    """What in a traced step (and the functions it calls: loop bodies, branches) a TPU cannot
    compile: host callbacks, ops of data-dependent output shape, outputs of unknown shape."""
    graph = function.graph
    found = []
    for op in graph.get_operations():
        if op.type in HOST_OPS | DYNAMIC_SHAPE_OPS:
            found.append(f"{op.type} {op.name}")
        for output in op.outputs:
            if (
                output.dtype not in (tf.resource, tf.variant)
                and not output.shape.is_fully_defined()
            ):
                found.append(f"{op.name} has shape {output.shape}")
    for called in graph.as_graph_def().library.function:
        found += [
            f"{node.op} {node.name} in {called.signature.name}"
            for node in called.node_def
            if node.op in HOST_OPS | DYNAMIC_SHAPE_OPS
        ]
    return found


def _batch(seed):
    rng = np.random.default_rng(seed)
    image = rng.uniform(-1, 1, (BATCH, SIZE, SIZE, 3)).astype("float32")
    mask = np.zeros((BATCH, SIZE, SIZE, 1), "float32")
    for i, (top, left) in enumerate(rng.integers(0, SIZE // 2, (BATCH, 2))):
        mask[i, top : top + 6, left : left + 7] = 1.0
    return {"image": image, "mask": mask}


def _model(strategy, jit_compile, model_class=InpaintingModel, **compile_args):
    keras.utils.set_random_seed(0)
    with strategy.scope():
        model = model_class(
            InpaintGenerator(cnum=4, attention_chunk_elements=CHUNK_ELEMENTS),
            SNPatchGANDiscriminator(cnum=4),
        )
        model.compile(
            g_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5),
            d_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5),
            jit_compile=jit_compile,
            **compile_args,
        )
        model.build()
    return model


def _train(strategy, jit_compile, **compile_args):
    """`(model, losses, weights before, weights after)` of STEPS steps on fixed batches."""
    model = _model(strategy, jit_compile, **compile_args)
    before = [w.numpy() for w in model.weights]
    batches = [_batch(seed) for seed in range(STEPS)]
    data = tf.data.Dataset.from_tensor_slices(
        {key: np.stack([b[key] for b in batches]) for key in batches[0]}
    )
    history = model.fit(data, steps_per_epoch=STEPS, verbose=0, shuffle=False)
    return model, history.history, before, [w.numpy() for w in model.weights]


@pytest.fixture(scope="module")
def uncompiled():
    return _train(tf.distribute.get_strategy(), jit_compile=False)


def _assert_same_training(reference, compiled):
    _, losses, before, after = reference
    _, compiled_losses, _, compiled_after = compiled
    assert compiled_losses.keys() == losses.keys()
    for name in losses:
        np.testing.assert_allclose(compiled_losses[name], losses[name], atol=ATOL, err_msg=name)
    for expected, got in zip(after, compiled_after, strict=True):
        np.testing.assert_allclose(got, expected, rtol=0, atol=ATOL)
    assert any(not np.allclose(a, b) for a, b in zip(before, after, strict=True))  # it trained


@pytest.mark.slow
def test_compiled_step_with_steps_per_execution_matches_the_uncompiled_step(
    uncompiled, monkeypatch
):
    block_rows = []
    pasted = RowChunks.pasted

    def spy(self, rows, attend):
        block_rows.append(rows)
        return pasted(self, rows, attend)

    monkeypatch.setattr(RowChunks, "pasted", spy)
    compiled = _train(tf.distribute.get_strategy(), jit_compile=True, steps_per_execution=2)
    assert compiled[0].xla_scope == "step" and compiled[0].jit_compile
    assert block_rows and set(block_rows) == {2}  # the attention ran in blocks of 2 of 4 rows
    _assert_same_training(uncompiled, compiled)


@pytest.mark.slow
def test_compiled_step_under_mirrored_strategy_matches_the_uncompiled_step(
    uncompiled, mirrored_strategy
):
    compiled = _train(mirrored_strategy, jit_compile=True)
    assert compiled[0].xla_scope == "generator" and not compiled[0].jit_compile
    _assert_same_training(uncompiled, compiled)


class _WithHostCallAndDynamicShape(InpaintingModel):
    """Injects what the walk must catch: a numpy_function and a boolean-masked loss term."""

    def generate(self, data):
        x_stage1, x_stage2, complete = super().generate(data)
        x_stage2 = tf.numpy_function(lambda x: x, [x_stage2], tf.float32)
        hole_mean = tf.reduce_mean(tf.boolean_mask(complete, data["mask"][..., 0] > 0))
        return x_stage1, tf.ensure_shape(x_stage2, complete.shape), complete + 0 * hole_mean


def _traced_step(model):
    spec = {key: tf.TensorSpec(value.shape, tf.float32) for key, value in _batch(0).items()}
    return tf.function(model.train_step, jit_compile=True).get_concrete_function(spec)


def test_the_step_graph_has_no_host_op_and_no_dynamic_shape():
    model = _model(tf.distribute.get_strategy(), jit_compile=True)
    assert xla_hazards(_traced_step(model)) == []

    injected = _model(tf.distribute.get_strategy(), True, _WithHostCallAndDynamicShape)
    found = " ".join(xla_hazards(_traced_step(injected)))
    assert "PyFunc" in found and "Where" in found and "has shape (None," in found


def test_the_walk_reaches_loop_bodies():
    @tf.function
    def loop(x):
        return tf.while_loop(
            lambda i, y: i < 2,
            lambda i, y: (i + 1, tf.ensure_shape(tf.numpy_function(np.sin, [y], tf.float32), [3])),
            (0, x),
            shape_invariants=(tf.TensorShape([]), tf.TensorShape([3])),
        )[1]

    assert any("in " in hazard for hazard in xla_hazards(loop.get_concrete_function(tf.ones(3))))


def test_build_model_compiles_with_xla_when_shapes_must_be_static():
    tiny = dict(data="", model_dir="", cnum=4, d_cnum=4)
    for config, static in (
        (TrainConfig(**tiny), False),
        (TrainConfig(**tiny, jit_compile=True), True),
        (TrainConfig(**tiny, strategy="tpu"), True),
    ):
        assert needs_static_shapes(config) is static
    plain = build_model(TrainConfig(**tiny))
    assert plain.xla_scope is None and not plain.jit_compile
    compiled = build_model(TrainConfig(**tiny, jit_compile=True))
    assert compiled.xla_scope == "step" and compiled.jit_compile
    assert compiled.generator.attention_chunk_elements == DEFAULT_CHUNK_ELEMENTS


@pytest.mark.slow
def test_run_training_with_jit_compile_drops_the_partial_validation_batch(tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    rng = np.random.default_rng(0)
    for i in range(5):  # 5 validation images in batches of 2: the last batch is dropped
        Image.fromarray(rng.integers(0, 256, (20, 24, 3), np.uint8)).save(images / f"{i}.png")
    config = TrainConfig(
        data=str(images), val_data=str(images), model_dir=str(tmp_path / "run"), image_size=16,
        batch_size=2, cnum=4, d_cnum=4, mask_type="bbox", max_steps=2, save_every_steps=2,
        summary_every_steps=2, log_every_steps=1, val_steps=3, jit_compile=True,
    )  # fmt: skip
    result = run_training(config)
    assert result["step"] == 2
    assert np.isfinite(result["history"]["val_l1"]).all()
