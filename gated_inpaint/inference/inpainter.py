"""`Inpainter`: fill the holes of ordinary images (numpy or PIL, any size) with a trained generator.

Inputs follow the rules of `gated_inpaint.inference.input_rules`, shared by the commands; a
guided generator given no edge map gets no sketch lines (an all-zero edge map).

Results are uint8 `[H, W, 3]` RGB arrays of the input's size: known pixels are exactly the
input's RGB values, hole pixels come from the generator (see `uint8_graph.inpaint_uint8`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from gated_inpaint.inference.input_rules import (
    as_binary,
    as_rgb,
    check_same_size,
    warn_about_coverage,
)
from gated_inpaint.inference.litert_runner import LiteRTRunner
from gated_inpaint.inference.onnx_runner import OnnxRunner
from gated_inpaint.inference.options import HDStrategy
from gated_inpaint.inference.runners import GeneratorRunner, Runner
from gated_inpaint.inference.saved_model import SavedModelRunner
from gated_inpaint.models.generator import InpaintGenerator
from gated_inpaint.weights.model_path import model_kind
from gated_inpaint.weights.official import generator_from_official_checkpoint
from gated_inpaint.weights.weights_file import generator_from_weights


class Inpainter:
    """Fills free-form holes in images of any size with a DeepFill v2 generator.

    Build one with `Inpainter(generator)` from an `InpaintGenerator` in memory, or load one:
    `Inpainter.load(path)` recognises an exported SavedModel, a converted `*.weights.h5` file,
    an official TF1 checkpoint, or a LiteRT (`.tflite`) or ONNX (`.onnx`) export;
    `from_saved_model`, `from_weights`, `from_official_checkpoint`, `from_litert` and
    `from_onnx` load one kind explicitly. Input conventions (image modes, mask
    polarity and thresholds) are in `gated_inpaint.inference.input_rules`.

    With a Keras generator the network runs in a `runners.GeneratorRunner`: the first call
    traces the graph, which every later call reuses, whatever its size or batch size.

    Large photos: images whose long side exceeds `hd_max_size` are filled as `hd_strategy`
    says (see `gated_inpaint.inference.hd_strategy`): by default the box around the holes plus
    `hd_margin` pixels, scaled down to `hd_max_size` if still larger, so time and memory stay
    bounded whatever the photo's size. A SavedModel's strategy and precision are the ones
    chosen at export; a LiteRT or ONNX export fills the whole image at full resolution and
    refuses images above the `max_pixels` chosen at export.

    Args:
        generator: an `InpaintGenerator` that takes RGB (official weights converted with
            `channel_order="rgb"`, which the loaders do).
        hd_strategy: `"crop"`, `"resize"` or `"original"`.
        hd_max_size: the long side, in pixels, above which `hd_strategy` applies.
        hd_margin: `crop`: pixels of context around the holes' box.
        precision: `"float32"`, `"bfloat16"` (faster on CPUs with AVX512-BF16 or AMX) or
            `"float16"` (GPUs): what the generator computes in.
        jit_compile: compile the network step with XLA (`gated_inpaint.inference.xla`),
            once for each image size met: faster for images of a few fixed sizes, mostly
            on GPUs; results match the uncompiled graph up to rounding.

    Attributes:
        guided: whether the generator takes an edge (sketch) map.
        generator: the Keras generator, or None for a SavedModel.
        runner: the `runners.Runner` that fills a batch.

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
        jit_compile: bool = False,
    ):
        hd = HDStrategy(hd_strategy, hd_max_size, hd_margin)
        self._use(GeneratorRunner(generator, hd, precision, jit_compile))

    @classmethod
    def from_runner(cls, runner: Runner) -> Inpainter:
        """An `Inpainter` around any `Runner` (e.g. a `saved_model.SavedModelRunner`)."""
        inpainter = cls.__new__(cls)
        inpainter._use(runner)
        return inpainter

    def _use(self, runner: Runner) -> None:
        self.runner = runner
        self.guided = bool(runner.guided)
        self.generator = runner.generator if isinstance(runner, GeneratorRunner) else None

    def __repr__(self) -> str:
        return f"Inpainter({self.runner.description}, guided={self.guided})"

    @classmethod
    def from_weights(cls, path: str | os.PathLike, **options) -> Inpainter:
        """Loads a Keras `*.weights.h5` file of an `InpaintGenerator` (`gated-inpaint convert`
        output, or `generator.save_weights`); cnum and guided mode are read from the file.
        `options`: the constructor's `hd_*`, `precision` and `jit_compile` arguments."""
        return cls(generator_from_weights(os.fspath(path)), **options)

    @classmethod
    def from_official_checkpoint(cls, path: str | os.PathLike, **options) -> Inpainter:
        """Loads the generator of an official DeepFill v2 TF1 checkpoint (directory or prefix),
        converted to RGB on load; cnum and guided mode are read from the checkpoint.
        `options`: the constructor's `hd_*`, `precision` and `jit_compile` arguments."""
        generator = generator_from_official_checkpoint(os.fspath(path), channel_order="rgb")
        return cls(generator, **options)

    @classmethod
    def from_saved_model(cls, path: str | os.PathLike) -> Inpainter:
        """Loads an exported SavedModel: a version directory (holding `saved_model.pb`) or a base
        directory of numeric version directories, of which the largest number is used.

        The SavedModel must have the `inpaint_tensors` signature: `image` uint8 `[B, H, W, 3]`,
        `mask` uint8 `[B, H, W, 1]` (nonzero = hole), `edge` like `mask` for guided models,
        returning `{"output": uint8 [B, H, W, 3]}`.
        """
        return cls.from_runner(SavedModelRunner(os.fspath(path)))

    @classmethod
    def from_litert(cls, path: str | os.PathLike) -> Inpainter:
        """Loads a LiteRT `.tflite` export (`gated-inpaint export --format litert`), run in
        ai-edge-litert's interpreter; the whole image at full resolution, up to the file's
        `max_pixels` (see `gated_inpaint.inference.device_contract`)."""
        return cls.from_runner(LiteRTRunner(os.fspath(path)))

    @classmethod
    def from_onnx(cls, path: str | os.PathLike) -> Inpainter:
        """Loads an ONNX `.onnx` export (`gated-inpaint export --format onnx`), run in
        onnxruntime; the whole image at full resolution, up to the file's `max_pixels`."""
        return cls.from_runner(OnnxRunner(os.fspath(path)))

    @classmethod
    def load(cls, path: str | os.PathLike, **options) -> Inpainter:
        """Loads a model, recognised by what `path` holds: a SavedModel (`saved_model.pb`, or
        numeric version directories holding one), a `*.weights.h5` file (or a directory with
        exactly one), an official TF1 checkpoint (directory, prefix or one of its files), or
        a device export (a LiteRT `.tflite` or an ONNX `.onnx` file).

        `options` (the constructor's `hd_*`, `precision` and `jit_compile` arguments) apply
        to weights and checkpoints; an export has its own, chosen at export.

        Raises:
            FileNotFoundError: nothing exists at `path`.
            ValueError: `path` is none of these (the message says what was found), or
                `options` were given for an export.
        """
        path = os.fspath(path)
        kind, resolved = model_kind(path)
        exports = {
            "saved_model": ("a SavedModel", cls.from_saved_model),
            "litert": ("a LiteRT model", cls.from_litert),
            "onnx": ("an ONNX model", cls.from_onnx),
        }
        if kind in exports:
            what, loader = exports[kind]
            if options:
                raise ValueError(
                    f"{resolved} is {what}: its {', '.join(sorted(options))} were fixed "
                    f"at export (gated-inpaint export --hd_strategy ... --precision ...)."
                )
            return loader(resolved)
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
                outputs = self.runner(batch[0], batch[1], batch[2] if self.guided else None)
                for i, output in zip(chunk, outputs, strict=True):
                    results[i] = output
        return [results[i] for i in range(len(prepared))]

    def _prepare(
        self, image: Any, mask: Any, edge: Any, where: str
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Checked network inputs: RGB `[H, W, 3]`, mask and edge uint8 `[H, W, 1]` in {0, 1};
        `where` ends every error message (e.g. " (item 3)")."""
        rgb = as_rgb(image, where)
        hole = as_binary(mask, "mask", where)
        check_same_size(rgb, hole, "mask", where)
        warn_about_coverage(hole, where)
        if edge is None:
            lines = np.zeros_like(hole)
        elif not self.guided:
            raise ValueError(f"An edge map was given, but this generator is not guided{where}.")
        else:
            lines = as_binary(edge, "edge map", where)
            check_same_size(rgb, lines, "edge map", where)
        return rgb, hole[..., None], lines[..., None]
