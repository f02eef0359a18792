"""Image-quality metrics from scikit-image, computed as SR papers do: on RGB, 8-bit rounded, with
``scale`` pixels cropped from each border (BasicSR's ``crop_border``)."""

from __future__ import annotations

import numpy as np
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from faig.data.images import tensor_to_uint8


def _pair(output: torch.Tensor, reference: torch.Tensor, crop_border: int) -> tuple[np.ndarray, np.ndarray]:
    a, b = tensor_to_uint8(output).astype(np.float64), tensor_to_uint8(reference).astype(np.float64)
    if a.shape != b.shape:
        raise ValueError(f"output {a.shape} and reference {b.shape} differ in size")
    if crop_border:
        a, b = a[crop_border:-crop_border, crop_border:-crop_border], b[crop_border:-crop_border, crop_border:-crop_border]
    return a, b


def psnr(output: torch.Tensor, reference: torch.Tensor, crop_border: int = 0) -> float:
    """PSNR in dB over the RGB channels of two 1x3xHxW images."""
    a, b = _pair(output, reference, crop_border)
    return float(peak_signal_noise_ratio(b, a, data_range=255))


def ssim(output: torch.Tensor, reference: torch.Tensor, crop_border: int = 0) -> float:
    """SSIM of Wang et al. (11x11 Gaussian window, sigma 1.5), averaged over the RGB channels."""
    a, b = _pair(output, reference, crop_border)
    return float(structural_similarity(b, a, data_range=255, channel_axis=2, gaussian_weights=True,
                                       sigma=1.5, use_sample_covariance=False))
