"""The input rules of inpainting, shared by `Inpainter`, the commands and `evaluate`:

- files: read with Pillow and turned upright by their EXIF orientation (`read_image`).

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
  the hole.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image, ImageOps


def read_image(path: str, mode: str, what: str) -> Image.Image:
    """The image at `path` in PIL `mode`, upright by its EXIF orientation."""
    try:
        with Image.open(path) as image:
            return ImageOps.exif_transpose(image).convert(mode)
    except FileNotFoundError as error:
        raise FileNotFoundError(f"the {what} {path} does not exist") from error
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        raise ValueError(f"cannot read the {what} {path}: {error}") from error


def as_rgb(image: Any, where: str) -> np.ndarray:
    """uint8 `[H, W, 3]` from a PIL image or a uint8 RGB, RGBA or grayscale array; `where` ends
    every error message (e.g. " (item 3)")."""
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


def as_binary(mask: Any, name: str, where: str) -> np.ndarray:
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


def check_same_size(image: np.ndarray, mask: np.ndarray, name: str, where: str) -> None:
    """Raises ValueError unless `mask` (named `name` in the message) has `image`'s height
    and width."""
    if mask.shape[:2] != image.shape[:2]:
        raise ValueError(
            f"The {name} has shape {mask.shape} but the image has shape {image.shape}{where}: "
            f"their height and width must be equal."
        )
