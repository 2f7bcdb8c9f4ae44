"""`Inpainter`: fill the holes of ordinary images (numpy or PIL, any size) with a trained generator.

Inputs follow one set of rules, shared by the `gated-inpaint inpaint` command:

- image: a PIL image of any mode (converted with `convert("RGB")`, so alpha is dropped), or a
  uint8 numpy array `[H, W, 3]` (RGB), `[H, W, 4]` (RGBA, alpha dropped), `[H, W]` or
  `[H, W, 1]` (grayscale, repeated to RGB). Float arrays are refused: convert them first,
  e.g. `(x * 255).round().astype(np.uint8)` for values in [0, 1].
- mask: `[H, W]` or `[H, W, 1]`, the image's height and width; white / nonzero = hole. A PIL
  image of any mode is converted to `L` first. Values are read as:
  bool: True = hole; numbers with max <= 1 (0/1 or floats in [0, 1]): > 0.5 = hole;
  numbers with max in (1, 255] (8-bit masks, e.g. from lossy files): > 127 = hole.
  Negative values, values above 255 and NaN are refused.
- edge (guided generators only): the same rules as the mask; 1 = sketch line, used inside
  the hole. Left out, a guided generator gets no sketch lines (an all-zero edge map).

Results are uint8 `[H, W, 3]` RGB arrays of the input's size: known pixels are exactly the
input's RGB values, hole pixels come from the generator (see `inference.inpaint_uint8`).
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import tensorflow as tf
from PIL import Image

from gated_inpaint import convert, export_lib
from gated_inpaint.hd_strategy import HDStrategy, inpaint_uint8_hd
from gated_inpaint.models.generator import InpaintGenerator
from gated_inpaint.precision import with_precision

SIGNATURE_KEY = export_lib.TENSOR_SIGNATURE
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_FIRST_CONV = "conv1"
_TF2_CHECKPOINT_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH"
_CHECKPOINT_FILE = re.compile(r"\.(index|data-\d+-of-\d+)$")  # a checkpoint's files: prefix + this

# (images uint8 [B,H,W,3], masks uint8 [B,H,W,1] in {0,1}, edges like masks or None) -> uint8
_Runner = Callable[[np.ndarray, np.ndarray, "np.ndarray | None"], np.ndarray]


class Inpainter:
    """Fills free-form holes in images of any size with a DeepFill v2 generator.

    Build one with `Inpainter(generator)` from an `InpaintGenerator` in memory, or load one:
    `Inpainter.load(path)` recognises an exported SavedModel, a converted `*.weights.h5` file
    or an official TF1 checkpoint; `from_saved_model`, `from_weights` and
    `from_official_checkpoint` load one kind explicitly. Input conventions (image modes, mask
    polarity and thresholds) are in the module docstring.

    With a Keras generator the network runs in a `tf.function(reduce_retracing=True)`: the
    first call traces the graph, a call with a new size traces once more with unknown sizes,
    and from then on any size or batch size reuses that graph.

    Large photos: images whose long side exceeds `hd_max_size` are filled as `hd_strategy`
    says (see `gated_inpaint.hd_strategy`): by default the box around the holes plus
    `hd_margin` pixels, scaled down to `hd_max_size` if still larger, so time and memory stay
    bounded whatever the photo's size. A SavedModel's strategy and precision are the ones
    chosen at export.

    Args:
        generator: an `InpaintGenerator` that takes RGB (official weights converted with
            `channel_order="rgb"`, which the loaders do).
        hd_strategy: `"crop"`, `"resize"` or `"original"`.
        hd_max_size: the long side, in pixels, above which `hd_strategy` applies.
        hd_margin: `crop`: pixels of context around the holes' box.
        precision: `"float32"`, `"bfloat16"` (faster on CPUs with AVX512-BF16 or AMX) or
            `"float16"` (GPUs): what the generator computes in.

    Attributes:
        guided: whether the generator takes an edge (sketch) map.
        generator: the Keras generator, or None for a SavedModel.

    Example:
    >>> import numpy as np
    >>> from gated_inpaint import Inpainter
    >>> from gated_inpaint.models import InpaintGenerator
    >>> inpainter = Inpainter(InpaintGenerator(cnum=8))  # or Inpainter.load("g.weights.h5")
    >>> image = np.full((250, 333, 3), 200, np.uint8)
    >>> mask = np.zeros((250, 333), np.uint8)
    >>> mask[100:150, 50:200] = 255  # white = hole
    >>> result = inpainter.inpaint(image, mask)
    >>> result.shape, result.dtype, bool((result[mask == 0] == 200).all())
    ((250, 333, 3), dtype('uint8'), True)
    """

    def __init__(
        self,
        generator: InpaintGenerator,
        hd_strategy: str = HDStrategy.strategy,
        hd_max_size: int = HDStrategy.max_size,
        hd_margin: int = HDStrategy.margin,
        precision: str = "float32",
    ):
        hd = HDStrategy(hd_strategy, hd_max_size, hd_margin)
        generator = with_precision(generator, precision)
        self._graph = tf.function(
            functools.partial(inpaint_uint8_hd, generator, hd=hd), reduce_retracing=True
        )

        def runner(images, masks, edges):
            edges = None if edges is None else tf.constant(edges)
            return self._graph(tf.constant(images), tf.constant(masks), edges).numpy()

        description = (
            f"cnum={generator.cnum}, hd_strategy={hd.strategy!r}, hd_max_size={hd.max_size}, "
            f"hd_margin={hd.margin}, precision={precision!r}"
        )
        self._setup(runner, generator.guided, generator, description)

    def _setup(
        self, runner: _Runner, guided: bool, generator: InpaintGenerator | None, description: str
    ) -> None:
        self._run = runner
        self.guided = bool(guided)
        self.generator = generator
        self._description = description

    def __repr__(self) -> str:
        return f"Inpainter({self._description}, guided={self.guided})"

    @classmethod
    def from_weights(cls, path: str | os.PathLike, **options) -> Inpainter:
        """Loads a Keras `*.weights.h5` file of an `InpaintGenerator` (`gated-inpaint convert`
        output, or `generator.save_weights`); cnum and guided mode are read from the file.
        `options`: the constructor's `hd_*` and `precision` arguments."""
        return cls(export_lib.generator_from_weights(os.fspath(path)), **options)

    @classmethod
    def from_official_checkpoint(cls, path: str | os.PathLike, **options) -> Inpainter:
        """Loads the generator of an official DeepFill v2 TF1 checkpoint (directory or prefix),
        converted to RGB on load; cnum and guided mode are read from the checkpoint.
        `options`: the constructor's `hd_*` and `precision` arguments."""
        generator = convert.generator_from_official_checkpoint(os.fspath(path), channel_order="rgb")
        return cls(generator, **options)

    @classmethod
    def from_saved_model(cls, path: str | os.PathLike) -> Inpainter:
        """Loads an exported SavedModel: a version directory (holding `saved_model.pb`) or a base
        directory of numeric version directories, of which the largest number is used.

        The SavedModel must have the `inpaint_tensors` signature: `image` uint8 `[B, H, W, 3]`,
        `mask` uint8 `[B, H, W, 1]` (nonzero = hole), `edge` like `mask` for guided models,
        returning `{"output": uint8 [B, H, W, 3]}`.
        """
        directory = _saved_model_version_dir(os.fspath(path))
        try:
            loaded = tf.saved_model.load(directory)
        except (OSError, ValueError, tf.errors.OpError) as error:
            raise ValueError(f"Cannot load the SavedModel in {directory}: {error}") from error
        if SIGNATURE_KEY not in loaded.signatures:
            raise ValueError(
                f"The SavedModel in {directory} has no {SIGNATURE_KEY!r} signature "
                f"(it has {sorted(loaded.signatures) or 'none'})."
            )
        signature = loaded.signatures[SIGNATURE_KEY]
        inputs = set(signature.structured_input_signature[1])
        if not {"image", "mask"} <= inputs:
            raise ValueError(
                f"The {SIGNATURE_KEY!r} signature of {directory} takes {sorted(inputs)}, "
                f"expected 'image', 'mask' and, for guided models, 'edge'."
            )

        def runner(images, masks, edges):
            kwargs = {"image": tf.constant(images), "mask": tf.constant(masks)}
            if "edge" in inputs:
                kwargs["edge"] = tf.constant(edges)
            # `loaded` is referenced here so its variables live as long as the runner.
            return loaded.signatures[SIGNATURE_KEY](**kwargs)["output"].numpy()

        inpainter = cls.__new__(cls)
        inpainter._setup(runner, "edge" in inputs, None, f"SavedModel {directory!r}")
        return inpainter

    @classmethod
    def load(cls, path: str | os.PathLike, **options) -> Inpainter:
        """Loads a model, recognised by what `path` holds: a SavedModel (`saved_model.pb`, or
        numeric version directories holding one), a `*.weights.h5` file (or a directory with
        exactly one), or an official TF1 checkpoint (directory, prefix or one of its files).

        `options` (the constructor's `hd_*` and `precision` arguments) apply to weights and
        checkpoints; a SavedModel has its own, chosen at export.

        Raises:
            FileNotFoundError: nothing exists at `path`.
            ValueError: `path` is none of the three (the message says what was found), or
                `options` were given for a SavedModel.
        """
        path = os.fspath(path)
        kind, resolved = _model_kind(path)
        if kind == "saved_model":
            if options:
                raise ValueError(
                    f"{resolved} is a SavedModel: its {', '.join(sorted(options))} were fixed "
                    f"at export (gated-inpaint export --hd_strategy ... --precision ...)."
                )
            return cls.from_saved_model(resolved)
        loader = cls.from_weights if kind == "weights" else cls.from_official_checkpoint
        return loader(resolved, **options)

    def inpaint(self, image: Any, mask: Any, edge: Any = None) -> np.ndarray:
        """Fills the holes of one image.

        Args:
            image: uint8 array `[H, W, 3]`, `[H, W, 4]`, `[H, W]` or `[H, W, 1]`, or a PIL image.
            mask: `[H, W]` or `[H, W, 1]` array or PIL image, white / nonzero = hole.
            edge: guided generators only: a sketch map with the mask's rules, or None.

        Returns:
            uint8 `[H, W, 3]` RGB: the input outside the hole, the generator's output inside.
        """
        return self.inpaint_batch([image], [mask], None if edge is None else [edge])[0]

    def inpaint_batch(
        self,
        images: Sequence[Any],
        masks: Sequence[Any],
        edges: Sequence[Any] | None = None,
        batch_size: int = 8,
    ) -> list[np.ndarray]:
        """Fills the holes of several images, of the same or different sizes.

        Every input is checked before the network runs. Images of the same size go through
        the network together, at most `batch_size` at a time; the results keep the input order.

        Args:
            images, masks: sequences of the same length, each item as in `inpaint`.
            edges: guided generators only: None, or a sequence with an edge map (or None) per
                image.
            batch_size: the largest number of images in one network call.

        Returns:
            One uint8 `[H, W, 3]` array per image, in the order of `images`.
        """
        if len(images) != len(masks):
            raise ValueError(f"Got {len(images)} images but {len(masks)} masks.")
        if edges is not None and len(edges) != len(images):
            raise ValueError(f"Got {len(images)} images but {len(edges)} edge maps.")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}.")
        edges = [None] * len(images) if edges is None else list(edges)
        prepared = [
            self._prepare(image, mask, edge, where=f" (item {i})" if len(images) > 1 else "")
            for i, (image, mask, edge) in enumerate(zip(images, masks, edges, strict=True))
        ]
        by_size: dict[tuple[int, int], list[int]] = {}
        for i, (image, _, _) in enumerate(prepared):
            by_size.setdefault(image.shape[:2], []).append(i)
        results: dict[int, np.ndarray] = {}
        for indices in by_size.values():
            for start in range(0, len(indices), batch_size):
                chunk = indices[start : start + batch_size]
                batch = [np.stack([prepared[i][k] for i in chunk]) for k in range(3)]
                outputs = self._run(batch[0], batch[1], batch[2] if self.guided else None)
                for i, output in zip(chunk, outputs, strict=True):
                    results[i] = output
        return [results[i] for i in range(len(prepared))]

    def _prepare(
        self, image: Any, mask: Any, edge: Any, where: str
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Checked network inputs: RGB `[H, W, 3]`, mask and edge uint8 `[H, W, 1]` in {0, 1};
        `where` ends every error message (e.g. " (item 3)")."""
        rgb = _as_rgb(image, where)
        hole = _as_binary(mask, "mask", where)
        _check_same_size(rgb, hole, "mask", where)
        if edge is None:
            lines = np.zeros_like(hole)
        elif not self.guided:
            raise ValueError(f"An edge map was given, but this generator is not guided{where}.")
        else:
            lines = _as_binary(edge, "edge map", where)
            _check_same_size(rgb, lines, "edge map", where)
        return rgb, hole[..., None], lines[..., None]


def _as_rgb(image: Any, where: str) -> np.ndarray:
    """uint8 `[H, W, 3]` from a PIL image or a uint8 RGB, RGBA or grayscale array."""
    if isinstance(image, Image.Image):
        return np.asarray(image.convert("RGB"))
    array = np.asarray(image)
    if array.dtype != np.uint8:
        raise TypeError(
            f"The image must be a uint8 array or a PIL image, got dtype {array.dtype}{where}; "
            f"for floats in [0, 1] pass (x * 255).round().astype(np.uint8)."
        )
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.shape[-1] not in (1, 3, 4) or 0 in array.shape:
        raise ValueError(
            f"The image must have shape [H, W, 3] (RGB), [H, W, 4] (RGBA), [H, W] or "
            f"[H, W, 1] (grayscale) with H, W > 0, got {array.shape}{where}."
        )
    if array.shape[-1] == 1:
        return np.repeat(array, 3, axis=-1)
    return array[..., :3]


def _as_binary(mask: Any, name: str, where: str) -> np.ndarray:
    """uint8 `[H, W]` in {0, 1} from a mask or edge map (rules in the module docstring)."""
    if isinstance(mask, Image.Image):
        mask = mask.convert("L")
    array = np.asarray(mask)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim != 2 or 0 in array.shape:
        raise ValueError(
            f"The {name} must have shape [H, W] or [H, W, 1], got {array.shape}{where}."
        )
    if array.dtype == bool:
        return array.astype(np.uint8)
    if not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        raise TypeError(f"The {name} must be bool or numeric, got dtype {array.dtype}{where}.")
    low, high = array.min(), array.max()
    if np.isnan(high) or low < 0 or high > 255:
        raise ValueError(
            f"The {name} values must be in [0, 1] or [0, 255], got min {low} and max {high}{where}."
        )
    return (array > (0.5 if high <= 1 else 127.5)).astype(np.uint8)


def _check_same_size(image: np.ndarray, mask: np.ndarray, name: str, where: str) -> None:
    if mask.shape[:2] != image.shape[:2]:
        raise ValueError(
            f"The {name} has shape {mask.shape} but the image has shape {image.shape}{where}: "
            f"their height and width must be equal."
        )


def _saved_model_version_dir(path: str) -> str:
    """`path` if it holds `saved_model.pb`, else its numeric subdirectory with the largest
    number that holds one."""
    if os.path.isfile(os.path.join(path, "saved_model.pb")):
        return path
    versions = []
    if os.path.isdir(path):
        versions = [
            name
            for name in os.listdir(path)
            if name.isdigit() and os.path.isfile(os.path.join(path, name, "saved_model.pb"))
        ]
    if not versions:
        raise FileNotFoundError(
            f"No SavedModel in {path}: expected saved_model.pb in it or in a numeric version "
            f"subdirectory."
        )
    return os.path.join(path, max(versions, key=int))


def _is_hdf5(path: str) -> bool:
    with open(path, "rb") as f:
        return f.read(len(_HDF5_MAGIC)) == _HDF5_MAGIC


def _model_kind(path: str) -> tuple[str, str]:
    """`("saved_model" | "weights" | "checkpoint", path to load)` by what `path` holds."""
    if os.path.isfile(path):
        if not _CHECKPOINT_FILE.search(path) and (path.endswith(".h5") or _is_hdf5(path)):
            return "weights", path
        path = _CHECKPOINT_FILE.sub("", path)
    if os.path.exists(path + ".index"):
        return _checkpoint_kind(path), path
    if not os.path.isdir(path):
        if os.path.exists(path):
            raise ValueError(
                f"{path} is not a model: expected a SavedModel directory, a *.weights.h5 file "
                f"or a TF1 checkpoint."
            )
        raise FileNotFoundError(f"No model at {path}: the path does not exist.")
    try:
        return "saved_model", _saved_model_version_dir(path)
    except FileNotFoundError:
        pass
    weights = sorted(name for name in os.listdir(path) if name.endswith(".weights.h5"))
    if len(weights) == 1:
        return "weights", os.path.join(path, weights[0])
    try:
        return _checkpoint_kind(path), path
    except FileNotFoundError:
        pass
    found = f"several weights files ({', '.join(weights)})" if weights else "none of them"
    raise ValueError(
        f"{path} holds no model Inpainter can load: expected saved_model.pb (or numeric version "
        f"directories holding one), one *.weights.h5 file, or a TF1 checkpoint "
        f"('checkpoint' state file or one '<prefix>.index'); found {found}."
    )


def _checkpoint_kind(path: str) -> str:
    """Returns "checkpoint" for an official TF1 checkpoint; raises for a training checkpoint."""
    reader = tf.train.load_checkpoint(convert.resolve_checkpoint(path))
    if not reader.has_tensor(f"{convert.GENERATOR_SCOPE}/{_FIRST_CONV}/kernel") and (
        reader.has_tensor(_TF2_CHECKPOINT_KEY)
    ):
        raise ValueError(
            f"{path} is a TF2 training checkpoint (as train.py writes), not an official TF1 "
            f"checkpoint: export it to a SavedModel with export.py and load that."
        )
    return "checkpoint"
