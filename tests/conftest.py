"""Shared fixtures: tiny images on disk and fixed seeds."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from faig.data.images import write_image


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


@pytest.fixture
def one_thread():
    """Tiny networks gain nothing from threads, and busy cores make them spin: one thread per test."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def hr_folder(tmp_path):
    """Three small smooth-plus-texture RGB images (48x48, 60x48, 48x72) in a folder."""
    folder = tmp_path / "hr"
    rng = np.random.default_rng(0)
    for index, (h, w) in enumerate([(48, 48), (60, 48), (48, 72)]):
        y, x = np.mgrid[0:h, 0:w] / max(h, w)
        base = np.stack([np.sin(6 * x + index), np.cos(5 * y), np.sin(4 * (x + y))], axis=0) * 0.3 + 0.5
        image = np.clip(base + 0.05 * rng.standard_normal((3, h, w)), 0, 1)
        write_image(folder / f"img{index}.png", torch.from_numpy(image).float()[None])
    return folder
