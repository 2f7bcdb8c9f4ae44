"""FLOP count of an `InpaintGenerator` forward pass, from its layers.

Counted (one multiply-add = 2 FLOPs):

- every convolution: the conv inside each `GatedConv2D` and each `GatedDeconv2D` (x2 nearest
  upsampling, then a stride-1 3x3 conv on the upsampled map), `2 * k * k * C_in * C_out *
  H_out * W_out`, where `C_out` is the conv's own output count (`2 * filters` for a gated
  layer: the features and the gate). The dilation changes which inputs are read, not how
  many, so it does not enter the count;
- contextual attention's two matrix products (see `ContextualAttention.call`), with `h * w`
  the positions of the features downscaled by `rate` and `L = h * w` the patches (stride 1):
  the scores `[h*w, k*k*C] x [k*k*C, L]` and the paste `[h*w, L] x [L, (2*rate)^2 * C]`.

Not counted: every elementwise or data-movement op: bias adds, ELU/ReLU, sigmoid, the gating
product, tanh, input masking and concatenation, upsampling, resizing, patch extraction, the
patch norms, and the attention's fuse (diagonal sums), masking and softmax. They are a few
FLOPs per element, negligible next to the convolutions at the official width, but the ones
on the `[h*w, L]` score matrix are memory-bound and take real time at large sizes.

The count is the work of the mathematical operation, not of its implementation: a dilated
convolution run as space-to-batch + conv + batch-to-space (`tf.nn.convolution`) also
convolves the padding that makes the map divisible by the rate. Rates computed from this
count are rates of useful work, comparable with the official graph, which computes every
layer as written.

Two implementation choices change the work, and their entries also have `executed_flops`,
which `generator_flops` totals in `executed` (what the matmul and convolution ops of the
unchunked graph compute): `GatedDeconv2D` computes its conv on the small map, as four 2x2
phase convolutions (`gated_inpaint.layers.upsample_conv`), 4/9 of the multiply-adds of the
3x3 conv on the upsampled map; and the attention's scores, with fuse, are computed against
`fuse_k - 1` zero positions and patches beyond the ends (`RowChunks`), `(h*w + fuse_k - 1) x
(L + fuse_k - 1)` scores. In blocks of rows (once the scores exceed `chunk_elements`) each
block adds `fuse_k - 1` such positions, and the wrapped top and bottom rows are computed once
more, `fuse_k - 1` rows in all.
"""

from __future__ import annotations

import math

from gated_inpaint.layers import ContextualAttention, GatedConv2D, GatedDeconv2D

EXCLUDED = (
    "elementwise and data-movement ops: bias adds, activations, gating products, tanh, "
    "masking, concatenation, upsampling, resizing, patch extraction and norms, the "
    "attention's fuse (diagonal sums), masking and softmax"
)


def conv_flops(layer: GatedConv2D, height: int, width: int) -> dict:
    """FLOPs of the convolution of a built `GatedConv2D` on an input of `height x width`.

    Returns:
        `{"kind": "conv", "flops", "input": [H, W, C_in], "output": [H_out, W_out, C_out],
        "kernel", "stride"}`, `C_out` the conv's outputs (features and gate).
    """
    k, _, c_in, c_out = (int(n) for n in layer.kernel.shape)
    s = layer.strides
    h_out, w_out = math.ceil(height / s), math.ceil(width / s)
    return {
        "kind": "conv",
        "flops": 2 * k * k * c_in * c_out * h_out * w_out,
        "input": [height, width, c_in],
        "output": [h_out, w_out, c_out],
        "kernel": k,
        "stride": s,
    }


def upsample_conv_flops(layer: GatedDeconv2D, height: int, width: int) -> dict:
    """FLOPs of the convolution of a built `GatedDeconv2D` on an input of `height x width`:
    `conv_flops` of its 3x3 conv on the `2 * height x 2 * width` upsampled map, plus
    `executed_flops`, those of the 2x2 phase convolution it runs instead, `4 * C_out` outputs
    on the `(height + 1) x (width + 1)` padded small map."""
    entry = conv_flops(layer.conv, 2 * height, 2 * width)
    c_in, c_out = entry["input"][2], entry["output"][2]
    entry["executed_flops"] = 2 * 2 * 2 * c_in * 4 * c_out * (height + 1) * (width + 1)
    return entry


