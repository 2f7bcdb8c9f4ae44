"""The inference options and SavedModel signature names, importable without TensorFlow (the
commands' --help shows them): `HDStrategy` (see `hd_strategy` for what the strategies do) and
the precisions."""

from __future__ import annotations

from dataclasses import dataclass

HD_STRATEGIES = ("original", "crop", "resize")
PRECISIONS = {"float32": "float32", "bfloat16": "mixed_bfloat16", "float16": "mixed_float16"}
SERVING_SIGNATURE = "serving_default"  # encoded image bytes in, PNG bytes out
TENSOR_SIGNATURE = "inpaint_tensors"  # uint8 tensors in and out


@dataclass(frozen=True)
class HDStrategy:
    """How photos with a long side above `max_size` px are filled (see
    `gated_inpaint.inference.hd_strategy`).

    Args:
        strategy: `"original"`, `"crop"` or `"resize"`.
        max_size: the largest long side, in pixels, that the network is run at by `crop`
            and `resize` (at least 64).
        margin: `crop` only: pixels of context kept around the holes' box on each side.
    """

    strategy: str = "crop"
    max_size: int = 1024
    margin: int = 128

    def __post_init__(self):
        if self.strategy not in HD_STRATEGIES:
            choices = ", ".join(HD_STRATEGIES)
            raise ValueError(f"Unknown hd_strategy {self.strategy!r}: expected one of {choices}.")
        if int(self.max_size) < 64:
            raise ValueError(f"hd_max_size must be at least 64 pixels, got {self.max_size}.")
        if int(self.margin) < 0:
            raise ValueError(f"hd_margin must be 0 or more pixels, got {self.margin}.")


DEFAULT_HD = HDStrategy()
