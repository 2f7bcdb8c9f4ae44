"""The trainable DeepFill v2 GAN: alternating SN-PatchGAN hinge updates of D and G."""

from __future__ import annotations

import keras
import tensorflow as tf

from gated_inpaint.models import losses
from gated_inpaint.models.discriminator import SNPatchGANDiscriminator
from gated_inpaint.models.generator import InpaintGenerator

LOSS_NAMES = ("d_loss", "g_loss", "g_adv_loss", "l1_coarse", "l1_fine")
EVAL_METRIC_NAMES = ("l1", "psnr", "ssim")
# Strategies that place each replica's variables on its own device.
_DEVICE_PER_REPLICA = (tf.distribute.MirroredStrategy, tf.distribute.MultiWorkerMirroredStrategy)


def paste(generated, image, mask):
    """Completed image: generated pixels in the hole (mask 1), `image` elsewhere."""
    return generated * mask + image * (1.0 - mask)


@keras.saving.register_keras_serializable(package="gated_inpaint")
class InpaintingModel(keras.Model):
    """Generator + SN-PatchGAN discriminator, trained by `fit()` under any `tf.distribute` strategy.

    Each `train_step` does one discriminator update, then one generator update, on the
    same batch (the official trainer draws a fresh batch for each; with shuffled data
    the difference is only which images are seen together):

    - D: hinge loss `0.5*mean(relu(1 - D(real))) + 0.5*mean(relu(1 + D(completed)))`,
      D's input being the image (real, or the generator output pasted into the known
      pixels) with the mask (and the edge map, guided) as extra channels;
    - G: `gan_weight * -mean(D(completed)) + l1_coarse_weight * L1(x_stage1) +
      l1_fine_weight * L1(x_stage2)`, L1 over the whole image (official 1:1:1).

    Both D calls are training calls, so the spectral-norm `u` vectors advance twice
    per step, as in the official code. Losses are divided by the number of replicas
    before the gradients, so the update is that of the global batch. With one replica
    and `keras.optimizers.SGD` for both networks, a step moves every variable by exactly
    `-learning_rate * gradient`: that is how the tests read what a step did.

    Args:
        generator: an `InpaintGenerator` (default: the official size, `cnum=48`).
        discriminator: an `SNPatchGANDiscriminator` (default `cnum=64`); its `guided`
            setting must match the generator's.
        l1_coarse_weight, l1_fine_weight, gan_weight: loss weights (official 1, 1, 1).
        **kwargs: base `keras.Model` arguments.

    Data: dicts with `"image"` `[B, H, W, 3]` in [-1, 1], `"mask"` `[B, H, W, 1]` in
    {0, 1} (1 = hole) and, guided, `"edge"` `[B, H, W, 1]` in {0, 1}.

    Example:
    >>> model = InpaintingModel(InpaintGenerator(cnum=8), SNPatchGANDiscriminator(cnum=8))
    >>> model.compile(g_optimizer=keras.optimizers.Adam(1e-4, beta_1=0.5),
    ...               d_optimizer=keras.optimizers.Adam(1e-4, beta_1=0.5))
    >>> model.fit(dataset, steps_per_epoch=100)  # doctest: +SKIP

    Reference: arXiv 1806.03589, Sections 3.3 and 4.
    """

    def __init__(
        self,
        generator: InpaintGenerator | None = None,
        discriminator: SNPatchGANDiscriminator | None = None,
        l1_coarse_weight: float = 1.0,
        l1_fine_weight: float = 1.0,
        gan_weight: float = 1.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.generator = generator or InpaintGenerator()
        self.discriminator = discriminator or SNPatchGANDiscriminator(guided=self.generator.guided)
        if self.generator.guided != self.discriminator.guided:
            raise ValueError(
                f"Generator guided={self.generator.guided} but discriminator "
                f"guided={self.discriminator.guided}: both must take the edge channel or neither."
            )
        self.l1_coarse_weight = float(l1_coarse_weight)
        self.l1_fine_weight = float(l1_fine_weight)
        self.gan_weight = float(gan_weight)
        self.loss_trackers = {name: keras.metrics.Mean(name=name) for name in LOSS_NAMES}
        self.eval_trackers = {name: keras.metrics.Mean(name=name) for name in EVAL_METRIC_NAMES}
        self.g_optimizer = None
        self.d_optimizer = None
        self.xla_scope = None
        self._compiled_generator = None

    def compile(self, g_optimizer, d_optimizer, jit_compile: bool = False, **kwargs):
        """Sets the two optimizers (create them inside the strategy scope) and XLA compilation.

        Passing one optimizer as both reproduces the official trainer, whose single Adam
        serves D and G: its update count, and so Adam's bias correction, then advances
        twice a step (D at count 2t-1, G at 2t in step t).

        `jit_compile=True` compiles with XLA, as a TPU must (static shapes, no host ops).
        What is compiled depends on the strategy, recorded in `xla_scope`:

        - `"step"`: the whole D+G step (spectral-norm updates and contextual attention
          included) is one XLA program; the default and one-device strategies, and
          `TPUStrategy`, which compiles every step anyway (Keras' own flag stays off there).
        - `"generator"`: `MirroredStrategy` and `MultiWorkerMirroredStrategy` keep each
          replica's variables on its own device, which one XLA program cannot reach, and
          each spectral-norm `u` update is a cross-replica sync point, which cannot sit
          inside a compiled function. So each replica compiles its generator's forward and
          backward pass (most of the work); D and the optimizer updates run uncompiled.

        Without it (`xla_scope` None) nothing is forced: the default is an explicit False
        because Keras' `"auto"` would compile on GPU machines only.
        """
        strategy = tf.distribute.get_strategy()
        self.xla_scope = None
        if jit_compile:
            self.xla_scope = "generator" if isinstance(strategy, _DEVICE_PER_REPLICA) else "step"
        keras_jit = self.xla_scope == "step" and not isinstance(strategy, tf.distribute.TPUStrategy)
        super().compile(jit_compile=keras_jit, **kwargs)
        self.g_optimizer = g_optimizer
        self.d_optimizer = d_optimizer
        self._compiled_generator = None
        if self.xla_scope == "generator":
            self._compiled_generator = tf.function(self.generator, jit_compile=True)

    def build(self, input_shape=None):
        """Creates the networks' weights and, once compiled, the optimizers' slots."""
        if not self.generator.built:
            self.generator.build((None, None, None, 3))
        if not self.discriminator.built:
            self.discriminator.build((None, None, None, self.discriminator.input_channels))
        g_vars = self.generator.trainable_variables
        d_vars = self.discriminator.trainable_variables
        if self.g_optimizer is not None and self.g_optimizer is self.d_optimizer:
            self.g_optimizer.build(g_vars + d_vars)
        elif self.g_optimizer is not None:
            self.g_optimizer.build(g_vars)
            self.d_optimizer.build(d_vars)
        self.built = True

    @property
    def completed_steps(self) -> int:
        """Training steps done, one D and one G update each: the generator optimizer's
        update count, halved when one optimizer serves both networks."""
        updates = int(self.g_optimizer.iterations.numpy())
        return updates // 2 if self.g_optimizer is self.d_optimizer else updates

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        """Skips Keras' symbolic build: `build()` already creates every variable.

        Keras 3 would take a batch from the distributed iterator and `reduce` it across
        replicas, which `MultiWorkerMirroredStrategy` cannot do for a dict of tensors.
        """

    @property
    def metrics(self):
        return [*self.loss_trackers.values(), *self.eval_trackers.values()]

    def call(self, inputs, training=None):
        """Returns the completed image `[B, H, W, 3]` in [-1, 1] for a data dict."""
        _, _, complete = self.generate(inputs)
        return complete

    def generate(self, data):
        """`(x_stage1, x_stage2, completed)`, float32 `[B, H, W, 3]`, for a data dict."""
        image, mask, edge = data["image"], data["mask"], data.get("edge")
        generator = self._compiled_generator or self.generator
        x_stage1, x_stage2 = generator(image, mask, edge)
        # Losses and the pasted image in float32 also under a mixed-precision policy.
        x_stage1, x_stage2 = tf.cast(x_stage1, tf.float32), tf.cast(x_stage2, tf.float32)
        return x_stage1, x_stage2, paste(x_stage2, image, mask)

    def _discriminate(self, images, data, training):
        channels = [images, data["mask"]]
        if "edge" in data:
            channels.append(data["edge"] * data["mask"])
        scores = self.discriminator(tf.concat(channels, axis=-1), training=training)
        return tf.cast(scores, tf.float32)

    def train_step(self, data):
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        image = data["image"]

        with tf.GradientTape() as g_tape:
            # One generator forward serves both updates: G's weights do not change in between.
            x_stage1, x_stage2, complete = self.generate(data)
            with g_tape.stop_recording():
                with tf.GradientTape() as d_tape:
                    fakes = tf.stop_gradient(complete)
                    both = tf.concat([image, fakes], 0)
                    scores = self._discriminate(both, _doubled(data), True)
                    real_scores, fake_scores = tf.split(scores, 2)
                    d_loss = losses.discriminator_hinge_loss(real_scores, fake_scores)
                    scaled = self.d_optimizer.scale_loss(d_loss / replicas)
                d_vars = self.discriminator.trainable_variables
                d_grads = d_tape.gradient(scaled, d_vars)
                self.d_optimizer.apply_gradients(zip(d_grads, d_vars, strict=True))

            fake_scores = self._discriminate(complete, data, True)  # D after its update
            g_adv = losses.generator_hinge_loss(fake_scores)
            l1_coarse = losses.l1_loss(image, x_stage1)
            l1_fine = losses.l1_loss(image, x_stage2)
            g_loss = (
                self.gan_weight * g_adv
                + self.l1_coarse_weight * l1_coarse
                + self.l1_fine_weight * l1_fine
            )
            scaled = self.g_optimizer.scale_loss(g_loss / replicas)
        g_vars = self.generator.trainable_variables
        self.g_optimizer.apply_gradients(zip(g_tape.gradient(scaled, g_vars), g_vars, strict=True))

        values = (d_loss, g_loss, g_adv, l1_coarse, l1_fine)
        for name, value in zip(LOSS_NAMES, values, strict=True):
            self.loss_trackers[name].update_state(value)
        return _reducible({name: self.loss_trackers[name].result() for name in LOSS_NAMES})

    def test_step(self, data):
        _, _, complete = self.generate(data)
        target = (data["image"] + 1.0) / 2.0
        output = tf.clip_by_value((complete + 1.0) / 2.0, 0.0, 1.0)
        per_image = {
            "l1": tf.reduce_mean(tf.abs(target - output), axis=[1, 2, 3]),
            "psnr": tf.image.psnr(target, output, max_val=1.0),
            "ssim": tf.image.ssim(target, output, max_val=1.0),
        }
        for name in EVAL_METRIC_NAMES:
            self.eval_trackers[name].update_state(per_image[name])
        return _reducible({name: self.eval_trackers[name].result() for name in EVAL_METRIC_NAMES})

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "generator": keras.saving.serialize_keras_object(self.generator),
                "discriminator": keras.saving.serialize_keras_object(self.discriminator),
                "l1_coarse_weight": self.l1_coarse_weight,
                "l1_fine_weight": self.l1_fine_weight,
                "gan_weight": self.gan_weight,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["generator"] = keras.saving.deserialize_keras_object(config["generator"])
        config["discriminator"] = keras.saving.deserialize_keras_object(config["discriminator"])
        return cls(**config)


def _reducible(logs):
    """The step's logs in a form Keras can average over replicas.

    Under `MultiWorkerMirroredStrategy` Keras 3 reduces each log with
    `strategy.reduce("MEAN", value, axis=0)`, which fails on scalars: there each value
    gets a leading axis of 1, which that reduction removes again.
    """
    if isinstance(tf.distribute.get_strategy(), tf.distribute.MultiWorkerMirroredStrategy):
        return {name: value[tf.newaxis] for name, value in logs.items()}
    return logs


def _doubled(data):
    """The per-sample conditioning (mask, edge) repeated for a [real; completed] batch."""
    return {key: tf.concat([value, value], 0) for key, value in data.items() if key != "image"}
