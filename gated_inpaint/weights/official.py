"""Load the official DeepFill v2 TF1 checkpoints (Places2, CelebA-HQ) into the Keras networks.

The official checkpoints are TF1 name-based checkpoints; their tensor names are the
official variable scopes, which are also our layer names, so conversion is the table
below. TF1 `tf.layers` kernels are HWIO, the layout of Keras convolutions: nothing is
transposed. The official weights expect BGR images; with `channel_order="rgb"` the
first and last layers' colour channels are reversed so the converted model gives the
official result on RGB images (spec section 10.4).

Command line: `gated-inpaint convert --checkpoint_dir DIR --output generator.weights.h5`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from gated_inpaint.models import InpaintGenerator, SNPatchGANDiscriminator
from gated_inpaint.models.generator import FIRST_CONV
from gated_inpaint.weights.options import CHANNEL_ORDERS
from gated_inpaint.weights.settings import generator_settings

GENERATOR_SCOPE = "inpaint_net"
DISCRIMINATOR_SCOPE = "discriminator/sn_patch_gan"

# Official scope of every generator convolution, in network order; the Keras layer
# name is the last path component.
GENERATOR_LAYERS = (
    "conv1", "conv2_downsample", "conv3", "conv4_downsample", "conv5", "conv6",
    "conv7_atrous", "conv8_atrous", "conv9_atrous", "conv10_atrous", "conv11", "conv12",
    "conv13_upsample/conv13_upsample_conv", "conv14", "conv15_upsample/conv15_upsample_conv",
    "conv16", "conv17",
    "xconv1", "xconv2_downsample", "xconv3", "xconv4_downsample", "xconv5", "xconv6",
    "xconv7_atrous", "xconv8_atrous", "xconv9_atrous", "xconv10_atrous",
    "pmconv1", "pmconv2_downsample", "pmconv3", "pmconv4_downsample", "pmconv5", "pmconv6",
    "pmconv9", "pmconv10",
    "allconv11", "allconv12", "allconv13_upsample/allconv13_upsample_conv", "allconv14",
    "allconv15_upsample/allconv15_upsample_conv", "allconv16", "allconv17",
)  # fmt: skip
IMAGE_INPUT_LAYERS = ("conv1", "xconv1", "pmconv1")
IMAGE_OUTPUT_LAYERS = ("conv17", "allconv17")
DISCRIMINATOR_LAYERS = tuple(f"conv{i}" for i in range(1, 7))


class CheckpointMismatchError(ValueError):
    """The checkpoint lacks a tensor the model needs, or has it with another shape."""


@dataclass(frozen=True)
class _Assignment:
    key: str  # TF1 checkpoint tensor name
    variable: object  # keras.Variable
    flip_axis: int | None  # colour-channel axis to reverse for RGB, if any


def resolve_checkpoint(path: str) -> str:
    """Returns the checkpoint prefix for a checkpoint directory or prefix.

    A directory uses its `checkpoint` state file (the official releases ship it as
    `checkpoint.txt`, which is accepted too) or else its only `*.index` file.
    """
    if os.path.isdir(path):
        prefix = tf.train.latest_checkpoint(path)
        if prefix is None and os.path.exists(os.path.join(path, "checkpoint.txt")):
            prefix = tf.train.latest_checkpoint(path, latest_filename="checkpoint.txt")
        if prefix is None:
            indexes = sorted(f for f in os.listdir(path) if f.endswith(".index"))
            if len(indexes) == 1:
                prefix = os.path.join(path, indexes[0][: -len(".index")])
        if prefix is None:
            raise FileNotFoundError(
                f"No TF1 checkpoint in {path}: expected a 'checkpoint' (or 'checkpoint.txt') "
                f"state file or exactly one '<prefix>.index' file."
            )
        return prefix
    if os.path.exists(path + ".index"):
        return path
    raise FileNotFoundError(
        f"No checkpoint at {path}: give a checkpoint directory or a prefix such that "
        f"'<prefix>.index' exists."
    )


def inspect_generator(path: str) -> dict:
    """Reads the generator's `cnum` and `guided` setting from an official checkpoint."""
    reader = tf.train.load_checkpoint(resolve_checkpoint(path))
    key = f"{GENERATOR_SCOPE}/{FIRST_CONV}/kernel"
    if not reader.has_tensor(key):
        raise CheckpointMismatchError(f"{path} has no generator: tensor {key!r} is missing.")
    _, _, channels_in, filters = reader.get_variable_to_shape_map()[key]
    return {"cnum": int(filters), "guided": channels_in == 6}


