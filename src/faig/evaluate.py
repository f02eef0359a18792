"""Running a network over LR/HR pairs and scoring it (PSNR, SSIM) per evaluation variant."""

from __future__ import annotations

import torch
from torch import nn

from faig.data.degradations import VARIANTS, variant
from faig.data.layout import Pair, degraded_pairs
from faig.data.splits import NamedImage
from faig.metrics import psnr, ssim


def resolve_device(name: str | None = None) -> torch.device:
    """``cuda`` when present unless a device is named; ``cpu`` otherwise."""
    if name in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


@torch.no_grad()
def super_resolve(model: nn.Module, lr: torch.Tensor) -> torch.Tensor:
    """The network's output for one LR image, clipped to [0, 1], on the CPU."""
    device = next(model.parameters()).device
    return model(lr.to(device)).clamp(0, 1).cpu()


def score_pairs(model: nn.Module, pairs: list[Pair], scale: int, with_ssim: bool = True) -> dict[str, float]:
    """Mean PSNR (and SSIM) of a network's outputs over pairs."""
    psnrs, ssims = [], []
    for pair in pairs:
        output = super_resolve(model, pair.lr)
        psnrs.append(psnr(output, pair.hr, scale))
        if with_ssim:
            ssims.append(ssim(output, pair.hr, scale))
    scores = {"psnr": sum(psnrs) / len(psnrs)}
    if with_ssim:
        scores["ssim"] = sum(ssims) / len(ssims)
    return scores


def score_variants(model: nn.Module, images: list[NamedImage], scale: int, variants: tuple[str, ...] = VARIANTS,
                   seed: int = 0, folder: str | None = None, with_ssim: bool = True) -> dict[str, dict[str, float]]:
    """PSNR/SSIM of a network on each named evaluation variant of an HR set."""
    return {
        name: score_pairs(model, degraded_pairs(images, variant(name, scale), seed, folder), scale, with_ssim)
        for name in variants
    }
