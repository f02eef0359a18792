"""A small SwinIR-style network: windowed self-attention, the component the paper left out.

Sec. 5.1 of the paper: "Networks with more complicated components such as attention modules are
left as future work." This network answers that question on the embedded data. It keeps SwinIR's
defining structure (Liang et al., ICCVW 2021): a shallow 3x3 convolution, residual Swin transformer
groups (each a few Swin blocks — LayerNorm, multi-head self-attention inside 8x8 windows with a
learned relative-position bias, alternately shifted by half a window, LayerNorm, MLP — and a 3x3
convolution, around a residual connection), a LayerNorm and a 3x3 convolution after the body with
a long skip, and a one-step PixelShuffle upsampler (SwinIR's lightweight "pixelshuffledirect").
Scaled down for a 2-core CPU: ``width`` channels (SwinIR-light: 60), ``depth`` groups (4) of
``BLOCKS`` blocks (6), ``HEADS`` heads, and the bilinearly upsampled input added to the output (as
the embedded SRResNet does) instead of SwinIR's mean shift, so that colour comes for free.

Its filters, for FAIG, are the 3x3 kernels of the convolutions and every weight of the attention
projections (``qkv``, ``proj``) and MLPs (``fc1``, ``fc2``) as a 1x1 filter.
"""

from __future__ import annotations

from functools import lru_cache
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from faig.errors import FaigError
from faig.models.registry import ARCH_REGISTRY, ArchConfig, numbered

WINDOW = 8
HEADS = 4
BLOCKS = 2
MLP_RATIO = 2


