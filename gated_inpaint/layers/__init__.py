"""Keras layers of DeepFill v2: gated convolutions, spectral normalisation, contextual attention."""

from gated_inpaint.layers.contextual_attention import ContextualAttention
from gated_inpaint.layers.gated_conv import GatedConv2D, GatedDeconv2D
from gated_inpaint.layers.resize import resize_nearest_align_corners
from gated_inpaint.layers.spectral_norm import SpectralNorm

__all__ = [
    "ContextualAttention",
    "GatedConv2D",
    "GatedDeconv2D",
    "SpectralNorm",
    "resize_nearest_align_corners",
]
