"""Input pipeline for training and evaluation: images (+ masks, + edge maps) as `tf.data`.

Sources are a folder of images (searched recursively), an official-style `.flist` file, or a
TensorFlow Datasets split (`tfds:NAME[:SPLIT]`). Images are RGB float32 in [-1, 1]
(`x / 127.5 - 1`) and are cropped as the official code does (spec section 7):

- `"random_crop"`: an image with a side smaller than the crop is first rescaled uniformly
  (bilinear, sides rounded up) so that it just covers the crop; then a random window is cut from
  the (otherwise unscaled) image. Evaluation (`training=False`) cuts the centre window instead.
- `"resize"`: bilinear resize to exactly the crop size (no antialiasing, like `cv2.resize`).

A file that cannot be read or decoded never stops the pipeline: it is dropped, a warning naming it
is logged once per pipeline, and it is recorded in a `SkipCounter` (`SKIPPED` unless the caller
passes its own). If every file of a pipeline fails, iteration raises instead of spinning forever.

Guided mode adds a binary edge map. It is read from `<stem>_edge.png` or `<stem>_edge.jpg` beside
the image when that file exists (the official HED convention: channel 0 / 255 > threshold, after
the same crop as the image); otherwise it is computed from the cropped image by
`sobel_edge_map` (Sobel gradient magnitude of the grayscale image, divided by its maximum, then
the same threshold). Files named `*_edge.*` are never training images.
"""

from __future__ import annotations

import io
import os
import re
import threading

import numpy as np
import tensorflow as tf
from absl import logging
from PIL import Image

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp")
EDGE_SUFFIX = "_edge"
EDGE_EXTENSIONS = (".png", ".jpg")
CROP_MODES = ("random_crop", "resize")
TFDS_PREFIX = "tfds:"
TFDS_SHUFFLE_BUFFER = 512
_FLIST_EXISTENCE_PROBE = 64
_TFDS_SPEC = re.compile(r"^(?P<name>[^:\[\]]+(?::[\d*]+(?:\.[\d*]+)*)?)(?::(?P<split>.+))?$")
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


SKIPPED = SkipCounter()
"""Images skipped by every pipeline built without its own `skip_counter`."""


def fold_seed(seed: int, *values: int) -> int:
    """A seed in [0, 2**31) derived from `seed` and `values`, distinct streams for distinct inputs.

    Unlike `seed + value`, `(seed, 1)` and `(seed + 1, 0)` give unrelated seeds.
    """
    return int(np.random.SeedSequence([seed, *values]).generate_state(1)[0] >> 1)


def _is_image_name(name: str) -> bool:
    stem, ext = os.path.splitext(name)
    return ext.lower() in IMAGE_EXTENSIONS and not stem.endswith(EDGE_SUFFIX)


def _read_flist(path: str) -> list[str]:
    folder = os.path.dirname(os.path.abspath(path))
    with open(path, encoding="utf-8") as f:
        lines = [line.strip() for line in f]
    files = [
        os.path.normpath(os.path.join(folder, os.path.expanduser(line)))
        for line in lines
        if line and not os.path.splitext(os.path.basename(line))[0].endswith(EDGE_SUFFIX)
    ]
    if not files:
        raise ValueError(f"The file list {path!r} names no images.")
    probe = files[:_FLIST_EXISTENCE_PROBE]
    if not any(os.path.exists(p) for p in probe):
        raise FileNotFoundError(
            f"None of the first {len(probe)} entries of the file list {path!r} exists "
            f"(first: {probe[0]!r}); relative entries are read relative to the list's folder."
        )
    return files


