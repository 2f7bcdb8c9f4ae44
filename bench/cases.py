"""The bench cases: each measures one thing in a fresh process (`run.py --child SPEC`) and
writes a JSON dict. TensorFlow is imported only inside the cases, never by the parent."""

from __future__ import annotations

import dataclasses
import json
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

PRECISIONS = ("float32", "bfloat16")
HD_ARGUMENTS = ("hd_strategy", "hd_max_size", "hd_margin")
CNUM = 48
FREEFORM_COVERAGE = 0.10


def pad8(n: int) -> int:
    """`n` rounded up to a multiple of 8 (the size the generator runs at)."""
    return -(-n // 8) * 8


def _set_policy(precision: str) -> None:
    import keras

    keras.mixed_precision.set_global_policy(
        "mixed_bfloat16" if precision == "bfloat16" else "float32"
    )


def _export_hd_default() -> dict:
    """The high-resolution strategy `export_saved_model` uses by default."""
    from gated_inpaint.inference.hd_strategy import DEFAULT_HD

    return dataclasses.asdict(DEFAULT_HD)


def child_setup(spec: dict) -> dict:
    """Versions, the matmul rates and the FLOP counts of every shape."""
    import keras
    import tensorflow as tf
    from common import timings

    from gated_inpaint.models import InpaintGenerator
    from gated_inpaint.models.flops import generator_flops

    matmul = []
    for precision in PRECISIONS:
        for n in spec["matmul_sizes"]:
            a = tf.cast(tf.random.normal([n, n], seed=1), precision)
            b = tf.cast(tf.random.normal([n, n], seed=2), precision)
            # Eager CPU ops run synchronously; reading one element avoids a 64 MB copy.
            t = timings(lambda a=a, b=b: tf.linalg.matmul(a, b)[0, 0].numpy(), spec["runs"])
            del a, b
            matmul.append(
                {
                    "precision": precision,
                    "n": n,
                    **t,
                    "gflops": 2 * n**3 / t["median_s"] / 1e9,
                    "max_gflops": 2 * n**3 / t["min_s"] / 1e9,
                }
            )
    export_hd = _export_hd_default()
    shapes = [tuple(shape) for shape in spec["flop_shapes"]]
    shapes.append((pad8(export_hd["max_size"]),) * 2)
    generator = InpaintGenerator(cnum=CNUM)
    counts = {f"{h}x{w}": generator_flops(generator, h, w) for h, w in shapes}
    return {
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "matmul": matmul,
        "flops": {shape: count["by_kind"] for shape, count in counts.items()},
        "executed_flops": {shape: count["executed"] for shape, count in counts.items()},
        # Scores held at once by the contextual attention (None: all, quadratic in pixels).
        "attention_chunk_elements": generator.contextual_attention.chunk_elements,
        "export_hd_default": export_hd,
    }


def child_forward(spec: dict) -> dict:
    """The Keras generator forward at one size and precision: centred rectangular hole, and
    (`spec["with_freeform"]`) a free-form hole."""
    import numpy as np
    import tensorflow as tf
    from common import (
        freeform_mask,
        peak_rss_mb,
        random_generator,
        rect_mask,
        smooth_image,
        timings,
    )

    _set_policy(spec["precision"])
    generator = random_generator(CNUM)
    size, runs = spec["size"], spec["runs"]
    image = tf.constant(smooth_image(size, size)[None].astype("float32") / 127.5 - 1.0)
    masks = {"rect": rect_mask(size, size)}
    if spec["with_freeform"]:
        masks["freeform"] = freeform_mask(size, size, FREEFORM_COVERAGE)
    forward = tf.function(lambda i, m: generator(i, m)[1])
    result = {"base_rss_mb": peak_rss_mb(), "dtype_policy": generator.dtype_policy.name}
    for name, mask in masks.items():
        m = tf.constant(mask[None, ..., None].astype("float32"))
        last = {}

        def call(m=m, last=last):
            last["output"] = forward(image, m).numpy()

        # The free-form run reuses the traced graph: its first call is its warm-up.
        result[name] = timings(call, runs, warmup=2 if name == "rect" else 1)
        result[name]["hole_fraction"] = float(mask.mean())
        result[name]["output_std"] = float(np.std(last["output"].astype("float32")))
    return result


def child_export(spec: dict) -> dict:
    """Exports the random-weight generator in one precision; checks the `inpaint_tensors`
    signature of the reloaded SavedModel."""
    import tensorflow as tf
    from common import random_generator

    from gated_inpaint.inference.saved_model import TENSOR_SIGNATURE
    from gated_inpaint.serving.export import export_saved_model

    generator = random_generator(CNUM)
    export_dir = os.path.join(spec["dir"], f"saved_model_{spec['precision']}")
    path = export_saved_model(generator, export_dir, compute_precision=spec["precision"])
    signature = tf.saved_model.load(path).signatures[TENSOR_SIGNATURE]
    inputs = {k: v.dtype.name for k, v in signature.structured_input_signature[1].items()}
    outputs = {k: v.dtype.name for k, v in signature.structured_outputs.items()}
    if inputs != {"image": "uint8", "mask": "uint8"} or outputs != {"output": "uint8"}:
        raise ValueError(f"Unexpected inpaint_tensors signature: {inputs} -> {outputs}")
    return {
        "path": path,
        "hd": _export_hd_default(),
        "signature": {"inputs": inputs, "outputs": outputs},
    }


def child_saved_model(spec: dict) -> dict:
    """The exported model's signatures at one size (bench/serving_latency.py's `measure`)."""
    import serving_latency

    return serving_latency.measure(
        spec["path"], "saved_model_load", spec["size"], spec["runs"], spec["signatures"]
    )


def photo(path: str, height: int, width: int) -> np.ndarray:
    """The photo at `path` resized (bicubic) to `height x width`, uint8 RGB."""
    import numpy as np
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert("RGB").resize((width, height), Image.BICUBIC))


