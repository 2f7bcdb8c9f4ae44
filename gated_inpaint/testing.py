"""Helpers that the tests and the benchmarks share: networks with non-trivial weights, test
images, official-style checkpoints and uint8 comparisons."""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator

import keras
import numpy as np
import tensorflow as tf
from PIL import Image

from gated_inpaint.data.masks import brush_stroke_mask
from gated_inpaint.models import InpaintGenerator, SNPatchGANDiscriminator


def amplify_weights(model: keras.Model, kernel_scale: float = 2.25, seed: int = 0) -> keras.Model:
    """Scales every kernel by `kernel_scale` and draws every other weight (the biases) uniformly
    in [-0.1, 0.1], reproducibly from `seed`, as the parity fixture does; returns `model`.

    With plain glorot draws a gated network's activations shrink layer after layer towards 0
    (outputs ~1e-8 at cnum=8): comparisons between outputs would be vacuous, and timings would
    measure a degenerate, denormal-prone computation.
    """
    rng = np.random.default_rng(seed)
    for w in model.trainable_weights:
        if w.name == "kernel":
            w.assign(w.numpy() * kernel_scale)
        else:
            w.assign(rng.uniform(-0.1, 0.1, size=w.shape).astype("float32"))
    return model


def assert_uint8_equal_up_to_rounding(actual, desired, max_fraction: float = 1e-3) -> None:
    """uint8 images from two execution paths of the same network (eager and a graph, or a
    SavedModel): float round-off may move a value across a truncation boundary, so values may
    differ by 1 level, in at most `max_fraction` of them; anything more is a real difference."""
    actual, desired = np.asarray(actual), np.asarray(desired)
    assert actual.shape == desired.shape, (actual.shape, desired.shape)
    diff = np.abs(actual.astype(np.int16) - desired.astype(np.int16))
    assert diff.max() <= 1, f"max difference {diff.max()} levels at {np.argwhere(diff > 1)[:5]}"
    assert (diff > 0).mean() <= max_fraction, f"{(diff > 0).mean():.2%} of the values differ"


def tiny_generator(cnum: int = 8, guided: bool = False) -> InpaintGenerator:
    """A built generator of width `cnum`, seeded, with `amplify_weights`: small and fast, with
    outputs far from zero."""
    keras.utils.set_random_seed(0)
    generator = InpaintGenerator(cnum=cnum, guided=guided)
    generator.build((1, None, None, 3))
    return amplify_weights(generator)


def smooth_photo(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A smooth colour image with some texture, uint8 `[height, width, 3]`."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width] / max(height, width)
    base = np.stack([np.sin(6 * x + 1), np.cos(5 * y), np.sin(4 * (x + y))], axis=-1)
    noise = rng.normal(0, 0.1, size=(height, width, 3))
    return np.clip((base + noise + 1) * 127.5, 0, 255).astype(np.uint8)


def stroke_mask(height: int, width: int, seed: int = 0) -> np.ndarray:
    """An official free-form mask as a uint8 `[height, width]` image (255 = hole, 0 = known),
    drawn with a long side of 256 px and scaled to the size, so that a small test image gets
    a hole of a realistic share (the strokes are 12-40 px wide) rather than one covering it."""
    scale = 256 / max(height, width)
    drawn = brush_stroke_mask(
        max(round(height * scale), 1), max(round(width * scale), 1), np.random.default_rng(seed)
    )
    small = Image.fromarray((drawn * 255).astype(np.uint8)).resize((width, height), Image.NEAREST)
    return np.asarray(small)


def folder_snapshot(folder: str | os.PathLike) -> dict[str, tuple[bytes, int]]:
    """Every file under `folder` (relative path) with its bytes and modification time in ns:
    equal snapshots mean nothing in the folder was written."""
    found = {}
    for root, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                found[os.path.relpath(path, folder)] = (f.read(), os.stat(path).st_mtime_ns)
    return found


def save_image(array: np.ndarray, path: str | os.PathLike) -> str:
    """Writes `array` with Pillow (format from the extension); returns the path as a string."""
    Image.fromarray(array).save(path)
    return str(path)


def _official_scope(conv_name: str) -> str:
    """TF1 scope of a generator conv, written out independently of the converter's table."""
    if conv_name.endswith("_upsample_conv"):
        return f"{conv_name[: -len('_conv')]}/{conv_name}"
    return conv_name


def official_variables(
    generator: InpaintGenerator | None = None,
    discriminator: SNPatchGANDiscriminator | None = None,
) -> dict[str, keras.Variable]:
    """The networks' variables by their official TF1 names (`inpaint_net/conv1/kernel`, ...,
    `discriminator/sn_patch_gan/conv6/kernel_sn/u`)."""
    variables = {}
    if generator is not None:
        for name, layer in generator.conv_layers().items():
            scope = f"inpaint_net/{_official_scope(name)}"
            variables[f"{scope}/kernel"] = layer.kernel
            variables[f"{scope}/bias"] = layer.bias
    if discriminator is not None:
        for i, sn in enumerate(discriminator.convs, start=1):
            scope = f"discriminator/sn_patch_gan/conv{i}"
            variables[f"{scope}/kernel"] = sn.layer.kernel
            variables[f"{scope}/bias"] = sn.layer.bias
            variables[f"{scope}/kernel_sn/u"] = sn.u
    return variables


def official_tensors(
    generator: InpaintGenerator | None = None,
    discriminator: SNPatchGANDiscriminator | None = None,
) -> dict[str, np.ndarray]:
    """The networks' weights under the official TF1 names, as they would stand in an official
    checkpoint (the channel order left as it is)."""
    return {k: v.numpy() for k, v in official_variables(generator, discriminator).items()}


def write_tf1_checkpoint(
    directory: str | os.PathLike,
    tensors: dict[str, np.ndarray],
    name: str = "model.ckpt-0",
    state_file: str | None = "checkpoint",
) -> str:
    """Writes a TF1 name-based checkpoint (as tf.compat.v1.train.Saver does) and its state
    file; returns the checkpoint prefix."""
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


def encode_image(pixels: np.ndarray, fmt: str = "PNG", **options) -> bytes:
    """An image file of uint8 `[H, W, C]` pixels made by Pillow (independent of TensorFlow's
    encoders); `options` go to `Image.save`."""
    out = io.BytesIO()
    Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels).save(out, fmt, **options)
    return out.getvalue()


