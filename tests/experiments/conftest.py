"""Tiny networks and images for the experiment tests: fast, fixed seeds."""

from __future__ import annotations

import copy

import pytest
import torch

from faig.data.layout import Pair
from faig.models.registry import ArchConfig, build_model

TINY = ArchConfig("srresnet", 2, width=8, depth=2)


def perturbed(model: torch.nn.Module, seed: int, weights_only: bool = False) -> torch.nn.Module:
    """A copy of ``model`` with every (or every 4-D) tensor shifted by seeded noise."""
    other = copy.deepcopy(model)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in other.parameters():
            if not weights_only or parameter.dim() == 4:
                parameter.add_(0.05 * torch.randn(parameter.shape, generator=generator))
    return other.eval()


@pytest.fixture
def tiny_arch() -> ArchConfig:
    return TINY


@pytest.fixture
def perturb():
    return perturbed


@pytest.fixture
def pair_models() -> tuple[torch.nn.Module, torch.nn.Module]:
    torch.manual_seed(0)
    baseline = build_model(TINY).eval()
    return baseline, perturbed(baseline, 1)


@pytest.fixture
def lrs() -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(2)
    return [torch.rand(1, 3, 12, 12, generator=generator) for _ in range(3)]


@pytest.fixture
def pairs(lrs: list[torch.Tensor]) -> list[Pair]:
    generator = torch.Generator().manual_seed(3)
    return [Pair(f"image{i}", lr, torch.rand(1, 3, 24, 24, generator=generator)) for i, lr in enumerate(lrs)]


@pytest.fixture(autouse=True)
def tiny_networks_on_one_thread(one_thread):
    """Every test here runs tiny networks (see the root conftest's ``one_thread``)."""
