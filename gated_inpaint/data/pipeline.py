"""Input pipeline for training and evaluation: images (+ masks, + edge maps) as `tf.data`.

Sources are a folder of images (searched recursively), an official-style `.flist` file, or a
TensorFlow Datasets split (`tfds:NAME[:SPLIT]`). Images are RGB float32 in [-1, 1]
(`x / 127.5 - 1`) and are cropped as the official code does (spec section 7):

- `"random_crop"`: an image with a side smaller than the crop is first rescaled uniformly
  (bilinear, sides rounded up) so that it just covers the crop; then a random window is cut from
  the (otherwise unscaled) image. Evaluation (`training=False`) cuts the centre window instead.
- `"resize"`: bilinear resize to exactly the crop size (no antialiasing, like `cv2.resize`).

A file that cannot be read or decoded never stops the pipeline: it is dropped, a warning naming it
is logged once per pipeline, and it is recorded in the caller's `SkipCounter` if it passes one.
If every file of a pipeline fails, iteration raises instead of spinning forever.

Guided mode adds a binary edge map. It is read from `<stem>_edge.png` or `<stem>_edge.jpg` beside
the image when that file exists (the official HED convention: channel 0 / 255 > threshold, after
the same crop as the image); otherwise it is computed from the cropped image by
`sobel_edge_map` (Sobel gradient magnitude of the grayscale image, divided by its maximum, then
the same threshold). Files named `*_edge.*` are never training images.
"""

from __future__ import annotations

import threading

import numpy as np
import tensorflow as tf
from absl import logging

from gated_inpaint.data.decoding import decode_rgb, pil_error, read_edge, sobel_edge_map
from gated_inpaint.data.image_files import edge_file_for, list_images
from gated_inpaint.data.masks import mask_dataset
from gated_inpaint.data.options import CROP_MODES
from gated_inpaint.data.tfds_source import TFDS_PREFIX, tfds_records

_PERMUTATION_STREAM = 1
_CROP_STREAM = 2


