"""Trains DeepFill v2 from a `TrainConfig`: strategy, data, model, checkpoints, `fit()`.

`train.py` maps its flags onto `TrainConfig` and calls `run_training`; tests call it directly.
"""

from __future__ import annotations

import math
import os

import keras
import tensorflow as tf
from absl import logging

from gated_inpaint.data.pipeline import SkipCounter, make_dataset
from gated_inpaint.models import InpaintGenerator, InpaintingModel, SNPatchGANDiscriminator
from gated_inpaint.training import callbacks, strategies
from gated_inpaint.training.config import DISCRIMINATOR_INITS, TrainConfig
from gated_inpaint.training.start_checks import check_training_start
from gated_inpaint.weights.official import CheckpointMismatchError, load_official_checkpoint
from gated_inpaint.weights.run_folder import network_variables, write_train_flags

CHECKPOINTS_TO_KEEP = 3
ADAM_EPSILON = 1e-8  # TF1 AdamOptimizer's default, which the official trainer uses


def set_precision_policy(mixed_precision: bool) -> str:
    """Sets the global Keras dtype policy: bfloat16 on CPU/TPU, float16 on GPU."""
    if not mixed_precision:
        policy = "float32"
    elif tf.config.list_logical_devices("GPU"):
        policy = "mixed_float16"
    else:
        policy = "mixed_bfloat16"
    keras.mixed_precision.set_global_policy(policy)
    return policy


def _optimizer(lr: float, config: TrainConfig, policy: str) -> keras.optimizers.Optimizer:
    optimizer = keras.optimizers.Adam(
        lr, beta_1=config.beta1, beta_2=config.beta2, epsilon=ADAM_EPSILON
    )
    if policy == "mixed_float16":
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


def make_optimizers(
    config: TrainConfig, policy: str = "float32"
) -> tuple[keras.optimizers.Optimizer, keras.optimizers.Optimizer]:
    """`(g_optimizer, d_optimizer)`: an Adam each or, with `official_optimizer`, one Adam
    serving both (at `g_lr`, which `TrainConfig` then makes equal `d_lr`), as the official
    trainer; under `mixed_float16` wrapped for loss scaling."""
    if not config.official_optimizer:
        return _optimizer(config.g_lr, config, policy), _optimizer(config.d_lr, config, policy)
    shared = _optimizer(config.g_lr, config, policy)
    return shared, shared


def needs_static_shapes(config: TrainConfig) -> bool:
    """Whether the run is XLA-compiled (`--jit_compile`, or a TPU, which always compiles), and so
    needs every batch the same shape: full batches only, validation included."""
    return config.jit_compile or config.strategy == "tpu"


def build_model(config: TrainConfig, policy: str = "float32") -> InpaintingModel:
    """The compiled, built `InpaintingModel` (call inside the strategy scope)."""
    model = InpaintingModel(
        InpaintGenerator(cnum=config.cnum, guided=config.guided),
        SNPatchGANDiscriminator(cnum=config.d_cnum, guided=config.guided),
        l1_coarse_weight=config.l1_coarse_weight,
        l1_fine_weight=config.l1_fine_weight,
        gan_weight=config.gan_weight,
    )
    g_optimizer, d_optimizer = make_optimizers(config, policy)
    model.compile(
        g_optimizer=g_optimizer,
        d_optimizer=d_optimizer,
        jit_compile=config.jit_compile,
        steps_per_execution=config.steps_per_execution,
    )
    model.build()
    return model


def make_checkpoint(model: InpaintingModel) -> tf.train.Checkpoint:
    """Both networks (with the spectral-norm `u` vectors) and both optimizers."""
    return tf.train.Checkpoint(
        networks=network_variables(model.generator, model.discriminator),
        g_optimizer=model.g_optimizer,
        d_optimizer=model.d_optimizer,
    )


