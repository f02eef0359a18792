"""ESRGAN's RRDBNet (Wang et al., ECCVW 2018), key for key BasicSR's ``RRDBNet``.

Beyond the paper's two networks: the generator behind ESRGAN and Real-ESRGAN, so that their BasicSR
checkpoints (``params_ema``) load with no key mapping and FAIG can ask which of their filters remove
each degradation. Residual-in-residual dense blocks (each three dense blocks of five 3x3
convolutions with growing inputs, LeakyReLU 0.2, residuals scaled by 0.2) at LR, then two nearest
x2 upsamplings; x2 and x1 networks first fold the input into channels (pixel unshuffle), as BasicSR
does. ``ArchConfig``: ``width`` = num_feat, ``depth`` = num_block, ``first_width`` = num_grow_ch.
"""

from __future__ import annotations

from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from faig.errors import FaigError
from faig.models.registry import ARCH_REGISTRY, ArchConfig, numbered
from faig.models import srresnet

UNSHUFFLE = {4: 1, 2: 2, 1: 4}  # the input folding that leaves a x4 upsampler for each scale


class ResidualDenseBlock(nn.Module):
    """Five 3x3 convolutions, each fed every earlier output; x + 0.2 * conv5(...)."""

    def __init__(self, num_feat: int, num_grow_ch: int) -> None:
        super().__init__()
        for index in range(1, 6):
            channels_in = num_feat + (index - 1) * num_grow_ch
            channels_out = num_feat if index == 5 else num_grow_ch
            self.add_module(f"conv{index}", nn.Conv2d(channels_in, channels_out, 3, 1, 1))
        self.lrelu = nn.LeakyReLU(negative_slope=0.2, inplace=True)
        srresnet.scaled_kaiming_([getattr(self, f"conv{index}") for index in range(1, 6)], 0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = [x]
        for index in range(1, 5):
            features.append(self.lrelu(getattr(self, f"conv{index}")(torch.cat(features, 1))))
        return x + 0.2 * self.conv5(torch.cat(features, 1))


class RRDB(nn.Module):
    """Three residual dense blocks inside one more residual: x + 0.2 * rdb3(rdb2(rdb1(x)))."""

    def __init__(self, num_feat: int, num_grow_ch: int) -> None:
        super().__init__()
        self.rdb1 = ResidualDenseBlock(num_feat, num_grow_ch)
        self.rdb2 = ResidualDenseBlock(num_feat, num_grow_ch)
        self.rdb3 = ResidualDenseBlock(num_feat, num_grow_ch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + 0.2 * self.rdb3(self.rdb2(self.rdb1(x)))


@ARCH_REGISTRY.register()
class RRDBNet(nn.Module):
    """conv_first -> RRDBs -> conv_body (+ skip) -> two nearest x2 upsamplings -> conv_hr -> conv_last."""

    arch: ClassVar[str] = "rrdbnet"
    scales: ClassVar[tuple[int, ...]] = (1, 2, 4)

    def __init__(self, num_in_ch: int = 3, num_out_ch: int = 3, scale: int = 4, num_feat: int = 64,
                 num_block: int = 23, num_grow_ch: int = 32) -> None:
        super().__init__()
        if scale not in UNSHUFFLE:
            raise FaigError(f"rrdbnet supports scales 1, 2 and 4, not {scale}")
        self.scale = scale
        self.conv_first = nn.Conv2d(num_in_ch * UNSHUFFLE[scale] ** 2, num_feat, 3, 1, 1)
        self.body = nn.Sequential(*[RRDB(num_feat, num_grow_ch) for _ in range(num_block)])
        self.conv_body = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_up1 = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_up2 = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_hr = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_last = nn.Conv2d(num_feat, num_out_ch, 3, 1, 1)
        self.lrelu = nn.LeakyReLU(negative_slope=0.2, inplace=True)

    @classmethod
    def from_config(cls, config: ArchConfig) -> "RRDBNet":
        """``width`` features, ``depth`` RRDBs, ``first_width`` growth channels."""
        return cls(scale=config.scale, num_feat=config.width, num_block=config.depth, num_grow_ch=config.first_width)

    @staticmethod
    def config_of(state_dict: dict[str, torch.Tensor]) -> ArchConfig | None:
        """Width, depth, growth channels and scale of a BasicSR ``RRDBNet`` state dict; None for
        another network's."""
        if "body.0.rdb1.conv1.weight" not in state_dict or "conv_first.weight" not in state_dict:
            return None
        width, folded = state_dict["conv_first.weight"].shape[:2]
        scale = next((s for s, fold in UNSHUFFLE.items() if 3 * fold * fold == folded), None)
        if scale is None:
            return None
        depth = len(numbered(state_dict, r"body\.(\d+)\.rdb1\.conv1\.weight"))
        grow = state_dict["body.0.rdb1.conv1.weight"].shape[0]
        return ArchConfig("rrdbnet", scale, width=width, depth=depth, first_width=grow)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        fold = UNSHUFFLE[self.scale]
        if fold > 1:
            height, width = x.shape[-2:]
            x = F.pad(x, (0, -width % fold, 0, -height % fold), mode="replicate")
            x = F.pixel_unshuffle(x, fold)
        features = self.conv_first(x)
        features = features + self.conv_body(self.body(features))
        features = self.lrelu(self.conv_up1(F.interpolate(features, scale_factor=2, mode="nearest")))
        features = self.lrelu(self.conv_up2(F.interpolate(features, scale_factor=2, mode="nearest")))
        out = self.conv_last(self.lrelu(self.conv_hr(features)))
        if fold > 1:
            out = out[..., :height * self.scale, :width * self.scale]
        return out
