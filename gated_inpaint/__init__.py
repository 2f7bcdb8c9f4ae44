"""gated_inpaint: DeepFill v2 free-form image inpainting for TensorFlow 2 / Keras 3.

`import gated_inpaint` imports nothing else: `gated_inpaint.Inpainter` imports TensorFlow on
first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gated_inpaint.inference.inpainter import Inpainter

__version__ = "0.1.0"
__all__ = ["Inpainter", "__version__"]


def __getattr__(name: str):
    if name == "Inpainter":
        from gated_inpaint.inference.inpainter import Inpainter

        return Inpainter
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), "Inpainter"])