def attention_flops(layer: ContextualAttention, height: int, width: int, channels: int) -> dict:
    """FLOPs of the two matrix products of `ContextualAttention` on `[height, width, channels]`
    features (the features have the attention encoder's resolution, 1/4 of the image).

    Returns:
        `{"<name>/scores": {...}, "<name>/paste": {...}}`, each with `kind` "attention",
        `flops` and the matrix shapes `[m, k] x [k, n]` as `"matmul": [m, k, n]`; with fuse,
        the scores also have `executed_flops` (against the zero-padded ends).
    """
    positions = (height // layer.rate) * (width // layer.rate)  # h * w
    patches = math.ceil(height // layer.rate / layer.stride) * math.ceil(
        width // layer.rate / layer.stride
    )  # L
    shapes = {
        "scores": [positions, layer.ksize**2 * channels, patches],
        "paste": [positions, patches, (2 * layer.rate) ** 2 * channels],
    }
    entries = {
        f"{layer.name}/{part}": {"kind": "attention", "flops": 2 * m * k * n, "matmul": [m, k, n]}
        for part, (m, k, n) in shapes.items()
    }
    if layer.fuse and layer.fuse_k > 1:
        m, k, n = (
            size + layer.fuse_k - 1 if i != 1 else size for i, size in enumerate(shapes["scores"])
        )
        entries[f"{layer.name}/scores"]["executed_flops"] = 2 * m * k * n
    return entries


def _walk(blocks: list, height: int, width: int, layers: dict) -> tuple[int, int, int]:
    """Adds the convs of `blocks` (applied in order) to `layers`; returns the output size."""
    channels = None
    for block in blocks:
        if isinstance(block, GatedDeconv2D):
            entry = upsample_conv_flops(block, height, width)
            block = block.conv
        elif isinstance(block, GatedConv2D):
            entry = conv_flops(block, height, width)
        else:
            raise TypeError(f"Unexpected layer {block.name} ({type(block).__name__}).")
        layers[block.name] = entry
        height, width, _ = entry["output"]
        channels = block.filters
    return height, width, channels


def generator_flops(generator, height: int, width: int) -> dict:
    """FLOPs of one forward pass of an `InpaintGenerator` on a batch of one `height x width`
    image (both multiples of 8); the module docstring says what is counted.

    Walks the generator's blocks in the order of its forward pass: coarse encoder and decoder
    at the image size, then the hallucination branch and the attention encoder on the coarse
    result, contextual attention and the attention decoder at the attention encoder's output,
    and the merge decoder at the hallucination branch's output. Builds the generator if needed.

    Returns:
        `{"height", "width", "layers": {name: entry}, "by_kind": {"conv", "attention"},
        "executed": {"conv", "attention"}, "total", "excluded"}`; `layers` in forward order,
        each entry with its `kind` and `flops` (see `conv_flops`, `upsample_conv_flops` and
        `attention_flops` for the other keys); `total` is the sum of `by_kind`, the count of
        the official layers. Batch B costs B times as much.

    Example:
    >>> from gated_inpaint.models import InpaintGenerator
    >>> count = generator_flops(InpaintGenerator(cnum=8), 64, 64)
    >>> count["layers"]["conv1"]["flops"] == 2 * 5 * 5 * 5 * 8 * 64 * 64
    True
    >>> count["total"] == count["by_kind"]["conv"] + count["by_kind"]["attention"]
    True
    """
    if height % 8 or width % 8 or height <= 0 or width <= 0:
        raise ValueError(f"height and width must be positive multiples of 8, got {height}x{width}")
    if not generator.built:
        generator.build((1, None, None, 3))
    g = generator
    layers: dict[str, dict] = {}
    _walk(g.coarse_encoder + g.coarse_decoder, height, width, layers)
    hallu = _walk(g.hallucination_branch, height, width, layers)
    pm_h, pm_w, pm_c = _walk(g.attention_encoder, height, width, layers)
    layers.update(attention_flops(g.contextual_attention, pm_h, pm_w, pm_c))
    _walk(g.attention_decoder, pm_h, pm_w, layers)
    _walk(g.merge_decoder, hallu[0], hallu[1], layers)
    by_kind = {"conv": 0, "attention": 0}
    executed = {"conv": 0, "attention": 0}
    for entry in layers.values():
        by_kind[entry["kind"]] += entry["flops"]
        executed[entry["kind"]] += entry.get("executed_flops", entry["flops"])
    return {
        "height": height,
        "width": width,
        "layers": layers,
        "by_kind": by_kind,
        "executed": executed,
        "total": sum(by_kind.values()),
        "excluded": EXCLUDED,
    }