class SkipCounter:
    """Thread-safe record of the images that a pipeline skipped as unreadable or corrupt.

    `count` is the number of distinct files skipped; `files` lists them in the order first seen.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._files: dict[str, None] = {}

    def add(self, name: str) -> bool:
        """Records `name`; returns whether it was new."""
        with self._lock:
            if name in self._files:
                return False
            self._files[name] = None
            return True

    @property
    def count(self) -> int:
        with self._lock:
            return len(self._files)

    @property
    def files(self) -> list[str]:
        with self._lock:
            return list(self._files)


def fold_seed(seed: int, *values: int) -> int:
    """A seed in [0, 2**31) derived from `seed` and `values`, distinct streams for distinct inputs.

    Unlike `seed + value`, `(seed, 1)` and `(seed + 1, 0)` give unrelated seeds.
    """
    return int(np.random.SeedSequence([seed, *values]).generate_state(1)[0] >> 1)


def _crop(x: tf.Tensor, size: tuple[int, int], mode: str, seed: tf.Tensor | None) -> tf.Tensor:
    """Official cropping of float [h, w, C] to [H, W, C]; `seed=None` cuts the centre window."""
    height, width = size
    channels = x.shape[-1]
    if mode == "resize":
        return tf.ensure_shape(tf.image.resize(x, size), [height, width, channels])
    h = tf.cast(tf.shape(x)[0], tf.float64)
    w = tf.cast(tf.shape(x)[1], tf.float64)
    scale = tf.maximum(tf.maximum(height / h, width / w), 1.0)
    new_h = tf.maximum(height, tf.cast(tf.math.ceil(h * scale - 1e-6), tf.int32))
    new_w = tf.maximum(width, tf.cast(tf.math.ceil(w * scale - 1e-6), tf.int32))
    x = tf.cond(scale > 1.0, lambda: tf.image.resize(x, tf.stack([new_h, new_w])), lambda: x)
    if seed is None:
        top = (tf.shape(x)[0] - height) // 2
        left = (tf.shape(x)[1] - width) // 2
        x = x[top : top + height, left : left + width]
    else:
        x = tf.image.stateless_random_crop(x, [height, width, channels], seed)
    return tf.ensure_shape(x, [height, width, channels])


def _file_records(files: list[str], guided: bool, training: bool, seed: int) -> tf.data.Dataset:
    """Paths as {"name": path, "data": path, "edge": edge path or ""}; training: endless
    epochs, each a fresh permutation that is a pure function of (seed, epoch)."""
    edges = [(edge_file_for(f) or "") if guided else "" for f in files]
    table = tf.constant([files, edges])

    def as_records(columns):
        return {"name": columns[0], "data": columns[0], "edge": columns[1]}

    if not training:
        return tf.data.Dataset.from_tensor_slices(tf.transpose(table)).map(as_records)
    stream = tf.constant([seed, _PERMUTATION_STREAM], tf.int64)

    def epoch(index):
        key = tf.random.experimental.stateless_fold_in(stream, index)
        rows = tf.random.experimental.stateless_shuffle(tf.transpose(table), key)
        return tf.data.Dataset.from_tensor_slices(rows)

    return tf.data.Dataset.counter().flat_map(epoch).map(as_records)


def make_dataset(
    source: str,
    image_size: int | tuple[int, int],
    batch_size: int,
    *,
    training: bool,
    crop: str = "random_crop",
    guided: bool = False,
    edge_threshold: float = 0.6,
    mask_type: str | None = "union",
    seed: int = 0,
    data_dir: str | None = None,
    tfds_download: bool = False,
    input_context: tf.distribute.InputContext | None = None,
    skip_counter: SkipCounter | None = None,
    drop_remainder: bool = False,
) -> tf.data.Dataset:
    """Batched training or evaluation data for inpainting.

    Args:
        source: a folder of images (recursive), a `.flist` file, or `tfds:NAME[:SPLIT]`
            (default split `train`; read from `data_dir`).
        image_size: crop size, `S` or `(H, W)`.
        batch_size: per-replica batch size `B`.
        training: shuffle (seeded), repeat forever and crop at random; otherwise one pass in
            file order with centre crops.
        crop: `"random_crop"` or `"resize"` (see the module docstring).
        guided: add the `"edge"` map.
        edge_threshold: binarisation threshold of edge maps, in [0, 1].
        mask_type: passed to `gated_inpaint.data.masks.mask_dataset`; `None` gives no `"mask"`.
        seed: seeds file order, crops and masks; pipeline `p` uses `fold_seed(seed, p)`.
        data_dir: TFDS data folder.
        tfds_download: let TFDS download and prepare a missing dataset.
        input_context: under `tf.distribute`, each input pipeline reads its own shard of
            the files (or of the TFDS split).
        skip_counter: where skipped files are recorded, if anywhere.
        drop_remainder: also when not training, drop a last batch smaller than `B`, so that
            every batch has the same static shape (XLA, TPUs). Training always does.

    Returns:
        A dataset of dicts: `"image"` float32 [B, H, W, 3] in [-1, 1] (RGB), `"mask"` float32
        [B, H, W, 1] in {0, 1} (1 = hole) unless `mask_type` is None, and `"edge"` float32
        [B, H, W, 1] in {0, 1} when `guided`. The shapes are static when training or
        `drop_remainder` (otherwise B is None).
    """
    height, width = (image_size, image_size) if isinstance(image_size, int) else image_size
    if crop not in CROP_MODES:
        raise ValueError(f"crop must be one of {CROP_MODES}, got {crop!r}.")
    if height < 1 or width < 1 or batch_size < 1:
        raise ValueError(f"Bad image_size {image_size!r} or batch_size {batch_size!r}.")
    pipelines, pipeline_id = (
        (input_context.num_input_pipelines, input_context.input_pipeline_id)
        if input_context is not None
        else (1, 0)
    )
    pipeline_seed = fold_seed(seed, pipeline_id)

    if source.startswith(TFDS_PREFIX):
        records = tfds_records(
            source, data_dir, tfds_download, training, pipeline_seed, input_context
        )
        reads_files, total = False, None
    else:
        files = list_images(source)[pipeline_id::pipelines]
        if not files:
            raise ValueError(f"{source!r} has too few images for {pipelines} input pipelines.")
        records = _file_records(files, guided, training, pipeline_seed)
        reads_files, total = True, len(files)

    crop_stream = tf.constant([pipeline_seed, _CROP_STREAM], tf.int64)
    channels = 4 if guided else 3

    def decode(record):
        """The part that can fail: float32 [h, w, 3] in [0, 255], plus the raw edge channel."""
        data = tf.io.read_file(record["data"]) if reads_files else record["data"]
        image = tf.cast(decode_rgb(data), tf.float32)
        if not guided:
            return image
        edge = tf.cond(
            tf.not_equal(record["edge"], ""),
            lambda: read_edge(record["edge"], tf.shape(image)[:2]),
            lambda: tf.zeros_like(image[..., :1]),
        )
        return tf.concat([image, edge], axis=-1)

    def decode_or_flag(index, record):
        """One element (ok, index, record, pixels); a failed decode gives ok=False, no pixels."""
        decoded = tf.data.Dataset.from_tensors(record).map(decode).ignore_errors()
        decoded = decoded.map(lambda pixels: (True, pixels))
        failed = tf.data.Dataset.from_tensors((False, tf.zeros([0, 0, channels])))
        flagged = decoded.concatenate(failed).take(1)
        return flagged.map(lambda ok, pixels: (ok, index, record, pixels))

    def crop_example(ok, index, record, pixels):
        seed_ = tf.random.experimental.stateless_fold_in(crop_stream, index) if training else None
        pixels = _crop(pixels, (height, width), crop, seed_)
        example = {"image": pixels[..., :3] / 127.5 - 1.0}
        if guided:
            example["edge"] = tf.where(
                tf.not_equal(record["edge"], ""),
                tf.cast(pixels[..., 3:] / 255.0 > edge_threshold, tf.float32),
                sobel_edge_map(pixels[..., :3], edge_threshold),
            )
        return example

    seen = SkipCounter()

    def report(name: bytes, edge: bytes) -> bool:
        name, edge = name.decode(errors="replace"), edge.decode(errors="replace")
        if seen.add(name):
            if skip_counter is not None:
                skip_counter.add(name)
            what = f"{name} (or its edge map {edge})" if edge else name
            if reads_files:
                errors = [
                    label + error
                    for label, path in (("", name), ("edge map: ", edge))
                    if path and (error := pil_error(path))
                ]
                what += f" ({'; '.join(errors) or 'PIL can decode it, TensorFlow cannot'})"
            logging.warning("Skipping unreadable or corrupt image %s", what)
        if total is not None and seen.count >= total:
            raise RuntimeError(
                f"None of the {total} images of {source!r} could be decoded (see the warnings)."
            )
        return False

    def keep(ok, index, record, pixels):
        """True for decoded records; reports (and drops) the others."""
        return tf.cond(
            ok,
            lambda: tf.constant(True),
            lambda: tf.reshape(
                tf.numpy_function(report, [record["name"], record["edge"]], tf.bool), []
            ),
        )

    ds = records.enumerate().interleave(
        decode_or_flag, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
    )
    ds = ds.filter(keep).map(crop_example, num_parallel_calls=tf.data.AUTOTUNE)
    if mask_type is not None:
        masks = mask_dataset(height, width, mask_type, pipeline_seed)
        ds = tf.data.Dataset.zip(ds, masks).map(lambda example, mask: {**example, "mask": mask})
    return ds.batch(batch_size, drop_remainder=training or drop_remainder).prefetch(
        tf.data.AUTOTUNE
    )
