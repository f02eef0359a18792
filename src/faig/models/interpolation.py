"""Bicubic upsampling as a network: the reference every SR model of the paper has to beat.

Sec. 4.1 asks for a baseline that is "a common SR model" for bilinear downsampling; one that scores
below plain bicubic upsampling on clean inputs has not learned super-resolution, and every
attribution against it measures something else.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class Bicubic(nn.Module):
    """Bicubic upsampling by ``scale`` (half-pixel centres, Keys' kernel with a = -0.75)."""

    def __init__(self, scale: int) -> None:
        super().__init__()
        self.upscale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x, scale_factor=self.upscale, mode="bicubic", align_corners=False)