def _restore_or_initialise(model, checkpoint, manager, config) -> int:
    latest = manager.latest_checkpoint
    if latest:
        try:
            checkpoint.restore(latest).assert_existing_objects_matched()
        except (AssertionError, ValueError) as error:
            raise ValueError(
                f"The checkpoint {latest} does not fit the model built from these flags (compare "
                f"with {os.path.join(config.model_dir, 'flags.txt')}), or use a new --model_dir. "
                f"Details: {error}"
            ) from error
        # The learning rates are optimizer variables, so the checkpoint holds them: the flags win.
        model.g_optimizer.learning_rate = config.g_lr
        model.d_optimizer.learning_rate = config.d_lr
        step = model.completed_steps
        logging.info(
            "Resuming from %s at step %d (--g_lr=%g --d_lr=%g).",
            latest,
            step,
            config.g_lr,
            config.d_lr,
        )
        return step
    if config.init_from_official:
        initialise_from_official(model, config.init_from_official, config.init_discriminator)
    return 0


def initialise_from_official(model: InpaintingModel, path: str, discriminator: str) -> None:
    """Loads an official TF1 checkpoint into the generator and, unless `discriminator` is
    `"scratch"`, into the discriminator (kernels, biases and `u`); checks every tensor first.

    Raises:
        ValueError: `discriminator` is not one of `DISCRIMINATOR_INITS`, or the checkpoint
            does not fit a network to load (the message names each tensor and the flags).
    """
    if discriminator not in DISCRIMINATOR_INITS:
        raise ValueError(
            f"--init_discriminator={discriminator!r}: expected one of "
            f"{', '.join(DISCRIMINATOR_INITS)}."
        )
    with_d = discriminator == "official"
    try:
        loaded = load_official_checkpoint(
            path, generator=model.generator, discriminator=model.discriminator if with_d else None
        )
    except CheckpointMismatchError as error:
        advice = "Check --cnum and --guided against the checkpoint."
        if with_d:
            advice = (
                "Check --cnum, --guided and --d_cnum against the checkpoint, or pass "
                "--init_discriminator=scratch to train the discriminator from scratch (released "
                "checkpoints may hold no discriminator)."
            )
        raise ValueError(
            f"--init_from_official={path} cannot initialise this model: {error}\n{advice}"
        ) from error
    networks = "generator and discriminator" if with_d else "generator (D from scratch)"
    logging.info("Initialised the %s from %s (%d tensors).", networks, path, len(loaded))


def _datasets(config: TrainConfig, strategy, start_step: int, skipped: SkipCounter):
    """Distributed training (and validation) datasets, recording unreadable files in `skipped`.

    The training order is seeded by `(seed, start_step)`: a resumed run continues with a
    new deterministic order rather than replaying the images of the steps already done.
    """
    common = dict(
        image_size=config.image_size,
        crop=config.crop,
        guided=config.guided,
        edge_threshold=config.edge_threshold,
        mask_type=config.mask_type,
        data_dir=config.data_dir,
        tfds_download=config.tfds_download,
        skip_counter=skipped,
    )

    def train_fn(context):
        return make_dataset(
            config.data,
            batch_size=context.get_per_replica_batch_size(config.batch_size),
            training=True,
            seed=config.seed + start_step,
            input_context=context,
            **common,
        )

    def val_fn(context):
        return make_dataset(
            config.val_data,
            batch_size=context.get_per_replica_batch_size(config.batch_size),
            training=False,
            seed=config.seed,
            input_context=context,
            drop_remainder=needs_static_shapes(config),
            **common,
        )

    train = strategy.distribute_datasets_from_function(train_fn)
    val = strategy.distribute_datasets_from_function(val_fn) if config.val_data else None
    sample_source = config.val_data or config.data
    sample = make_dataset(
        sample_source,
        batch_size=min(4, config.batch_size),
        training=False,
        seed=config.seed,
        **common,
    )
    return train, val, next(iter(sample))


