"""SRResNet without batch normalisation (Sec. 5.1), key-for-key BasicSR's ``MSRResNet``."""

from __future__ import annotations


from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from faig.errors import FaigError
from faig.models.registry import ARCH_REGISTRY, ArchConfig, numbered


def scaled_kaiming_(modules: list[nn.Module], scale: float) -> None:
    """BasicSR's default initialisation: Kaiming-normal (fan-in) weights times ``scale``, zero bias."""
    for module in modules:
        nn.init.kaiming_normal_(module.weight)
        module.weight.data.mul_(scale)
        nn.init.zeros_(module.bias)


class ResidualBlockNoBN(nn.Module):
    """x + conv2(relu(conv1(x)))."""

    def __init__(self, num_feat: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv2 = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.relu = nn.ReLU(inplace=True)
        scaled_kaiming_([self.conv1, self.conv2], 0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(self.relu(self.conv1(x)))


@ARCH_REGISTRY.register()
class MSRResNet(nn.Module):
    """Residual blocks at LR, PixelShuffle upsampling, plus the bilinearly upsampled input."""

    arch: ClassVar[str] = "srresnet"
    scales: ClassVar[tuple[int, ...]] = (2, 3, 4)

    def __init__(self, num_in_ch: int = 3, num_out_ch: int = 3, num_feat: int = 64, num_block: int = 16,
                 upscale: int = 2) -> None:
        super().__init__()
        if upscale not in (2, 3, 4):
            raise FaigError(f"srresnet supports scales 2, 3 and 4, not {upscale}")
        self.upscale = upscale
        self.conv_first = nn.Conv2d(num_in_ch, num_feat, 3, 1, 1)
        self.body = nn.Sequential(*[ResidualBlockNoBN(num_feat) for _ in range(num_block)])
        if upscale == 4:
            self.upconv1 = nn.Conv2d(num_feat, num_feat * 4, 3, 1, 1)
            self.upconv2 = nn.Conv2d(num_feat, num_feat * 4, 3, 1, 1)
            self.pixel_shuffle = nn.PixelShuffle(2)
        else:
            self.upconv1 = nn.Conv2d(num_feat, num_feat * upscale * upscale, 3, 1, 1)
            self.pixel_shuffle = nn.PixelShuffle(upscale)
        self.conv_hr = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_last = nn.Conv2d(num_feat, num_out_ch, 3, 1, 1)
        self.lrelu = nn.LeakyReLU(negative_slope=0.1, inplace=True)
        upconvs = [self.upconv1, self.upconv2] if upscale == 4 else [self.upconv1]
        scaled_kaiming_([self.conv_first, *upconvs, self.conv_hr, self.conv_last], 0.1)

    @classmethod
    def from_config(cls, config: ArchConfig) -> "MSRResNet":
        """``width`` features, ``depth`` residual blocks."""
        return cls(num_feat=config.width, num_block=config.depth, upscale=config.scale)

    @staticmethod
    def config_of(state_dict: dict[str, torch.Tensor]) -> ArchConfig | None:
        """Width, depth and scale of a BasicSR ``MSRResNet`` state dict; None for another network's."""
        if "conv_first.weight" not in state_dict or "upconv1.weight" not in state_dict:
            return None
        width = state_dict["conv_first.weight"].shape[0]
        scale = 4 if "upconv2.weight" in state_dict else round((state_dict["upconv1.weight"].shape[0] / width) ** 0.5)
        blocks = numbered(state_dict, r"body\.(\d+)\.conv1\.weight")
        return ArchConfig("srresnet", scale, width=width, depth=len(blocks))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(self.lrelu(self.conv_first(x)))
        out = self.lrelu(self.pixel_shuffle(self.upconv1(out)))
        if self.upscale == 4:
            out = self.lrelu(self.pixel_shuffle(self.upconv2(out)))
        out = self.conv_last(self.lrelu(self.conv_hr(out)))
        base = F.interpolate(x, scale_factor=self.upscale, mode="bilinear", align_corners=False)
        return out + base
