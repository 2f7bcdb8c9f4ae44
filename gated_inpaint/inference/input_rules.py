"""The input rules of inpainting, one set for `Inpainter`, the commands, `evaluate` and the web
editor (the README's "Input rules"; the SavedModel follows them where a graph can, see
`serving.module`):

- files: read with Pillow and turned upright by their EXIF orientation (`read_image` for a
  path, `upright` for an opened file), in their own mode; so are PIL images given directly,
  e.g. `Image.open(photo)` of a phone photo.
- image: a PIL image of any mode, or a numpy array `[H, W, 3]` (RGB), `[H, W, 4]` (RGBA,
  alpha dropped), `[H, W]` or `[H, W, 1]` (grayscale, repeated to RGB), uint8 or uint16.
  16-bit images (uint16 arrays, PIL modes `I;16*`) are scaled to 8 bits (`/ 257`); 32-bit
  integer and float PIL images (`I`, `F`) too: `I` by 257 when its values fit 16 bits, else
  by `2**31 / 256` (signed 32-bit); `F` by 255 when its values are within [0, 1], else
  clipped to [0, 255].
  Float arrays are refused: convert them first, e.g. `(x * 255).round().astype(np.uint8)`.
- mask: the image's height and width; white (or any colour) = hole, black = keep.
  - A mask with transparent pixels (PIL alpha, or an `[H, W, 4]` array): the painted,
    opaque pixels (alpha > 127) are the hole, whatever their colour.
  - Otherwise a pixel is a hole where its brightest channel is above 127: white, red or any
    bright stroke counts, and lossy (JPEG) masks work.
  - Numeric arrays `[H, W]` or `[H, W, 1]`: bool: True = hole; a 0/1 mask (most of its
    nonzero values are 1, so a stray other value does not change the rule): nonzero = hole;
    floats up to 1: > 0.5; other numbers (8-bit masks): > 127. Negative values, NaN and
    values above 255 (65535 for uint16, which is scaled like an image) are refused.
  - A mask with no hole, or whose hole covers more than `MOST_HOLE` of the image (inverted?),
    gives a `MaskWarning`.
- edge (guided generators only): the mask's rules; 1 = sketch line, used inside the hole.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from PIL import Image, ImageOps

THRESHOLD = 127  # 8-bit values above this are holes (or edges)
MOST_HOLE = 0.7  # a hole above this share of the image is probably an inverted mask
HIGH_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")


class MaskWarning(UserWarning):
    """A mask that fills nothing or almost everything: probably not what the user meant."""


def read_image(path: str, what: str) -> Image.Image:
    """The image file at `path`, loaded and upright by its EXIF orientation, in its own mode
    (`what` names it in errors, e.g. "mask")."""
    try:
        with Image.open(path) as image:
            return upright(image)
    except FileNotFoundError as error:
        raise FileNotFoundError(f"the {what} {path} does not exist") from error
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        raise ValueError(f"cannot read the {what} {path}: {error}") from error


def upright(image: Image.Image) -> Image.Image:
    """`image` decoded and turned upright by its EXIF orientation (a loaded copy, in its own
    mode). Raises what Pillow raises for undecodable data (OSError, ValueError)."""
    turned = ImageOps.exif_transpose(image)
    turned.load()
    return turned


def _to_8_bits(values: np.ndarray, mode: str) -> np.ndarray:
    """uint8 from the values of a 16-bit, 32-bit or float image (rules in the docstring)."""
    values = np.asarray(values, np.float64)
    if mode == "F":
        scaled = values * 255.0 if values.size and values.max() <= 1.0 else values
    elif mode == "I" and values.size and values.max() > 65535:
        scaled = values / (2**31 / 256)  # signed 32-bit
    else:
        scaled = values / 257.0
    return np.clip(np.round(scaled), 0, 255).astype(np.uint8)


def _pil_rgb(image: Image.Image) -> np.ndarray:
    image = upright(image)
    if image.mode in HIGH_BIT_MODES:
        gray = _to_8_bits(np.asarray(image), image.mode)
        return np.repeat(gray[..., None], 3, axis=-1)
    return np.asarray(image.convert("RGB"))


def as_rgb(image: Any, where: str) -> np.ndarray:
    """uint8 `[H, W, 3]` from a PIL image or a uint8/uint16 RGB, RGBA or grayscale array;
    `where` ends every error message (e.g. " (item 3)")."""
    if isinstance(image, Image.Image):
        return _pil_rgb(image)
    array = np.asarray(image)
    if array.dtype not in (np.uint8, np.uint16):
        raise TypeError(
            f"The image must be a uint8 (or uint16) array or a PIL image, got dtype "
            f"{array.dtype}{where}; for floats in [0, 1] pass (x * 255).round().astype(np.uint8)."
        )
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.shape[-1] not in (1, 3, 4) or 0 in array.shape:
        raise ValueError(
            f"The image must have shape [H, W, 3] (RGB), [H, W, 4] (RGBA), [H, W] or "
            f"[H, W, 1] (grayscale) with H, W > 0, got {array.shape}{where}."
        )
    if array.dtype == np.uint16:
        array = _to_8_bits(array, "I;16")
    if array.shape[-1] == 1:
        return np.repeat(array, 3, axis=-1)
    return array[..., :3]


def _painted(rgba: np.ndarray) -> np.ndarray:
    """bool `[H, W]` of an 8-bit `[H, W, 3 or 4]` mask: the opaque pixels if some are
    transparent, else those whose brightest colour channel is above `THRESHOLD`."""
    if rgba.shape[-1] == 4 and rgba[..., 3].min() <= THRESHOLD:
        return rgba[..., 3] > THRESHOLD
    return rgba[..., :3].max(axis=-1) > THRESHOLD


def _pil_binary(mask: Image.Image) -> np.ndarray:
    mask = upright(mask)
    if mask.mode in HIGH_BIT_MODES:
        return _to_8_bits(np.asarray(mask), mask.mode) > THRESHOLD
    has_alpha = "A" in mask.getbands() or "transparency" in mask.info
    return _painted(np.asarray(mask.convert("RGBA" if has_alpha else "RGB")))


def _numeric_binary(array: np.ndarray, name: str, where: str) -> np.ndarray:
    """bool `[H, W]` of a bool or numeric `[H, W]` mask (rules in the docstring)."""
    if array.dtype == bool:
        return array
    if not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        raise TypeError(f"The {name} must be bool or numeric, got dtype {array.dtype}{where}.")
    if array.dtype == np.uint16:
        array = _to_8_bits(array, "I;16")
    low, high = array.min(), array.max()
    if np.isnan(high) or low < 0 or high > 255:
        raise ValueError(
            f"The {name} values must be in [0, 1] or [0, 255], got min {low} and max {high}{where}."
        )
    if np.issubdtype(array.dtype, np.floating):
        return array > (0.5 if high <= 1 else THRESHOLD + 0.5)
    nonzero = array[array > 0]
    zero_one = nonzero.size > 0 and np.count_nonzero(nonzero == 1) * 2 > nonzero.size
    return array > (0 if zero_one else THRESHOLD)


def as_binary(mask: Any, name: str, where: str) -> np.ndarray:
    """uint8 `[H, W]` in {0, 1} from a mask or edge map (rules in the module docstring)."""
    if isinstance(mask, Image.Image):
        return _pil_binary(mask).astype(np.uint8)
    array = np.asarray(mask)
    if array.ndim == 3 and array.shape[-1] in (3, 4) and 0 not in array.shape:
        if array.dtype != np.uint8:
            raise ValueError(
                f"The {name} must be a uint8 colour image [H, W, 3 or 4], or numeric with shape "
                f"[H, W] or [H, W, 1], got dtype {array.dtype} and shape {array.shape}{where}."
            )
        return _painted(array).astype(np.uint8)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim != 2 or 0 in array.shape:
        raise ValueError(
            f"The {name} must have shape [H, W], [H, W, 1] or [H, W, 3 or 4] (colour), got "
            f"{array.shape}{where}."
        )
    return _numeric_binary(array, name, where).astype(np.uint8)


def warn_about_coverage(hole: np.ndarray, where: str) -> None:
    """A `MaskWarning` when `hole` (`[H, W]` in {0, 1}) is empty or above `MOST_HOLE`."""
    coverage = float(np.mean(hole))
    if coverage == 0:
        warnings.warn(
            f"The mask has no hole{where}: nothing is filled (white or painted = hole).",
            MaskWarning,
            stacklevel=3,
        )
    elif coverage > MOST_HOLE:
        warnings.warn(
            f"The mask makes {coverage:.0%} of the image a hole{where}: white or painted = "
            f"hole, black = keep. Is it inverted?",
            MaskWarning,
            stacklevel=3,
        )


def check_same_size(image: np.ndarray, mask: np.ndarray, name: str, where: str) -> None:
    """Raises ValueError unless `mask` (named `name` in the message) has `image`'s height
    and width."""
    if mask.shape[:2] != image.shape[:2]:
        turned = (
            " The sizes match turned by 90 degrees: is one of them a photo turned by its EXIF "
            "orientation? PIL images and files are turned upright here, numpy arrays are not."
            if mask.shape[:2] == image.shape[1::-1]
            else ""
        )
        raise ValueError(
            f"The {name} has shape {mask.shape} but the image has shape {image.shape}{where}: "
            f"their height and width must be equal.{turned}"
        )
