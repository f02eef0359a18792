"""Image-quality metrics from scikit-image, computed as SR papers do: on RGB, 8-bit rounded, with
``scale`` pixels cropped from each border (BasicSR's ``crop_border``)."""

from __future__ import annotations

import numpy as np
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from faig.checks import check_images, check_number
from faig.data.images import tensor_to_uint8
from faig.errors import FaigError

SSIM_WINDOW = 11  # the Gaussian window of sigma 1.5 that skimage uses (radius int(3.5 * 1.5 + 0.5))


def _pair(function: str, output: torch.Tensor, reference: torch.Tensor, crop_border: int,
          least: int) -> tuple[np.ndarray, np.ndarray]:
    """Both images as HxWx3 float64 8-bit levels, ``crop_border`` pixels cropped from each side.

    Raises:
        FaigError: not one 1x3xHxW image each, sizes that differ, a negative border, or fewer than
            ``least`` pixels a side left after cropping.
    """
    check_images(function, output, single=True)
    check_images(function, reference, single=True)
    if output.shape != reference.shape:
        raise FaigError(f"{function}: output {tuple(output.shape)} and reference {tuple(reference.shape)} "
                        "differ in size")
    check_number("crop_border", crop_border, 0, integer=True)
    if min(output.shape[-2:]) - 2 * crop_border < least:
        raise FaigError(f"{function} needs images of at least {least}x{least} pixels after cropping {crop_border} "
                        f"border pixels, got shape {tuple(output.shape)}")
    a, b = (tensor_to_uint8(image).astype(np.float64) for image in (output, reference))
    if crop_border:
        a, b = (array[crop_border:-crop_border, crop_border:-crop_border] for array in (a, b))
    return a, b


def psnr(output: torch.Tensor, reference: torch.Tensor, crop_border: int = 0) -> float:
    """PSNR in dB over the RGB channels of two 1x3xHxW images.

    Raises:
        FaigError: see :func:`_pair`.
    """
    a, b = _pair("psnr", output, reference, crop_border, 1)
    return float(peak_signal_noise_ratio(b, a, data_range=255))


def ssim(output: torch.Tensor, reference: torch.Tensor, crop_border: int = 0) -> float:
    """SSIM of Wang et al. (11x11 Gaussian window, sigma 1.5), averaged over the RGB channels.

    Raises:
        FaigError: see :func:`_pair`; the images must be at least 11x11 after cropping.
    """
    a, b = _pair("ssim", output, reference, crop_border, SSIM_WINDOW)
    return float(structural_similarity(b, a, data_range=255, channel_axis=2, gaussian_weights=True,
                                       sigma=1.5, use_sample_covariance=False))
