import math

import pytest
import torch

from faig.experiments.metrics import gradient_energy, gradient_map, gradient_mse, to_gray


def test_gray_of_a_gray_image_is_itself():
    image = torch.rand(2, 1, 5, 6).expand(2, 3, 5, 6)
    assert torch.allclose(to_gray(image), image[:, :1], atol=1e-6)


def test_constant_image_has_only_the_epsilon_inside():
    image = torch.full((1, 3, 6, 7), 0.5)
    gradient = gradient_map(image)
    assert gradient.shape == (1, 1, 6, 7)
    assert torch.allclose(gradient[..., 1:-1, 1:-1], torch.full((4, 5), math.sqrt(1e-6)))


def test_horizontal_ramp_has_central_difference_two_steps():
    ramp = torch.arange(8, dtype=torch.float32).div(10).view(1, 1, 1, 8).expand(1, 3, 6, 8)
    gradient = gradient_map(ramp)[0, 0, 1:-1, 1:-1]
    assert torch.allclose(gradient, torch.full_like(gradient, math.sqrt(0.2**2 + 1e-6)))


def test_mse_is_zero_for_equal_images_and_positive_otherwise():
    first = torch.rand(3, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    second = first.clone()
    second[1] = torch.rand(3, 8, 8)
    mse = gradient_mse(first, second)
    assert mse.shape == (3,)
    assert mse[0] == 0 and mse[2] == 0 and mse[1] > 0


def test_mse_refuses_different_sizes():
    with pytest.raises(ValueError):
        gradient_mse(torch.rand(1, 3, 4, 4), torch.rand(1, 3, 4, 5))


def test_noise_raises_the_gradient_energy():
    smooth = torch.full((1, 3, 16, 16), 0.5)
    noisy = smooth + 0.1 * torch.randn(1, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    assert gradient_energy(noisy) > gradient_energy(smooth)