def decode_image(data: bytes) -> np.ndarray:
    """The pixels of an image file, as Pillow decodes them."""
    return np.asarray(Image.open(io.BytesIO(data)))


def mask_png(mask: np.ndarray) -> bytes:
    """A 0/255 PNG of a mask (nonzero = hole)."""
    return encode_image(np.where(mask > 0, 255, 0).astype(np.uint8))


@contextlib.contextmanager
def tf_serving_session(export_path: str) -> Iterator[tuple[tf.compat.v1.Session, dict]]:
    """`(session, signature_defs)`: the SavedModel in a TF1 Session, loaded by tag as TF
    Serving's SavedModelBundle does."""
    graph = tf.Graph()
    with graph.as_default():
        session = tf.compat.v1.Session(graph=graph)
        meta_graph = tf.compat.v1.saved_model.loader.load(
            session, [tf.saved_model.SERVING], export_path
        )
    try:
        yield session, meta_graph.signature_def
    finally:
        session.close()


def run_signature_def(session: tuple[tf.compat.v1.Session, dict], name: str, inputs: dict) -> dict:
    """`Session.run` fed and fetched by the tensor names of the SignatureDef `name`, as TF
    Serving runs a request; `session` is what `tf_serving_session` yields."""
    sess, signature_defs = session
    signature = signature_defs[name]
    assert set(inputs) == set(signature.inputs)
    feeds = {signature.inputs[key].name: value for key, value in inputs.items()}
    fetches = {key: info.name for key, info in signature.outputs.items()}
    return sess.run(fetches, feeds)


def run_signature(loaded, name: str, inputs: dict) -> dict:
    """The signature `name` of a `tf.saved_model.load`ed model on numpy inputs; numpy outputs."""
    outputs = loaded.signatures[name](**{k: tf.constant(v) for k, v in inputs.items()})
    return {key: value.numpy() for key, value in outputs.items()}


def device_cases(generator: InpaintGenerator) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """`(image, mask, expected)` at two sizes, 37x50 (not a multiple of 8) and 48x64, batch 1:
    smooth photos with a rectangular hole (mask in {0, 1}) and the in-memory `inpaint_uint8`
    of `generator`, for the device exports' tests."""
    from gated_inpaint.inference.uint8_graph import inpaint_uint8

    cases = []
    for height, width in ((37, 50), (48, 64)):
        image = smooth_photo(height, width, seed=height)[None]
        mask = np.zeros((1, height, width, 1), np.uint8)
        mask[:, height // 5 : height // 2, width // 4 : 3 * width // 4] = 1
        cases.append((image, mask, inpaint_uint8(generator, image, mask).numpy()))
    return cases


def hole_differences(actual, expected, mask) -> tuple[int, float]:
    """`(largest, mean)` absolute difference in uint8 levels between two `[B, H, W, 3]` results
    in the hole pixels of `mask` (`[B, H, W, 1]`, nonzero = hole)."""
    hole = np.asarray(mask)[..., 0] > 0
    diff = np.abs(np.asarray(actual, np.int16) - np.asarray(expected, np.int16))[hole]
    return int(diff.max()), float(diff.mean())