def window_partition(x: torch.Tensor, window: int) -> torch.Tensor:
    """(B, H, W, C) -> (B * windows, window * window, C), windows in row-major order."""
    batch, height, width, channels = x.shape
    x = x.view(batch, height // window, window, width // window, window, channels)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, window * window, channels)


def window_merge(windows: torch.Tensor, window: int, height: int, width: int) -> torch.Tensor:
    """The inverse of :func:`window_partition`: (B * windows, window * window, C) -> (B, H, W, C)."""
    channels = windows.shape[-1]
    x = windows.view(-1, height // window, width // window, window, window, channels)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, height, width, channels)


@lru_cache(maxsize=32)
def relative_position_index(window: int) -> torch.Tensor:
    """(window², window²) indices into the (2·window − 1)² table of relative offsets."""
    coords = torch.stack(torch.meshgrid(torch.arange(window), torch.arange(window), indexing="ij")).flatten(1)
    offsets = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0) + (window - 1)
    return offsets[..., 0] * (2 * window - 1) + offsets[..., 1]


@lru_cache(maxsize=32)
def shift_mask(height: int, width: int, window: int, shift: int) -> torch.Tensor:
    """(windows, window², window²) additive mask: −100 between tokens that the cyclic shift brought
    together from different image regions, 0 elsewhere (Swin's shifted-window attention)."""
    regions = torch.zeros(1, height, width, 1)
    cuts = (slice(0, -window), slice(-window, -shift), slice(-shift, None))
    label = 0
    for rows in cuts:
        for cols in cuts:
            regions[:, rows, cols, :] = label
            label += 1
    labels = window_partition(regions, window).squeeze(-1)
    different = labels[:, None, :] != labels[:, :, None]
    return different.float() * -100.0


class WindowAttention(nn.Module):
    """Multi-head self-attention inside each window, with a learned relative-position bias."""

    def __init__(self, dim: int, window: int, heads: int) -> None:
        super().__init__()
        self.window, self.heads = window, heads
        self.scale = (dim // heads) ** -0.5
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * window - 1) ** 2, heads))
        nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        windows, tokens, channels = x.shape
        qkv = self.qkv(x).view(windows, tokens, 3, self.heads, channels // self.heads).permute(2, 0, 3, 1, 4)
        query, key, value = qkv[0] * self.scale, qkv[1], qkv[2]
        logits = query @ key.transpose(-2, -1)
        bias = self.relative_position_bias_table[relative_position_index(self.window).flatten()]
        logits = logits + bias.view(tokens, tokens, self.heads).permute(2, 0, 1)
        if mask is not None:
            groups = mask.shape[0]
            logits = logits.view(windows // groups, groups, self.heads, tokens, tokens) + mask[None, :, None]
            logits = logits.view(windows, self.heads, tokens, tokens)
        out = (logits.softmax(-1) @ value).transpose(1, 2).reshape(windows, tokens, channels)
        return self.proj(out)


class SwinBlock(nn.Module):
    """x + attention(norm(x)) over (shifted) windows, then x + MLP(norm(x))."""

    def __init__(self, dim: int, window: int, heads: int, shift: int) -> None:
        super().__init__()
        self.window, self.shift = window, shift
        self.norm1 = nn.LayerNorm(dim)
        self.attn = WindowAttention(dim, window, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential()
        self.mlp.add_module("fc1", nn.Linear(dim, dim * MLP_RATIO))
        self.mlp.add_module("act", nn.GELU())
        self.mlp.add_module("fc2", nn.Linear(dim * MLP_RATIO, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, H, W, C) with H and W multiples of the window."""
        _, height, width, _ = x.shape
        shifted = self.norm1(x)
        mask = None
        if self.shift:
            shifted = torch.roll(shifted, (-self.shift, -self.shift), (1, 2))
            mask = shift_mask(height, width, self.window, self.shift).to(x)
        attended = self.attn(window_partition(shifted, self.window), mask)
        attended = window_merge(attended, self.window, height, width)
        if self.shift:
            attended = torch.roll(attended, (self.shift, self.shift), (1, 2))
        x = x + attended
        return x + self.mlp(self.norm2(x))


class ResidualSwinGroup(nn.Module):
    """SwinIR's RSTB: x + conv(blocks(x)), the blocks alternating plain and shifted windows."""

    def __init__(self, dim: int, blocks: int, window: int, heads: int) -> None:
        super().__init__()
        self.blocks = nn.ModuleList([SwinBlock(dim, window, heads, 0 if i % 2 == 0 else window // 2)
                                     for i in range(blocks)])
        self.conv = nn.Conv2d(dim, dim, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = x.permute(0, 2, 3, 1)
        for block in self.blocks:
            tokens = block(tokens)
        return x + self.conv(tokens.permute(0, 3, 1, 2))


@ARCH_REGISTRY.register()
class SwinIRLite(nn.Module):
    """conv_first -> residual Swin groups -> LayerNorm -> conv_after_body (+ long skip) -> conv_up +
    PixelShuffle, plus the bilinearly upsampled input. Inputs of any size (padded to the window)."""

    arch: ClassVar[str] = "swinir"
    scales: ClassVar[tuple[int, ...]] = (2, 3, 4)

    def __init__(self, num_feat: int = 32, num_groups: int = 2, upscale: int = 2, blocks: int = BLOCKS,
                 window: int = WINDOW, heads: int = HEADS) -> None:
        super().__init__()
        if num_feat % heads:
            raise FaigError(f"swinir needs a width divisible by its {heads} heads, not {num_feat}")
        self.upscale, self.window = upscale, window
        self.conv_first = nn.Conv2d(3, num_feat, 3, 1, 1)
        self.layers = nn.ModuleList([ResidualSwinGroup(num_feat, blocks, window, heads) for _ in range(num_groups)])
        self.norm = nn.LayerNorm(num_feat)
        self.conv_after_body = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_up = nn.Conv2d(num_feat, 3 * upscale * upscale, 3, 1, 1)
        self.pixel_shuffle = nn.PixelShuffle(upscale)
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.trunc_normal_(module.weight, std=0.02)
                nn.init.zeros_(module.bias)
        nn.init.zeros_(self.conv_up.weight)
        nn.init.zeros_(self.conv_up.bias)

    @classmethod
    def from_config(cls, config: ArchConfig) -> "SwinIRLite":
        """``width`` channels, ``depth`` residual Swin groups."""
        return cls(num_feat=config.width, num_groups=config.depth, upscale=config.scale)

    @staticmethod
    def config_of(state_dict: dict[str, torch.Tensor]) -> ArchConfig | None:
        """Width, number of groups and scale of this network's state dict; None for another's."""
        if "layers.0.blocks.0.attn.qkv.weight" not in state_dict or "conv_up.weight" not in state_dict:
            return None
        width = state_dict["conv_first.weight"].shape[0]
        depth = len(numbered(state_dict, r"layers\.(\d+)\.conv\.weight"))
        scale = round((state_dict["conv_up.weight"].shape[0] / 3) ** 0.5)
        return ArchConfig("swinir", scale, width=width, depth=depth)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[-2:]
        pad_h, pad_w = -height % self.window, -width % self.window
        padded = F.pad(x, (0, pad_w, 0, pad_h), mode="replicate") if pad_h or pad_w else x
        shallow = self.conv_first(padded)
        deep = shallow
        for layer in self.layers:
            deep = layer(deep)
        deep = self.norm(deep.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        features = self.conv_after_body(deep) + shallow
        out = self.pixel_shuffle(self.conv_up(features))[..., :height * self.upscale, :width * self.upscale]
        return out + F.interpolate(x, scale_factor=self.upscale, mode="bilinear", align_corners=False)