def run_training(
    config: TrainConfig,
    strategy: tf.distribute.Strategy | None = None,
    flags_text: str | None = None,
) -> dict:
    """Trains until `config.max_steps`, resuming from the latest checkpoint in `model_dir`.

    Everything that can fail at the start (the strategy, data sources, the run folder, the
    model, the checkpoint to resume or initialise from, the datasets) is done before the
    first write into `model_dir`: a failed start leaves it as it was, or absent.

    Args:
        config: the run's settings.
        strategy: overrides `config.strategy` (tests pass their own).
        flags_text: written to `model_dir/flags.txt` once training starts (train.py passes
            its resolved flags); None writes no such file.

    Returns:
        `{"step": final step, "interrupted_by": signal number or None, "history": ...}`.

    Raises:
        FileNotFoundError, ValueError: a bad start (see `check_training_start`), in one
            paragraph naming the flag.
    """
    # First: MultiWorkerMirroredStrategy must be made before TensorFlow runs any op.
    strategy = strategy or strategies.make_strategy(config.strategy, config.tpu)
    check_training_start(config)
    if config.batch_size % strategy.num_replicas_in_sync:
        raise ValueError(
            f"--batch_size={config.batch_size} (the global batch) must be divisible by the "
            f"{strategy.num_replicas_in_sync} replicas of --strategy={config.strategy}."
        )
    previous_policy = keras.mixed_precision.global_policy()
    try:
        return _train(config, strategy, set_precision_policy(config.mixed_precision), flags_text)
    finally:
        keras.mixed_precision.set_global_policy(previous_policy)


def _train(
    config: TrainConfig, strategy: tf.distribute.Strategy, policy: str, flags_text: str | None
) -> dict:
    keras.utils.set_random_seed(config.seed)  # the initial weights of a new run
    with strategy.scope():
        model = build_model(config, policy)
    checkpoint = make_checkpoint(model)
    save_dir = strategies.worker_dir(config.model_dir, strategy)
    manager = tf.train.CheckpointManager(checkpoint, save_dir, max_to_keep=CHECKPOINTS_TO_KEEP)
    start_step = _restore_or_initialise(model, checkpoint, manager, config)
    if start_step >= config.max_steps:
        logging.info(
            "Already at step %d >= --max_steps=%d: nothing to do.", start_step, config.max_steps
        )
        return {"step": start_step, "interrupted_by": None, "history": {}}

    skipped = SkipCounter()
    train, val, sample = _datasets(config, strategy, start_step, skipped)
    tf.io.gfile.makedirs(config.model_dir)  # the first write (gs:// too)
    if flags_text is not None and strategies.is_chief(strategy):
        write_train_flags(config.model_dir, flags_text)
    saver = callbacks.CheckpointAndStop(manager, config.save_every_steps, config.max_steps)
    run_callbacks = [
        callbacks.NaNGuard(),
        saver,
        callbacks.ProgressLogger(config.log_every_steps, config.max_steps),
    ]
    if strategies.is_chief(strategy):
        run_callbacks.append(
            callbacks.TensorBoardSummaries(
                os.path.join(config.model_dir, "logs"), config.summary_every_steps, sample
            )
        )
    epoch_steps = config.summary_every_steps
    try:
        history = model.fit(
            train,
            steps_per_epoch=epoch_steps,
            epochs=math.ceil(config.max_steps / epoch_steps),
            initial_epoch=start_step // epoch_steps,
            validation_data=val,
            validation_steps=config.val_steps if val is not None else None,
            callbacks=run_callbacks,
            shuffle=False,  # the pipeline shuffles, seeded
            verbose=0,
        )
    finally:  # also after an error, where Keras skips on_train_end
        saver.restore_signal_handlers()
    step = model.completed_steps
    logging.info("Stopped at step %d; checkpoints in %s.", step, config.model_dir)
    if skipped.count:
        logging.warning(
            "Skipped %d unreadable image(s) during training: %s",
            skipped.count,
            ", ".join(skipped.files),
        )
    return {"step": step, "interrupted_by": saver.signal_received, "history": history.history}
