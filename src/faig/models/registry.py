"""Architecture facts in one place: names, paper and embedded widths, and building a network.

``width``/``depth`` mean num_feat/num_block for srresnet and num_feat/number of body convolutions
for srcnn_style; ``first_width`` is srcnn_style's first convolution's width.
"""

from __future__ import annotations

import re
from pathlib import Path
from dataclasses import asdict, dataclass

import torch
from torch import nn

from faig.errors import FaigError
from faig.models.srcnn_style import SRCNNStyle
from faig.models.srresnet import MSRResNet

ARCHS: tuple[str, ...] = ("srresnet", "srcnn_style")


@dataclass(frozen=True)
class ArchConfig:
    """Everything needed to build a network of the paper (Sec. 5.1)."""

    arch: str
    scale: int = 2
    width: int = 64
    depth: int = 16
    first_width: int = 64

    def to_dict(self) -> dict:
        return asdict(self)


PAPER_ARCHS: dict[str, ArchConfig] = {
    "srresnet": ArchConfig("srresnet", 2, width=64, depth=16),
    "srcnn_style": ArchConfig("srcnn_style", 2, width=128, depth=4, first_width=64),
}


PRESETS: tuple[str, ...] = ("embedded", "paper")


def check_preset(preset: str) -> str:
    if preset not in PRESETS:
        raise FaigError(f"unknown preset {preset!r}; choose from {', '.join(PRESETS)}")
    return preset


def check_arch(arch: str) -> str:
    if arch not in ARCHS:
        raise FaigError(f"unknown architecture {arch!r}; choose from {', '.join(ARCHS)}")
    return arch


def build_model(config: ArchConfig) -> nn.Module:
    """A freshly initialised network (BasicSR's initialisation for srresnet, Kaiming fan-out for
    srcnn_style)."""
    check_arch(config.arch)
    if config.scale not in (2, 3, 4):
        raise FaigError(f"scale must be 2, 3 or 4, not {config.scale}")
    if config.arch == "srresnet":
        return MSRResNet(num_feat=config.width, num_block=config.depth, upscale=config.scale)
    return SRCNNStyle(first_feat=config.first_width, num_feat=config.width, num_body=config.depth,
                      upscale=config.scale)


def infer_config(state_dict: dict[str, torch.Tensor]) -> ArchConfig:
    """Read the architecture, widths, depth and scale off a state dict's names and shapes, so the
    paper's BasicSR checkpoints load without a config."""
    if "conv_first.weight" in state_dict:
        width = state_dict["conv_first.weight"].shape[0]
        depth = len({m.group(1) for k in state_dict if (m := re.match(r"body\.(\d+)\.conv1\.weight$", k))})
        if "upconv2.weight" in state_dict:
            scale = 4
        else:
            scale = round((state_dict["upconv1.weight"].shape[0] / width) ** 0.5)
        return ArchConfig("srresnet", scale, width=width, depth=depth)
    convs = sorted((int(m.group(1)), state_dict[k]) for k in state_dict
                   if (m := re.match(r"features\.(\d+)\.weight$", k)))
    if not convs:
        raise FaigError("unrecognised checkpoint: neither srresnet (conv_first) nor srcnn_style (features.N) keys")
    first_width, width = convs[0][1].shape[0], convs[1][1].shape[0]
    factors = [round((w.shape[0] / width) ** 0.5) for _, w in convs[2:] if w.shape[0] > width]
    scale = 1
    for factor in factors:
        scale *= factor
    depth = len(convs) - 4 - len(factors)
    return ArchConfig("srcnn_style", scale, width=width, depth=depth, first_width=first_width)


EMBEDDED_WEIGHTS = Path(__file__).parent / "weights" / "embedded"


def preset_weights(preset: str, arch: str, stage: str) -> Path:
    """The committed weights of a preset's network; only ``embedded`` ships weights."""
    check_arch(arch)
    if check_preset(preset) != "embedded":
        raise FaigError(f"preset {preset!r} ships no weights: pass the checkpoint paths (--baseline/--target or --model)")
    path = EMBEDDED_WEIGHTS / f"{arch}_{stage}.safetensors"
    if not path.is_file():
        raise FaigError(f"embedded weights missing: {path} (run `faig train --preset embedded --arch {arch}`)")
    return path
