"""The upsampling tail of faig's SRResNet (``MSRResNet``) as a module, for the two-branch networks.

Sec. 3 compares two-branch blind-SR networks with a one-branch SRResNet at equal computation. The
two-branch networks here (``faig.models.dan``, ``faig.models.dasr``) end in this tail, the same
layers MSRResNet ends in (PixelShuffle upsampling, one HR convolution, the output convolution and
the bilinearly upsampled input added), so that Table 1 compares the degradation branches and
nothing else.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from faig.errors import FaigError
from faig.models import srresnet


class UpsampleTail(nn.Module):
    """LR features (N x width x h x w) to an SR image (N x 3 x s·h x s·w) as MSRResNet makes it.

    Args:
        width: the feature channels coming in.
        scale: 2, 3 or 4 (x4 upsamples twice by 2, as MSRResNet).

    Example:
        >>> tail = UpsampleTail(8, 3)
        >>> tail(torch.rand(1, 8, 5, 6), torch.rand(1, 3, 5, 6)).shape
        torch.Size([1, 3, 15, 18])
    """

    def __init__(self, width: int, scale: int) -> None:
        super().__init__()
        if scale not in (2, 3, 4):
            raise FaigError(f"the upsampling tail supports scales 2, 3 and 4, not {scale}")
        self.scale = scale
        steps = [2, 2] if scale == 4 else [scale]
        self.upconvs = nn.ModuleList(nn.Conv2d(width, width * step * step, 3, 1, 1) for step in steps)
        self.shuffles = nn.ModuleList(nn.PixelShuffle(step) for step in steps)
        self.conv_hr = nn.Conv2d(width, width, 3, 1, 1)
        self.conv_last = nn.Conv2d(width, 3, 3, 1, 1)
        self.lrelu = nn.LeakyReLU(negative_slope=0.1, inplace=True)
        srresnet.scaled_kaiming_([*self.upconvs, self.conv_hr, self.conv_last], 0.1)

    def forward(self, features: torch.Tensor, lr: torch.Tensor) -> torch.Tensor:
        """SR image from ``features`` (N x width x h x w) plus ``lr`` (N x 3 x h x w) upsampled."""
        out = features
        for upconv, shuffle in zip(self.upconvs, self.shuffles):
            out = self.lrelu(shuffle(upconv(out)))
        out = self.conv_last(self.lrelu(self.conv_hr(out)))
        return out + F.interpolate(lr, scale_factor=self.scale, mode="bilinear", align_corners=False)
