"""The paper's 9-convolution SRCNN-style network (Sec. 5.1): SRCNN with upsampling at the end.

One ``features`` Sequential whose indices match the official checkpoints (``features.0.weight`` ...).
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn

from faig.errors import FaigError
from faig.models.registry import ARCH_REGISTRY, ArchConfig, numbered


def upsampler(num_feat: int, scale: int) -> list[nn.Module]:
    """Conv + PixelShuffle + LeakyReLU stages: one for x2 and x3, two x2 stages for x4."""
    if scale not in (2, 3, 4):
        raise FaigError(f"srcnn_style supports scales 2, 3 and 4, not {scale}")
    factors = [2, 2] if scale == 4 else [scale]
    layers: list[nn.Module] = []
    for factor in factors:
        layers += [nn.Conv2d(num_feat, num_feat * factor * factor, 3, 1, 1), nn.PixelShuffle(factor),
                   nn.LeakyReLU(0.1, inplace=True)]
    return layers


@ARCH_REGISTRY.register()
class SRCNNStyle(nn.Module):
    """Conv(3->first), Conv(first->feat), ``num_body`` Conv(feat->feat), upsampler, Conv(feat->feat),
    Conv(feat->3); LeakyReLU 0.1 between; no skip connection."""

    arch: ClassVar[str] = "srcnn_style"
    scales: ClassVar[tuple[int, ...]] = (2, 3, 4)

    def __init__(self, num_in_ch: int = 3, num_out_ch: int = 3, first_feat: int = 64, num_feat: int = 128,
                 num_body: int = 4, upscale: int = 2) -> None:
        super().__init__()
        self.upscale = upscale
        layers: list[nn.Module] = [nn.Conv2d(num_in_ch, first_feat, 3, 1, 1), nn.LeakyReLU(0.1, inplace=True),
                                   nn.Conv2d(first_feat, num_feat, 3, 1, 1), nn.LeakyReLU(0.1, inplace=True)]
        for _ in range(num_body):
            layers += [nn.Conv2d(num_feat, num_feat, 3, 1, 1), nn.LeakyReLU(0.1, inplace=True)]
        layers += upsampler(num_feat, upscale)
        layers += [nn.Conv2d(num_feat, num_feat, 3, 1, 1), nn.LeakyReLU(0.1, inplace=True),
                   nn.Conv2d(num_feat, num_out_ch, 3, 1, 1)]
        self.features = nn.Sequential(*layers)
        for module in self.features:
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(module.bias)

    @classmethod
    def from_config(cls, config: ArchConfig) -> "SRCNNStyle":
        """``first_width`` then ``width`` features, ``depth`` body convolutions."""
        return cls(first_feat=config.first_width, num_feat=config.width, num_body=config.depth, upscale=config.scale)

    @staticmethod
    def config_of(state_dict: dict[str, torch.Tensor]) -> ArchConfig | None:
        """Widths, depth and scale of an official SRCNN-style state dict (``features.N``); None for
        another network's."""
        convs = [state_dict[f"features.{n}.weight"] for n in numbered(state_dict, r"features\.(\d+)\.weight")]
        if len(convs) < 2:
            return None
        first_width, width = convs[0].shape[0], convs[1].shape[0]
        factors = [round((w.shape[0] / width) ** 0.5) for w in convs[2:] if w.shape[0] > width]
        scale = 1
        for factor in factors:
            scale *= factor
        depth = len(convs) - 4 - len(factors)
        return ArchConfig("srcnn_style", scale, width=width, depth=depth, first_width=first_width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)
