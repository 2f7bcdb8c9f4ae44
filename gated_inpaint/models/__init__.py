"""DeepFill v2 networks. The names below import TensorFlow on first use, so that
`gated_inpaint.models.options` does not."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gated_inpaint.models.discriminator import SNPatchGANDiscriminator
    from gated_inpaint.models.generator import InpaintGenerator
    from gated_inpaint.models.inpainting_model import InpaintingModel

__all__ = ["InpaintGenerator", "InpaintingModel", "SNPatchGANDiscriminator"]
_MODULES = {
    "InpaintGenerator": "generator",
    "InpaintingModel": "inpainting_model",
    "SNPatchGANDiscriminator": "discriminator",
}


def __getattr__(name: str):
    if name in _MODULES:
        return getattr(importlib.import_module(f"{__name__}.{_MODULES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
