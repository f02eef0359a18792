"""The output difference of Sec. 5.2.1: MSE of the image gradients of the gray counterparts.

The gradient map is the magnitude sqrt(gx^2 + gy^2 + 1e-6) of the horizontal and vertical central
differences (x[i+1] - x[i-1], zero outside the image) of the gray image.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

GRAY_WEIGHTS = (0.299, 0.587, 0.114)  # ITU-R BT.601 luma
EPSILON = 1e-6


def to_gray(images: torch.Tensor) -> torch.Tensor:
    """NCHW RGB -> N1HW gray."""
    weights = torch.tensor(GRAY_WEIGHTS, dtype=images.dtype, device=images.device).view(1, 3, 1, 1)
    return (images * weights).sum(1, keepdim=True)


def gradient_map(images: torch.Tensor) -> torch.Tensor:
    """N1HW gradient magnitude of the gray images."""
    gray = F.pad(to_gray(images), (1, 1, 1, 1))
    gx = gray[..., 1:-1, 2:] - gray[..., 1:-1, :-2]
    gy = gray[..., 2:, 1:-1] - gray[..., :-2, 1:-1]
    return torch.sqrt(gx**2 + gy**2 + EPSILON)


def gradient_mse(first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
    """Per-image MSE between the gradient maps of two NCHW batches (Sec. 5.2.1, Table 2)."""
    if first.shape != second.shape:
        raise ValueError(f"images differ in size: {tuple(first.shape)} vs {tuple(second.shape)}")
    return (gradient_map(first) - gradient_map(second)).pow(2).flatten(1).mean(1)


def gradient_energy(images: torch.Tensor) -> torch.Tensor:
    """Per-image mean gradient magnitude: high for sharp or noisy outputs, low for smooth ones."""
    return gradient_map(images).flatten(1).mean(1)