def child_hd(spec: dict) -> dict:
    """`Inpainter.inpaint` on one high-resolution photo with one hd_strategy and precision."""
    from common import freeform_mask, random_generator, timings

    from gated_inpaint import Inpainter

    options = {k: spec[k] for k in HD_ARGUMENTS}
    inpainter = Inpainter(random_generator(CNUM), precision=spec["precision"], **options)
    image = photo(spec["photo"], spec["height"], spec["width"])
    mask = freeform_mask(spec["height"], spec["width"], FREEFORM_COVERAGE) * 255
    result = timings(lambda: inpainter.inpaint(image, mask), spec["runs"], warmup=1)
    return {**result, "hole_fraction": float((mask > 0).mean()), "inpainter": repr(inpainter)}


def child_xla_forward(spec: dict) -> dict:
    """XLA against no XLA at one size, float32: the generator forward and the uint8 graph, and
    how far their results are apart (bench/xla_forward.py's `measure`)."""
    import xla_forward
    from common import random_generator

    return xla_forward.measure(random_generator(CNUM), spec["size"], spec["runs"])


def child_train(spec: dict) -> dict:
    """Training steps at one precision, XLA-compiled or not (bench/train_step.py's `measure`)."""
    import train_step

    return train_step.measure(
        spec["size"],
        spec["batch"],
        spec["steps"],
        spec["precision"] == "bfloat16",
        spec.get("jit_compile", False),
    )


def child_masks(spec: dict) -> dict:
    """Training masks per second of every mask type (bench/bench_masks.py)."""
    from bench_masks import BATCH_SIZE, masks_per_second

    from gated_inpaint.data.masks import MASK_TYPES

    rates = {t: masks_per_second(t, spec["batches"], spec["runs"]) for t in MASK_TYPES}
    return {"batch_size": BATCH_SIZE, "masks_per_s": rates}


CHILDREN = {
    "setup": child_setup,
    "forward": child_forward,
    "export": child_export,
    "saved_model": child_saved_model,
    "hd": child_hd,
    "xla_forward": child_xla_forward,
    "train": child_train,
    "masks": child_masks,
}


def run_child(spec: dict, out: str) -> None:
    """Runs the case `spec["kind"]` in this process and writes its result, with this process's
    peak RSS, to the JSON file `out`."""
    from common import peak_rss_mb

    result = {"status": "ok", **CHILDREN[spec["kind"]](spec)}
    result["peak_rss_mb"] = peak_rss_mb()
    with open(out, "w") as f:
        json.dump(result, f)
