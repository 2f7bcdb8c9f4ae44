"""DeepFill v2 networks."""

from gated_inpaint.models.discriminator import SNPatchGANDiscriminator
from gated_inpaint.models.generator import InpaintGenerator
from gated_inpaint.models.inpainting_model import InpaintingModel

__all__ = ["InpaintGenerator", "InpaintingModel", "SNPatchGANDiscriminator"]
