"""The classical degradation model of Eq. 1, x = (x_gt ⊛ k)↓r + n, as the paper's experiments made it.

Sec. 5.1: isotropic Gaussian blur (21x21, sigma 2, cv2.filter2D's reflect-101 border), bilinear
downsampling (cv2.resize INTER_LINEAR: half-pixel centres, no antialiasing), additive white Gaussian
noise (sigma 0.1 on the [0, 1] scale), then rounding to 8 bit and clipping. For training, blur and
noise are drawn independently, each with its own probability (0.5 for the target network).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from faig.errors import FaigError


@dataclass(frozen=True)
class Degradation:
    """One fixed degradation: blur sigma and noise sigma (None: not applied), kernel size, scale."""

    scale: int = 2
    blur_sigma: float | None = None
    noise_sigma: float | None = None
    kernel_size: int = 21


@dataclass(frozen=True)
class DegradationSampler:
    """The random mix that training draws from (Sec. 5.1: blur and noise independent)."""

    scale: int = 2
    blur_prob: float = 0.0
    blur_sigmas: tuple[float, ...] = (2.0,)
    noise_prob: float = 0.0
    noise_sigmas: tuple[float, ...] = (0.1,)
    kernel_size: int = 21


VARIANTS: tuple[str, ...] = ("clean", "blur", "noise", "blur+noise")


def variant(name: str, scale: int = 2, blur_sigma: float = 2.0, noise_sigma: float = 0.1,
            kernel_size: int = 21) -> Degradation:
    """The named evaluation variant of Sec. 5: ``clean`` (downsampling only), ``blur``, ``noise``,
    ``blur+noise``."""
    if name not in VARIANTS:
        raise FaigError(f"unknown degradation variant {name!r}; choose from {', '.join(VARIANTS)}")
    return Degradation(
        scale=scale,
        blur_sigma=blur_sigma if "blur" in name else None,
        noise_sigma=noise_sigma if "noise" in name else None,
        kernel_size=kernel_size,
    )


def gaussian_kernel(kernel_size: int, sigma: float) -> torch.Tensor:
    """Isotropic Gaussian kernel (kernel_size x kernel_size) normalised to sum 1."""
    radius = (kernel_size - 1) / 2
    coords = torch.arange(kernel_size, dtype=torch.float64) - radius
    grid = coords[None, :] ** 2 + coords[:, None] ** 2
    kernel = torch.exp(-grid / (2 * sigma**2))
    return (kernel / kernel.sum()).float()


def blur(images: torch.Tensor, sigma: float, kernel_size: int = 21) -> torch.Tensor:
    """Convolve each channel with the Gaussian kernel; reflect-101 border like cv2.filter2D."""
    kernel = gaussian_kernel(kernel_size, sigma).to(images)
    channels = images.shape[1]
    weight = kernel.expand(channels, 1, kernel_size, kernel_size)
    pad = kernel_size // 2
    padded = F.pad(images, (pad, pad, pad, pad), mode="reflect")
    return F.conv2d(padded, weight, groups=channels)


def downsample(images: torch.Tensor, scale: int) -> torch.Tensor:
    """Bilinear downsampling by an integer scale with half-pixel centres and no antialiasing."""
    height, width = images.shape[-2:]
    return F.interpolate(images, size=(height // scale, width // scale), mode="bilinear",
                         align_corners=False, antialias=False)


def quantize(images: torch.Tensor) -> torch.Tensor:
    """Round to 8 bit and clip to [0, 1], as saving the LR image as PNG does."""
    return images.mul(255).round().clamp(0, 255).div(255)


def degrade(hr: torch.Tensor, degradation: Degradation,
            generator: torch.Generator | None = None) -> torch.Tensor:
    """Eq. 1 for a batch of HR images (NCHW, [0, 1]) under one fixed degradation."""
    images = hr
    if degradation.blur_sigma is not None:
        images = blur(images, degradation.blur_sigma, degradation.kernel_size)
    images = downsample(images, degradation.scale)
    if degradation.noise_sigma is not None:
        noise = torch.randn(images.shape, generator=generator, dtype=images.dtype)
        images = images + degradation.noise_sigma * noise.to(images.device)
    return quantize(images)


def sample_degradations(sampler: DegradationSampler, count: int,
                        generator: torch.Generator) -> list[Degradation]:
    """Draw one degradation per training sample: blur and noise each independently (Sec. 5.1)."""
    draws = torch.rand(count, 2, generator=generator)
    blur_pick = torch.randint(len(sampler.blur_sigmas), (count,), generator=generator)
    noise_pick = torch.randint(len(sampler.noise_sigmas), (count,), generator=generator)
    return [
        Degradation(
            scale=sampler.scale,
            blur_sigma=sampler.blur_sigmas[int(blur_pick[i])] if draws[i, 0] < sampler.blur_prob else None,
            noise_sigma=sampler.noise_sigmas[int(noise_pick[i])] if draws[i, 1] < sampler.noise_prob else None,
            kernel_size=sampler.kernel_size,
        )
        for i in range(count)
    ]


def degrade_batch(hr: torch.Tensor, degradations: list[Degradation],
                  generator: torch.Generator) -> torch.Tensor:
    """Eq. 1 applied per sample, each with its own degradation (training batches)."""
    return torch.cat([degrade(hr[i : i + 1], d, generator) for i, d in enumerate(degradations)])


def image_seed(name: str, seed: int = 0) -> int:
    """A fixed noise seed per image name, so every evaluation sees the same noisy input."""
    return zlib.crc32(name.encode()) + 1_000_003 * seed


def degrade_image(hr: torch.Tensor, name: str, degradation: Degradation, seed: int = 0) -> torch.Tensor:
    """Eq. 1 for one named evaluation image with its fixed noise seed."""
    generator = torch.Generator().manual_seed(image_seed(name, seed))
    return degrade(hr, degradation, generator)
