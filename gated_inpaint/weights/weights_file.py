"""Keras `*.weights.h5` files of an `InpaintGenerator` (`gated-inpaint convert` output, or
`generator.save_weights`)."""

from __future__ import annotations

import os

import h5py

from gated_inpaint.models import InpaintGenerator
from gated_inpaint.models.generator import FIRST_CONV
from gated_inpaint.weights.settings import generator_settings


def weights_file_settings(path: str) -> dict:
    """`{"cnum", "guided"}` of the `InpaintGenerator` whose Keras `.weights.h5` file is `path`.

    Keras stores a layer's variables in a group named `vars` whose `name` attribute is
    the layer name, the kernel as dataset `0`; conv1's kernel is `[5, 5, 5 or 6, cnum]`.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No weights file at {path}.")
    kernels = []

    def visit(name, item):
        if isinstance(item, h5py.Group) and item.attrs.get("name") == FIRST_CONV and "0" in item:
            kernels.append(item["0"].shape)

    try:
        with h5py.File(path, "r") as f:
            f.visititems(visit)
    except OSError as error:
        raise ValueError(f"{path} is not a Keras weights (HDF5) file: {error}") from error
    kernels = [k for k in kernels if len(k) == 4 and k[2] in (5, 6)]
    if len(kernels) != 1:
        raise ValueError(
            f"{path} is not an InpaintGenerator weights file: expected one {FIRST_CONV!r} "
            f"kernel of shape [5, 5, 5 or 6, cnum], found {len(kernels)}."
        )
    _, _, channels_in, cnum = kernels[0]
    return {"cnum": int(cnum), "guided": channels_in == 6}


def generator_from_weights(
    path: str, cnum: int | None = None, guided: bool | None = None
) -> InpaintGenerator:
    """A generator loaded from a Keras `.weights.h5` file of an `InpaintGenerator`.

    cnum and guided are read from the shape of conv1's kernel in the file; `cnum` and
    `guided`, if given, must agree with it.
    """
    if not path.endswith(".weights.h5"):
        raise ValueError(f"{path}: expected a Keras generator weights file (*.weights.h5).")
    found = weights_file_settings(path)
    generator = InpaintGenerator(**generator_settings(found, cnum, guided, path))
    generator.build((1, None, None, 3))
    generator.load_weights(path)
    return generator
