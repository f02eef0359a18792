import math

import pytest
import torch

from faig.experiments.metrics import gradient_energy, gradient_map, gradient_mse, to_gray
from faig.errors import FaigError


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
    with pytest.raises(FaigError, match="images differ in size"):
        gradient_mse(torch.rand(1, 3, 4, 4), torch.rand(1, 3, 4, 5))


def test_noise_raises_the_gradient_energy():
    smooth = torch.full((1, 3, 16, 16), 0.5)
    noisy = smooth + 0.1 * torch.randn(1, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    assert gradient_energy(noisy) > gradient_energy(smooth)


@pytest.mark.parametrize("function", [gradient_mse, lambda a, b: gradient_energy(a)])
def test_five_dimensional_input_is_refused(function):
    images = torch.rand(1, 1, 3, 8, 8)
    with pytest.raises(FaigError, match=r"expects NCHW images \(4 dims\), got shape \(1, 1, 3, 8, 8\)"):
        function(images, images)


def test_gradient_mse_names_itself_and_needs_rgb():
    with pytest.raises(FaigError, match=r"^gradient_mse expects NCHW images \(4 dims\), got shape \(1, 1, 3, 8, 8\)$"):
        gradient_mse(torch.rand(1, 1, 3, 8, 8), torch.rand(1, 1, 3, 8, 8))
    with pytest.raises(FaigError, match="gradient_mse expects 3-channel images"):
        gradient_mse(torch.rand(1, 1, 8, 8), torch.rand(1, 1, 8, 8))


class TestOfficialBlueChannel:
    """The official scripts' metric: the 8-bit blue channel's gradient map (cv2.imread mode 6)."""

    def test_blue_metric_sees_only_the_quantised_blue_channel(self):
        from faig.experiments.metrics import gradient_mse

        generator = torch.Generator().manual_seed(0)
        first = torch.randint(0, 256, (2, 3, 16, 16), generator=generator) / 255  # 8-bit values
        second = first.clone()
        second[:, 0] = torch.rand(2, 16, 16, generator=generator)  # red changes: blue metric blind
        assert torch.equal(gradient_mse(first, second, "blue"), torch.zeros(2))
        assert bool((gradient_mse(first, second, "luma") > 0).all())
        third = first.clone()
        third[:, 2] = (third[:, 2] + 0.4 / 255).clamp(0, 1)  # below half an 8-bit level: lost in the PNG
        assert torch.equal(gradient_mse(first, third, "blue"), torch.zeros(2))

    def test_blue_metric_matches_a_hand_computation(self):
        from faig.experiments.metrics import gradient_mse

        image = torch.zeros(1, 3, 5, 5)
        image[0, 2, 2, 2] = 1.0  # one bright blue pixel
        other = torch.zeros(1, 3, 5, 5)
        # central differences around the pixel: four neighbours get |g| = 1 (others sqrt(1e-6))
        expected = 4 * (1 - 1e-3) ** 2 / 25
        assert float(gradient_mse(image, other, "blue")) == pytest.approx(expected, rel=1e-5)

    def test_unknown_channel(self):
        from faig.errors import FaigError
        from faig.experiments.metrics import gradient_mse

        with pytest.raises(FaigError, match="unknown gradient channel"):
            gradient_mse(torch.zeros(1, 3, 4, 4), torch.zeros(1, 3, 4, 4), "green")
