"""PSNR and SSIM as SR papers compute them, and the shapes they refuse."""

import math

import pytest
import torch

from faig.errors import FaigError
from faig.metrics import psnr, ssim


def test_psnr_of_a_uniform_ten_level_error():
    reference = torch.full((1, 3, 12, 12), 100 / 255)
    output = reference + 10 / 255
    assert psnr(output, reference) == pytest.approx(10 * math.log10(255**2 / 100))


def test_psnr_crop_border_leaves_out_the_frame():
    reference = torch.full((1, 3, 12, 12), 100 / 255)
    output = reference + 10 / 255  # ten levels off in the 2-pixel frame (80 pixels), one level inside (64)
    output[..., 2:-2, 2:-2] = reference[..., 2:-2, 2:-2] + 1 / 255
    assert psnr(output, reference) == pytest.approx(10 * math.log10(255**2 / ((80 * 100 + 64 * 1) / 144)))
    assert psnr(output, reference, crop_border=2) == pytest.approx(10 * math.log10(255**2 / 1))


def test_ssim_of_an_image_with_itself_is_one():
    image = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    assert ssim(image, image) == pytest.approx(1.0)
    assert ssim(image.flip(-1), image) < 0.5


@pytest.mark.parametrize("output, reference, message", [
    (torch.rand(1, 1, 3, 8, 8), torch.rand(1, 1, 3, 8, 8), r"psnr expects NCHW images \(4 dims\), got shape"),
    (torch.rand(2, 3, 8, 8), torch.rand(2, 3, 8, 8), r"psnr expects one image \(N = 1\)"),
    (torch.rand(1, 1, 8, 8), torch.rand(1, 1, 8, 8), "psnr expects 3-channel images"),
    (torch.rand(1, 3, 8, 8), torch.rand(1, 3, 8, 9), r"psnr: output \(1, 3, 8, 8\) and reference \(1, 3, 8, 9\)"),
])
def test_psnr_refuses_bad_shapes(output, reference, message):
    with pytest.raises(FaigError, match=message):
        psnr(output, reference)


def test_a_border_that_leaves_too_little_is_refused():
    image = torch.rand(1, 3, 12, 12)
    with pytest.raises(FaigError, match="psnr needs images of at least 1x1 pixels after cropping 6 border pixels"):
        psnr(image, image, crop_border=6)
    with pytest.raises(FaigError, match="ssim needs images of at least 11x11 pixels after cropping 1 border pixels"):
        ssim(image, image, crop_border=1)
    with pytest.raises(FaigError, match="crop_border must be an integer >= 0, got -1"):
        psnr(image, image, crop_border=-1)
