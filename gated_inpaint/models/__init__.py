"""DeepFill v2 networks."""

from gated_inpaint.models.discriminator import SNPatchGANDiscriminator
from gated_inpaint.models.generator import InpaintGenerator

__all__ = ["InpaintGenerator", "SNPatchGANDiscriminator"]