def _generator_assignments(generator: InpaintGenerator) -> list[_Assignment]:
    convs = generator.conv_layers()
    out = []
    for scope in GENERATOR_LAYERS:
        name = scope.split("/")[-1]
        layer = convs[name]
        kernel_flip = (
            2 if name in IMAGE_INPUT_LAYERS else 3 if name in IMAGE_OUTPUT_LAYERS else None
        )
        bias_flip = 0 if name in IMAGE_OUTPUT_LAYERS else None
        out.append(_Assignment(f"{GENERATOR_SCOPE}/{scope}/kernel", layer.kernel, kernel_flip))
        out.append(_Assignment(f"{GENERATOR_SCOPE}/{scope}/bias", layer.bias, bias_flip))
    return out


def _discriminator_assignments(discriminator: SNPatchGANDiscriminator) -> list[_Assignment]:
    out = []
    for name, sn in zip(DISCRIMINATOR_LAYERS, discriminator.convs, strict=True):
        scope = f"{DISCRIMINATOR_SCOPE}/{name}"
        out.append(_Assignment(f"{scope}/kernel", sn.layer.kernel, 2 if name == "conv1" else None))
        out.append(_Assignment(f"{scope}/bias", sn.layer.bias, None))
        out.append(_Assignment(f"{scope}/kernel_sn/u", sn.u, None))
    return out


def _flip_colour_channels(value: np.ndarray, axis: int) -> np.ndarray:
    """Reverses the first 3 entries of `axis` (B,G,R <-> R,G,B); the rest stay."""
    index = [slice(None)] * value.ndim
    index[axis] = slice(0, 3)
    flipped = value.copy()
    flipped[tuple(index)] = np.flip(value[tuple(index)], axis=axis)
    return flipped


def load_official_checkpoint(
    path: str,
    generator: InpaintGenerator | None = None,
    discriminator: SNPatchGANDiscriminator | None = None,
    channel_order: str = "rgb",
) -> list[str]:
    """Loads an official DeepFill v2 TF1 checkpoint into our networks.

    Every tensor is checked (present, same shape) before anything is assigned, so a
    failed load leaves the networks untouched.

    Args:
        path: checkpoint directory or prefix (e.g. `release_places2_256/` or
            `.../snap-0`).
        generator: an `InpaintGenerator` to fill (built here if needed), or None.
        discriminator: an `SNPatchGANDiscriminator` to fill (kernels, biases and the
            spectral-norm `u` vectors), or None. Released checkpoints may hold the
            generator only.
        channel_order: `"rgb"` (default) permutes the colour channels of the first and
            last layers so the networks take and give RGB; `"bgr"` loads the tensors
            as they are (the official BGR convention).

    Returns:
        The checkpoint tensor names that were loaded.

    Raises:
        FileNotFoundError: no checkpoint at `path`.
        CheckpointMismatchError: a needed tensor is missing or has another shape; the
            message names every such tensor.
    """
    if channel_order not in CHANNEL_ORDERS:
        raise ValueError(f"channel_order must be one of {CHANNEL_ORDERS}, got {channel_order!r}.")
    if generator is None and discriminator is None:
        raise ValueError("Pass a generator, a discriminator or both to load into.")
    prefix = resolve_checkpoint(path)
    reader = tf.train.load_checkpoint(prefix)
    shapes = reader.get_variable_to_shape_map()

    assignments = []
    if generator is not None:
        if not generator.built:
            generator.build((1, None, None, 3))
        assignments += _generator_assignments(generator)
    if discriminator is not None:
        if not discriminator.built:
            discriminator.build((1, None, None, discriminator.input_channels))
        assignments += _discriminator_assignments(discriminator)

    problems = []
    for a in assignments:
        expected = tuple(a.variable.shape)
        if a.key not in shapes:
            problems.append(f"missing tensor {a.key!r} (expected shape {list(expected)})")
        elif tuple(shapes[a.key]) != expected:
            problems.append(
                f"tensor {a.key!r} has shape {shapes[a.key]}, the model expects {list(expected)}"
            )
    if problems:
        raise CheckpointMismatchError(
            f"Checkpoint {prefix} does not fit the model (nothing was loaded):\n  "
            + "\n  ".join(problems)
        )

    values = []
    for a in assignments:
        value = reader.get_tensor(a.key)
        if channel_order == "rgb" and a.flip_axis is not None:
            value = _flip_colour_channels(value, a.flip_axis)
        values.append(value)
    for a, value in zip(assignments, values, strict=True):
        a.variable.assign(value)
    return [a.key for a in assignments]


def generator_from_official_checkpoint(
    path: str, channel_order: str = "rgb", cnum: int | None = None, guided: bool | None = None
) -> InpaintGenerator:
    """A new generator of the checkpoint's cnum and guided mode, with its weights loaded;
    `cnum` and `guided`, if given, must agree with the checkpoint."""
    generator = InpaintGenerator(**generator_settings(inspect_generator(path), cnum, guided, path))
    load_official_checkpoint(path, generator=generator, channel_order=channel_order)
    return generator
