"""The generator FLOP count against TensorFlow's graph profiler and a hand count."""

import numpy as np
import pytest
import tensorflow as tf

from gated_inpaint.layers import GatedConv2D, GatedDeconv2D
from gated_inpaint.models import InpaintGenerator
from gated_inpaint.models.flops import conv_flops, generator_flops, upsample_conv_flops

SIZE = 64  # 16x16 maps for the dilated convs: no space-to-batch padding (rates 2-16) if any


def _profiled_flops(graph: tf.Graph, op_type: str | None = None) -> int:
    """The TF1 profiler's float-op count of `graph`, of one op type or of all."""
    builder = tf.compat.v1.profiler.ProfileOptionBuilder
    options = builder(builder.float_operation()).with_empty_output()
    if op_type:
        options = options.with_accounted_types([op_type])
    return tf.compat.v1.profiler.profile(graph, options=options.build()).total_float_ops


@pytest.fixture(scope="module")
def profiled():
    generator = InpaintGenerator(cnum=8)
    generator.build((1, None, None, 3))
    graph = (
        tf.function(lambda image, mask: generator(image, mask))
        .get_concrete_function(tf.TensorSpec([1, SIZE, SIZE, 3]), tf.TensorSpec([1, SIZE, SIZE, 1]))
        .graph
    )
    return generator, graph


def test_convolutions_match_the_profiler(profiled):
    """Every Conv2D op of the traced graph (dilated and upsampling ones included) is counted,
    exactly, as executed: the upsampling convs in their 2x2 phase form."""
    generator, graph = profiled
    count = generator_flops(generator, SIZE, SIZE)
    assert len(generator.conv_layers()) == 42
    assert sum(entry["kind"] == "conv" for entry in count["layers"].values()) == 42
    assert count["executed"]["conv"] == _profiled_flops(graph, "Conv2D")
    upsampling = [
        e for e in count["layers"].values() if e["kind"] == "conv" and "executed_flops" in e
    ]
    assert len(upsampling) == 4
    saved = sum(e["flops"] - e["executed_flops"] for e in upsampling)
    assert count["by_kind"]["conv"] - count["executed"]["conv"] == saved > 0


def test_attention_matches_the_profiler(profiled):
    """The profiler counts BatchMatMulV2 as 2*m*k*n too: the attention's two products, the
    scores against the fuse's zero-padded ends (one more position and patch at each end)."""
    generator, graph = profiled
    count = generator_flops(generator, SIZE, SIZE)
    assert count["executed"]["attention"] == _profiled_flops(graph, "BatchMatMulV2")
    scores = count["layers"]["contextual_attention/scores"]
    assert scores["executed_flops"] == 2 * 66 * 9 * 16 * 66
    # 64x64 image -> 16x16 features (C = 4 * 4 = 16 after gating) -> 8x8 downscaled.
    assert count["layers"]["contextual_attention/scores"]["matmul"] == [64, 9 * 16, 64]
    assert count["layers"]["contextual_attention/paste"]["matmul"] == [64, 64, 16 * 16]


def test_the_rest_of_the_profile_is_elementwise(profiled):
    """The profiler's total is our executed count plus the elementwise ops we leave out (bias
    adds, gating products, masking, ...): about 1% more at cnum=8, 64x64; within 2% here."""
    generator, graph = profiled
    ours = sum(generator_flops(generator, SIZE, SIZE)["executed"].values())
    total = _profiled_flops(graph)
    elementwise = sum(_profiled_flops(graph, t) for t in ("BiasAdd", "Mul", "AddV2"))
    assert elementwise > 0
    assert ours < total <= ours * 1.02
    # BiasAdd, Mul and AddV2 are most of the difference; the rest are a few reductions.
    assert total - ours - elementwise < 0.1 * (total - ours)


def test_one_gated_conv_by_hand():
    """GatedConv2D(16, 3, strides=2) on 32x48x5: a 3x3x5 -> 32 conv (features + gate) with a
    16x24 output."""
    layer = GatedConv2D(16, 3, strides=2, dilation_rate=1)
    layer(np.zeros((1, 32, 48, 5), "float32"))
    entry = conv_flops(layer, 32, 48)
    assert entry["output"] == [16, 24, 32]
    assert entry["flops"] == 2 * (3 * 3 * 5) * 32 * (16 * 24) == 1_105_920


def test_one_upsampling_conv_by_hand():
    """GatedDeconv2D(8) on 10x12x6: counted as the 3x3x6 -> 16 conv on the 20x24 upsampled map;
    executed as a 2x2x6 -> 4*16 conv on the 11x13 padded small map, near 4/9 of it."""
    layer = GatedDeconv2D(8)
    layer(np.zeros((1, 10, 12, 6), "float32"))
    entry = upsample_conv_flops(layer, 10, 12)
    assert entry["output"] == [20, 24, 16]
    assert entry["flops"] == 2 * (3 * 3 * 6) * 16 * (20 * 24)
    assert entry["executed_flops"] == 2 * (2 * 2 * 6) * (4 * 16) * (11 * 13)
    assert 4 / 9 < entry["executed_flops"] / entry["flops"] < 4 / 9 * 1.25


def test_full_size_totals():
    """cnum=48 at 512x512: 202 GFLOP of convs, 81 GFLOP of attention; attention is quadratic
    in pixels, convs linear."""
    generator = InpaintGenerator()
    at_512 = generator_flops(generator, 512, 512)["by_kind"]
    at_1024 = generator_flops(generator, 1024, 1024)["by_kind"]
    assert round(at_512["conv"] / 1e9) == 202
    assert round(at_512["attention"] / 1e9) == 81
    executed = generator_flops(generator, 512, 512)["executed"]
    assert round(executed["conv"] / 1e9) == 178
    # The scores against the zero-padded ends: 4098 x 4098 instead of 4096 x 4096.
    assert executed["attention"] - at_512["attention"] == 2 * (4098**2 - 4096**2) * 9 * 96
    assert at_1024["conv"] == 4 * at_512["conv"]
    assert at_1024["attention"] == 16 * at_512["attention"]


def test_size_must_be_a_multiple_of_8():
    with pytest.raises(ValueError, match="multiples of 8"):
        generator_flops(InpaintGenerator(cnum=8), 60, 64)