def list_images(source: str) -> list[str]:
    """Image paths of a folder (recursive, sorted) or of an official-style `.flist` file.

    Folder search keeps the extensions in `IMAGE_EXTENSIONS` (any case). A file list has one
    path per line, relative paths being relative to the list's folder, blank lines ignored.
    `*_edge.*` files are left out of both. Raises `FileNotFoundError` for a missing path and
    `ValueError` when no image is found; both messages name the path.
    """
    path = os.path.expanduser(source)
    if os.path.isdir(path):
        found = []
        for root, dirs, names in os.walk(path):
            dirs.sort()
            found += [os.path.join(root, n) for n in sorted(names) if _is_image_name(n)]
        if not found:
            raise ValueError(
                f"No images ({' '.join(IMAGE_EXTENSIONS)}) found under the folder {path!r}."
            )
        return found
    if os.path.isfile(path):
        if _is_image_name(path):
            raise ValueError(f"{path!r} is an image: pass its folder or a .flist file instead.")
        return _read_flist(path)
    raise FileNotFoundError(f"The image source {source!r} does not exist.")


def edge_file_for(image_path: str) -> str | None:
    """The precomputed edge map beside `image_path` (`<stem>_edge.png`, else `.jpg`), if any."""
    stem = os.path.splitext(image_path)[0]
    for ext in EDGE_EXTENSIONS:
        if os.path.isfile(stem + EDGE_SUFFIX + ext):
            return stem + EDGE_SUFFIX + ext
    return None


def sobel_edge_map(image: tf.Tensor, threshold: float = 0.6) -> tf.Tensor:
    """Binary edge map of one image: normalised Sobel magnitude of its grayscale > `threshold`.

    Args:
        image: float [H, W, 3], any value range (RGB).
        threshold: in [0, 1], applied to the gradient magnitude divided by its maximum.

    Returns:
        float32 [H, W, 1] in {0, 1}; all zeros for a flat image.
    """
    gray = tf.image.rgb_to_grayscale(tf.cast(image, tf.float32))[tf.newaxis]
    magnitude = tf.norm(tf.image.sobel_edges(gray), axis=-1)[0]
    strength = tf.math.divide_no_nan(magnitude, tf.reduce_max(magnitude))
    return tf.cast(strength > threshold, tf.float32)


def _pil_decode_rgb(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))


def _pil_error(path: str) -> str | None:
    """Why PIL cannot decode the file at `path` (a best-effort diagnosis), or None if it can."""
    try:
        with Image.open(path) as image:
            image.load()
    except Exception as e:
        return f"{type(e).__name__}: {e}"
    return None


def _decode_rgb(data: tf.Tensor) -> tf.Tensor:
    """Encoded bytes -> uint8 [h, w, 3]. WebP goes through PIL: TF's WebP decoder rejects
    RGBA files with `channels=3` and corrupts the heap on animated files with `channels=0`."""
    head = tf.strings.join([tf.strings.substr(data, 0, 12), "\0" * 12])
    is_webp = tf.logical_and(
        tf.equal(tf.strings.substr(head, 0, 4), "RIFF"),
        tf.equal(tf.strings.substr(head, 8, 4), "WEBP"),
    )

    def pil():
        image = tf.numpy_function(_pil_decode_rgb, [data], tf.uint8, stateful=False)
        return tf.ensure_shape(image, [None, None, 3])

    def native():
        return tf.io.decode_image(data, channels=3, expand_animations=False)

    return tf.cond(is_webp, pil, native)


def _read_edge(path: tf.Tensor, size: tf.Tensor) -> tf.Tensor:
    """Channel 0 of an edge image as float32 [H, W, 1] in [0, 255], resized to `size` if needed."""
    edge = tf.io.decode_image(tf.io.read_file(path), expand_animations=False)[..., :1]
    edge = tf.cast(tf.ensure_shape(edge, [None, None, 1]), tf.float32)
    return tf.cond(
        tf.reduce_all(tf.equal(tf.shape(edge)[:2], size)),
        lambda: edge,
        lambda: tf.image.resize(edge, size),
    )


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


def _parse_tfds(source: str) -> tuple[str, str]:
    match = _TFDS_SPEC.match(source[len(TFDS_PREFIX) :])
    if not match:
        raise ValueError(f"Cannot parse {source!r}: expected tfds:NAME[:SPLIT].")
    return match["name"], match["split"] or "train"


