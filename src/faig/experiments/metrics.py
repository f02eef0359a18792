"""The output difference of Sec. 5.2.1: MSE of the image gradients of the gray counterparts.

The gradient map is the magnitude sqrt(gx^2 + gy^2 + 1e-6) of the horizontal and vertical central
differences (x[i+1] - x[i-1], zero outside the image) of one channel of the image:

- ``luma`` (faig's default): the BT.601 gray image, as Sec. 5.2.1 describes ("gray counterparts");
- ``blue`` (the official code's): the official scripts save each output as an 8-bit PNG and read it
  back with ``cv2.imread(path, cv2.COLOR_BGR2GRAY)``; that constant (6) is an imread *mode* that
  loads the colour image in BGR order, whose repeated first channel, the blue one, then gets the
  gradient. Table 2's printed numbers are therefore blue-channel gradient MSEs of 8-bit images.
  Blue carries more of the noise and less of the image structure than luma, so its drops differ.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from faig.checks import check_images
from faig.data.degradations import quantize
from faig.errors import FaigError

GRAY_WEIGHTS = (0.299, 0.587, 0.114)  # ITU-R BT.601 luma
GRADIENT_CHANNELS: tuple[str, ...] = ("luma", "blue")
EPSILON = 1e-6


def to_gray(images: torch.Tensor) -> torch.Tensor:
    """NCHW RGB -> N1HW gray."""
    check_images("to_gray", images)
    weights = torch.tensor(GRAY_WEIGHTS, dtype=images.dtype, device=images.device).view(1, 3, 1, 1)
    return (images * weights).sum(1, keepdim=True)


def gradient_channel(images: torch.Tensor, channel: str = "luma") -> torch.Tensor:
    """The N1HW channel whose gradient Sec. 5.2.1 measures: ``luma`` (BT.601 gray) or ``blue`` (the
    official scripts' 8-bit blue channel; see the module docstring)."""
    if channel == "luma":
        return to_gray(images)
    if channel == "blue":
        check_images("gradient_channel", images)
        return quantize(images)[:, 2:3]
    raise FaigError(f"unknown gradient channel {channel!r}; choose from {', '.join(GRADIENT_CHANNELS)}")


def gradient_map(images: torch.Tensor, channel: str = "luma") -> torch.Tensor:
    """N1HW gradient magnitude of one channel (:func:`gradient_channel`) of NCHW RGB images."""
    check_images("gradient_map", images)
    gray = F.pad(gradient_channel(images, channel), (1, 1, 1, 1))
    gx = gray[..., 1:-1, 2:] - gray[..., 1:-1, :-2]
    gy = gray[..., 2:, 1:-1] - gray[..., :-2, 1:-1]
    return torch.sqrt(gx**2 + gy**2 + EPSILON)


def gradient_mse(first: torch.Tensor, second: torch.Tensor, channel: str = "luma") -> torch.Tensor:
    """Per-image MSE between the gradient maps of two NCHW RGB batches (Sec. 5.2.1, Table 2), on
    ``channel`` (``luma``, or ``blue`` for the official code's metric).

    Raises:
        FaigError: either is not NCHW RGB images, or their shapes differ.
    """
    check_images("gradient_mse", first)
    check_images("gradient_mse", second)
    if first.shape != second.shape:
        raise FaigError(f"gradient_mse: images differ in size: {tuple(first.shape)} vs {tuple(second.shape)}")
    return (gradient_map(first, channel) - gradient_map(second, channel)).pow(2).flatten(1).mean(1)


def gradient_energy(images: torch.Tensor) -> torch.Tensor:
    """Per-image mean gradient magnitude of NCHW RGB images: high for sharp or noisy outputs, low
    for smooth ones."""
    check_images("gradient_energy", images)
    return gradient_map(images).flatten(1).mean(1)
