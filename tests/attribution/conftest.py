"""Tiny networks and images for the attribution tests: fast on two CPU cores."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from faig.data.splits import NamedImage
from faig.models.registry import ArchConfig, build_model

TINY = ArchConfig("srresnet", 2, width=8, depth=2)


def perturbed(model: nn.Module, seed: int, size: float = 0.05) -> nn.Module:
    """A copy of ``model`` with every parameter moved by seeded Gaussian noise (a stand-in target)."""
    other = copy.deepcopy(model)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for tensor in other.parameters():
            tensor.add_(size * torch.randn(tensor.shape, generator=generator))
    return other.eval()


@pytest.fixture(scope="session")
def tiny_arch() -> ArchConfig:
    return TINY


@pytest.fixture(scope="session")
def tiny_pair() -> tuple[nn.Module, nn.Module]:
    torch.manual_seed(0)
    baseline = build_model(TINY).eval()
    return baseline, perturbed(baseline, 1)


@pytest.fixture(scope="session")
def tiny_images() -> list[NamedImage]:
    generator = torch.Generator().manual_seed(2)
    return [NamedImage(f"img{i}", torch.rand(1, 3, 24, 24, generator=generator)) for i in range(3)]


@pytest.fixture(autouse=True)
def tiny_networks_on_one_thread(one_thread):
    """Every test here runs tiny networks (see the root conftest's ``one_thread``)."""
