"""Tiny networks of both architectures on disk, and the smallest run that still exercises every step."""

from __future__ import annotations

import copy
from dataclasses import replace

import pytest
import torch

import faig.reproduce.steps as steps
from faig.data.splits import NamedImage
from faig.experiments.retrain import RetrainConfig
from faig.models.checkpoints import save_weights
from faig.models.registry import ArchConfig, build_model
from faig.reproduce.config import ReproduceConfig, make_config

TINY_ARCHS = {"srresnet": ArchConfig("srresnet", 2, width=8, depth=1),
              "srcnn_style": ArchConfig("srcnn_style", 2, width=8, depth=1, first_width=4)}


def _tiny_config(archs: tuple[str, ...] = ("srresnet", "srcnn_style"), seeds: int = 1) -> ReproduceConfig:
    """``--quick`` cut down further: 2 images per split, 2 quadrature nodes, 2 re-training steps."""
    return replace(make_config(archs=archs, quick=True, seeds=seeds), discover_images=2, steps=2,
                   percents=(1.0, 100.0), table_percents=(1.0,), test_images=2, calibrate_images=2,
                   prediction_test_images=2, modulation_images=1, lambdas=(0.0, 1.0), strip_lambdas=(0.0, 1.0),
                   retrain=RetrainConfig(steps=2, batch_size=2, gt_size=16))


@pytest.fixture
def tiny_config():
    """The smallest configuration that runs every step (a function of the architectures and seeds)."""
    return _tiny_config


# Networks beyond the paper's two (issue 15): an ESRGAN body and an attention network.
TINY_OTHER_ARCHS = {"rrdbnet": ArchConfig("rrdbnet", 2, width=8, depth=1, first_width=4),
                    "swinir": ArchConfig("swinir", 2, width=8, depth=1)}


def _write_pairs(folder, archs: dict[str, ArchConfig]):
    """``<arch>_{baseline,target}.safetensors`` per architecture: a random baseline and a target
    moved from it by seeded noise."""
    generator = torch.Generator().manual_seed(0)
    for arch, config in archs.items():
        torch.manual_seed(0)
        baseline = build_model(config)
        target = copy.deepcopy(baseline)
        with torch.no_grad():
            for parameter in target.parameters():
                parameter.add_(0.02 * torch.randn(parameter.shape, generator=generator))
        save_weights(folder / f"{arch}_baseline.safetensors", baseline, config)
        save_weights(folder / f"{arch}_target.safetensors", target, config)
    return folder


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory):
    """Tiny pairs of both of the paper's architectures."""
    return _write_pairs(tmp_path_factory.mktemp("weights"), TINY_ARCHS)


@pytest.fixture(scope="session")
def tiny_other_weights(tmp_path_factory):
    """Tiny RRDBNet and SwinIR pairs."""
    return _write_pairs(tmp_path_factory.mktemp("other_weights"), TINY_OTHER_ARCHS)


@pytest.fixture
def small_tiles(monkeypatch):
    """The embedded splits' tiles cut to their 48x48 centres: every step runs, on a ninth of the pixels."""
    load = steps.load_images

    def centres(split, folder, scale):
        return [NamedImage(image.name, image.hr[..., 48:96, 48:96]) for image in load(split, folder, scale)]

    monkeypatch.setattr(steps, "load_images", centres)


@pytest.fixture(autouse=True)
def tiny_networks_on_one_thread(one_thread):
    """Every test here runs tiny networks (see the root conftest's ``one_thread``)."""