def _tfds_records(
    source: str,
    data_dir: str | None,
    download: bool,
    training: bool,
    seed: int,
    input_context: tf.distribute.InputContext | None,
) -> tf.data.Dataset:
    """Encoded images of a TFDS split as {"name": tfds_id, "data": bytes, "edge": ""}."""
    import tensorflow_datasets as tfds

    name, split = _parse_tfds(source)
    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except tfds.core.registered.DatasetNotFoundError as e:
        raise ValueError(f"{source!r}: TFDS has no dataset named {name!r}.") from e
    if not builder.is_prepared():
        if not download:
            raise FileNotFoundError(
                f"TFDS dataset {name!r} is not prepared in {builder.data_dir} "
                f"(data_dir={data_dir!r}; unset means $TFDS_DATA_DIR or ~/tensorflow_datasets). "
                "Nothing is downloaded unless asked: run with --tfds_download "
                f"(tfds_download=True), or prepare it first with `tfds build {name} "
                "--data_dir=DIR`, or pass --data_dir pointing at a folder that already holds it."
            )
        builder.download_and_prepare()
    if "image" not in builder.info.features:
        raise ValueError(
            f"{source!r} has no 'image' feature (features: {sorted(builder.info.features)})."
        )
    if input_context is not None and input_context.num_input_pipelines > 1:
        split = tfds.even_splits(split, n=input_context.num_input_pipelines)[
            input_context.input_pipeline_id
        ]
    ds = builder.as_dataset(
        split=split,
        shuffle_files=training,
        decoders={"image": tfds.decode.SkipDecoding()},
        read_config=tfds.ReadConfig(shuffle_seed=seed, add_tfds_id=True),
    )
    ds = ds.map(lambda ex: {"name": ex["tfds_id"], "data": ex["image"], "edge": ""})
    if training:
        ds = ds.shuffle(TFDS_SHUFFLE_BUFFER, seed=seed).repeat()
    return ds


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
) -> tf.data.Dataset:
    """Batched training or evaluation data for inpainting.

    Args:
        source: a folder of images (recursive), a `.flist` file, or `tfds:NAME[:SPLIT]`
            (default split `train`; read from `data_dir`).
        image_size: crop size, `S` or `(H, W)`.
        batch_size: per-replica batch size `B` (dropping the remainder when training).
        training: shuffle (seeded), repeat forever and crop at random; otherwise one pass in
            file order with centre crops.
        crop: `"random_crop"` or `"resize"` (see the module docstring).
        guided: add the `"edge"` map.
        edge_threshold: binarisation threshold of edge maps, in [0, 1].
        mask_type: passed to `gated_inpaint.masks.mask_dataset`; `None` gives no `"mask"`.
        seed: seeds file order, crops and masks; pipeline `p` uses `fold_seed(seed, p)`.
        data_dir: TFDS data folder.
        tfds_download: let TFDS download and prepare a missing dataset.
        input_context: under `tf.distribute`, each input pipeline reads its own shard of
            the files (or of the TFDS split).
        skip_counter: where skipped files are recorded (default: the module's `SKIPPED`).

    Returns:
        A dataset of dicts: `"image"` float32 [B, H, W, 3] in [-1, 1] (RGB), `"mask"` float32
        [B, H, W, 1] in {0, 1} (1 = hole) unless `mask_type` is None, and `"edge"` float32
        [B, H, W, 1] in {0, 1} when `guided`.
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
    counter = SKIPPED if skip_counter is None else skip_counter

    if source.startswith(TFDS_PREFIX):
        records = _tfds_records(
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
        image = tf.cast(_decode_rgb(data), tf.float32)
        if not guided:
            return image
        edge = tf.cond(
            tf.not_equal(record["edge"], ""),
            lambda: _read_edge(record["edge"], tf.shape(image)[:2]),
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
            counter.add(name)
            what = f"{name} (or its edge map {edge})" if edge else name
            if reads_files:
                errors = [
                    label + error
                    for label, path in (("", name), ("edge map: ", edge))
                    if path and (error := _pil_error(path))
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
        from gated_inpaint.masks import mask_dataset

        masks = mask_dataset(height, width, mask_type, pipeline_seed)
        ds = tf.data.Dataset.zip(ds, masks).map(lambda example, mask: {**example, "mask": mask})
    return ds.batch(batch_size, drop_remainder=training).prefetch(tf.data.AUTOTUNE)
