"""Dead-leaves images: the radius law, the occlusion order against a painter's loop, and their place in
training batches."""

import math

import numpy as np
import pytest
import torch

from faig.data import dead_leaves as module
from faig.data.dead_leaves import dead_leaves, power_law_radii
from faig.data.degradations import DegradationSampler, degrade_batch
from faig.data.patches import training_batch
from faig.data.splits import NamedImage


class TestPowerLawRadii:
    def test_follows_the_analytic_distribution(self):
        """The empirical CDF against F(r) = (a^-2 - r^-2) / (a^-2 - b^-2), the CDF of r^-3 on [a, b]."""
        low, high = 2.0, 40.0
        radii = np.sort(power_law_radii(20_000, low, high, torch.Generator().manual_seed(3)).numpy())
        assert radii[0] >= low and radii[-1] <= high
        analytic = (low ** -2 - radii.astype(np.float64) ** -2) / (low ** -2 - high ** -2)
        empirical = np.arange(1, len(radii) + 1) / len(radii)
        assert np.abs(empirical - analytic).max() < 0.015  # Kolmogorov-Smirnov distance

    def test_another_exponent(self):
        radii = power_law_radii(20_000, 1.0, 100.0, torch.Generator().manual_seed(0), alpha=2.0)
        median = 1 / (0.5 * (1 + 1 / 100))  # F(r) = (1 - 1/r) / (1 - 1/100) = 1/2
        assert float(radii.median()) == pytest.approx(median, rel=0.03)


def painted(size: int, seed: int, min_radius: float = module.MIN_RADIUS, max_radius: float | None = None) -> np.ndarray:
    """The same draws as dead_leaves, painted disc by disc from the last to the first (each disc lies
    under those drawn before it), pixel centres at (i + 0.5, j + 0.5)."""
    generator = torch.Generator().manual_seed(seed)
    count = math.ceil(module.DISCS_PER_PIXEL * size * size)
    radii = power_law_radii(count, min_radius, float(max_radius or size), generator).numpy()
    centres = (torch.rand(count, 2, generator=generator) * size).numpy()
    colours = torch.rand(count + 1, 3, generator=generator).numpy()
    contrast = (torch.rand(count + 1, generator=generator) * module.MAX_CONTRAST).numpy()
    frequency = (torch.rand(count + 1, generator=generator) * module.MAX_FREQUENCY).numpy()
    angle, phase = (torch.rand(2, count + 1, generator=generator) * 2 * math.pi).numpy()
    image = np.zeros((size, size, 3), np.float32)
    for row in range(size):
        for col in range(size):
            y, x = row + 0.5, col + 0.5
            top = next((k for k in range(count)
                        if (y - centres[k, 0]) ** 2 + (x - centres[k, 1]) ** 2 <= radii[k] ** 2), count)
            wave = math.sin(2 * math.pi * frequency[top] * (x * math.cos(angle[top]) + y * math.sin(angle[top]))
                            + phase[top])
            image[row, col] = np.clip(colours[top] * (1 + contrast[top] * wave), 0, 1)
    return image


class TestDeadLeaves:
    def test_matches_a_painters_loop(self):
        image = dead_leaves(12, torch.Generator().manual_seed(5), min_radius=2.0)
        assert image.shape == (1, 3, 12, 12) and image.dtype == torch.float32
        np.testing.assert_allclose(image[0].permute(1, 2, 0).numpy(), painted(12, 5, 2.0), atol=1e-5)

    @pytest.mark.parametrize("chunk", [1, 7, 10_000])
    def test_the_chunks_do_not_change_the_image(self, monkeypatch, chunk):
        """first_covering tests discs a chunk at a time against the pixels still uncovered: one disc,
        an odd chunk and all discs at once give the painter's image."""
        monkeypatch.setattr(module, "CHUNK", chunk)
        image = dead_leaves(16, torch.Generator().manual_seed(2))
        np.testing.assert_allclose(image[0].permute(1, 2, 0).numpy(), painted(16, 2), atol=1e-5)

    def test_the_ground_shows_where_no_disc_falls(self, monkeypatch):
        monkeypatch.setattr(module, "DISCS_PER_PIXEL", 1 / 256)  # one small disc on a 16 x 16 image
        image = dead_leaves(16, torch.Generator().manual_seed(0), max_radius=2.0)
        expected = painted(16, 0, max_radius=2.0)
        assert len(np.unique(expected.reshape(-1, 3), axis=0)) > 1  # the ground's texture, and the disc
        np.testing.assert_allclose(image[0].permute(1, 2, 0).numpy(), expected, atol=1e-5)

    def test_seeded_and_in_range(self):
        first, again, other = (dead_leaves(24, torch.Generator().manual_seed(seed)) for seed in (1, 1, 2))
        assert torch.equal(first, again) and not torch.equal(first, other)
        assert 0 <= float(first.min()) and float(first.max()) <= 1

    def test_its_colour_channels_are_independent(self):
        """Unlike a grey photo's (correlation 1): each disc draws each channel on its own; only the texture,
        which scales a disc's three channels alike, correlates them a little (about 0.1)."""
        images = torch.cat([dead_leaves(32, torch.Generator().manual_seed(seed)) for seed in range(64)])
        correlation = torch.corrcoef(images.permute(1, 0, 2, 3).reshape(3, -1))
        assert (correlation - torch.eye(3)).abs().max() < 0.25


class TestSyntheticShare:
    images = [NamedImage("img", torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(1)))]
    sampler = DegradationSampler(2, 0.5, (2.0,), 0.5, (0.1,))

    def test_zero_draws_exactly_the_batches_of_before(self):
        before = training_batch(self.images, 8, 16, self.sampler, torch.Generator().manual_seed(7))
        now = training_batch(self.images, 8, 16, self.sampler, torch.Generator().manual_seed(7), synthetic_share=0.0)
        assert torch.equal(before.lr, now.lr) and torch.equal(before.gt, now.gt) and before.sources == now.sources

    def test_a_share_mixes_dead_leaves_patches_among_the_photo_crops(self):
        batch = training_batch(self.images, 64, 16, DegradationSampler(2), torch.Generator().manual_seed(0),
                               synthetic_share=0.25)
        synthetic = [i for i, source in enumerate(batch.sources) if source == -1]
        assert 8 <= len(synthetic) <= 24 and set(batch.sources) == {-1, 0}
        for i, source in enumerate(batch.sources):  # photo crops come from the photo, dead leaves do not
            assert torch.isin(batch.gt[i], self.images[0].hr).all() == (source == 0), i
        assert torch.equal(batch.lr, degrade_batch(batch.gt, batch.degradations, torch.Generator()))

    def test_the_whole_batch(self):
        batch = training_batch(self.images, 4, 16, self.sampler, torch.Generator().manual_seed(3), synthetic_share=1.0)
        assert batch.sources == [-1] * 4 and batch.gt.shape == (4, 3, 16, 16)
