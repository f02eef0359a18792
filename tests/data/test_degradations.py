import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage

from faig.data.degradations import (Degradation, DegradationSampler, blur, degrade, degrade_image, downsample,
                                    gaussian_kernel, quantize, sample_degradations, variant)
from faig.errors import FaigError


@pytest.mark.parametrize("size,sigma", [(21, 2.0), (7, 1.0), (15, 3.5)])
def test_kernel_is_the_normalised_gaussian(size, sigma):
    kernel = gaussian_kernel(size, sigma).double()
    assert kernel.shape == (size, size)
    assert kernel.sum().item() == pytest.approx(1.0, abs=1e-6)
    r = (size - 1) / 2
    y, x = np.mgrid[0:size, 0:size] - r
    expected = np.exp(-(x**2 + y**2) / (2 * sigma**2))
    np.testing.assert_allclose(kernel.numpy(), expected / expected.sum(), atol=1e-7)


def test_blur_matches_reflect101_correlation():
    image = torch.rand(1, 3, 30, 26, dtype=torch.float64)
    ours = blur(image.float(), 2.0, 21).double()
    kernel = gaussian_kernel(21, 2.0).double().numpy()
    for c in range(3):
        # scipy's "mirror" mode is reflect-101 (cv2.BORDER_DEFAULT): d c b | a b c d | c b a
        expected = ndimage.correlate(image[0, c].numpy(), kernel, mode="mirror")
        np.testing.assert_allclose(ours[0, c].numpy(), expected, atol=1e-5)


def test_x2_bilinear_is_the_mean_of_2x2_blocks():
    image = torch.rand(2, 3, 16, 12)
    expected = image.reshape(2, 3, 8, 2, 6, 2).mean(dim=(3, 5))
    torch.testing.assert_close(downsample(image, 2), expected, atol=1e-6, rtol=0)


def test_x3_bilinear_samples_the_block_centres():
    image = torch.rand(1, 3, 18, 15)
    torch.testing.assert_close(downsample(image, 3), image[..., 1::3, 1::3], atol=1e-6, rtol=0)


def test_quantize_gives_8bit_levels_and_clips():
    values = torch.tensor([-0.3, 0.0, 0.1234, 0.5, 0.99999, 1.7])
    out = quantize(values)
    assert torch.all((out * 255 - (out * 255).round()).abs() < 1e-5)
    assert out.min() == 0 and out.max() == 1
    assert out[2].item() == pytest.approx(31 / 255)


def test_noise_statistics():
    hr = torch.full((1, 3, 400, 400), 0.5)
    lr = degrade(hr, Degradation(2, None, 0.1), torch.Generator().manual_seed(1))
    residual = lr - 0.5
    assert residual.mean().abs().item() < 2e-3
    # quantisation adds variance 1/(12*255^2)
    assert residual.std().item() == pytest.approx((0.1**2 + 1 / (12 * 255**2)) ** 0.5, rel=0.02)


def test_clean_degradation_is_downsample_then_quantize():
    hr = torch.rand(1, 3, 24, 24)
    torch.testing.assert_close(degrade(hr, variant("clean")), quantize(downsample(hr, 2)))


def test_named_variants():
    assert variant("blur") == Degradation(2, 2.0, None)
    assert variant("blur+noise", scale=4) == Degradation(4, 2.0, 0.1)
    with pytest.raises(FaigError, match="unknown degradation variant"):
        variant("jpeg")


def test_fixed_noise_seed_per_image():
    hr = torch.rand(1, 3, 24, 24)
    noise = variant("noise")
    torch.testing.assert_close(degrade_image(hr, "a", noise), degrade_image(hr, "a", noise))
    assert not torch.equal(degrade_image(hr, "a", noise), degrade_image(hr, "b", noise))


@settings(max_examples=20, deadline=None)
@given(blur_prob=st.floats(0, 1), noise_prob=st.floats(0, 1), seed=st.integers(0, 2**31))
def test_sampler_draws_blur_and_noise_independently(blur_prob, noise_prob, seed):
    sampler = DegradationSampler(2, blur_prob, (2.0, 3.0), noise_prob, (0.1,))
    draws = sample_degradations(sampler, 400, torch.Generator().manual_seed(seed))
    blurred = np.mean([d.blur_sigma is not None for d in draws])
    noisy = np.mean([d.noise_sigma is not None for d in draws])
    assert abs(blurred - blur_prob) < 0.1 and abs(noisy - noise_prob) < 0.1
    assert {d.blur_sigma for d in draws} <= {None, 2.0, 3.0}
    again = sample_degradations(sampler, 400, torch.Generator().manual_seed(seed))
    assert draws == again


def test_matches_the_official_opencv_pipeline():
    """The official scripts use cv2.filter2D and cv2.resize(INTER_LINEAR); we match them."""
    import cv2  # a test dependency (pyproject: test extra)
    image = np.random.default_rng(0).random((40, 36, 3))
    kernel = gaussian_kernel(21, 2.0).double().numpy()
    as_tensor = torch.from_numpy(image).permute(2, 0, 1)[None]
    ours = blur(as_tensor.float(), 2.0, 21)[0].permute(1, 2, 0).double().numpy()
    np.testing.assert_allclose(ours, cv2.filter2D(image, -1, kernel), atol=1e-5)
    for scale in (2, 3, 4):
        expected = cv2.resize(image, (36 // scale, 40 // scale), interpolation=cv2.INTER_LINEAR)
        np.testing.assert_allclose(downsample(as_tensor, scale)[0].permute(1, 2, 0).numpy(), expected, atol=1e-9)
