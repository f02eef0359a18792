"""Dead-leaves images: a synthetic training prior with colour that no photo split has to supply.

The dead-leaves model (Matheron; Lee, Mumford & Huang, IJCV 2001) stacks opaque discs, each hiding
what lies under it. With radii drawn from a power law p(r) ∝ r^-3 the images are scale invariant,
as natural images are, and restoration networks trained on them alone come close to those trained
on photos (Achddou, Gousseau & Ladjal, "Synthetic images as a regularity prior for image
restoration neural networks", SSVM 2021). faig mixes them into training patches for a different
reason (issue 10, point 3): five of the embedded train split's nine photos are grey, and a target
fine-tuned on them learns that averaging the colour channels removes noise, which costs colour
photos their chroma. Each disc here gets its own colour, drawn uniformly per channel (so the
channels are independent, unlike any grey photo's), and a sinusoidal texture of random orientation,
frequency and contrast; the degradation of Eq. 1 is applied afterwards exactly as to a photo.

Everything is drawn from the caller's ``torch.Generator`` on the CPU, so a training batch stays
reproducible and a resumed training bit-identical.
"""

from __future__ import annotations

import math

import torch

ALPHA = 3.0  # the radius power law's exponent: scale invariance (Lee, Mumford & Huang 2001)
MIN_RADIUS = 1.0  # pixels
DISCS_PER_PIXEL = 0.5  # discs drawn per pixel of the patch: enough that gaps are rare at α = 3
MAX_CONTRAST = 0.5  # a disc's texture scales its colour by 1 ± at most this
MAX_FREQUENCY = 0.25  # cycles per pixel of a disc's texture (Nyquist is 0.5)
CHUNK = 64  # discs tested at a time against the pixels no earlier disc covers


def power_law_radii(count: int, min_radius: float, max_radius: float, generator: torch.Generator,
                    alpha: float = ALPHA) -> torch.Tensor:
    """``count`` radii with density ∝ r^-alpha on [min_radius, max_radius], by inverting the CDF.

    Args:
        count: how many radii.
        min_radius, max_radius: the support, 0 < min_radius < max_radius (pixels).
        generator: the source of the uniform draws.
        alpha: the exponent, not 1.

    Returns:
        A float32 tensor of shape (count,).

    Example:
        >>> radii = power_law_radii(10_000, 1.0, 50.0, torch.Generator().manual_seed(0))
        >>> bool(radii.min() >= 1.0 and radii.max() <= 50.0), round(float(radii.median()), 1)
        (True, 1.4)
    """
    power = 1.0 - alpha
    uniform = torch.rand(count, generator=generator, dtype=torch.float64)
    low, high = min_radius ** power, max_radius ** power
    return ((low + uniform * (high - low)) ** (1.0 / power)).float()


def first_covering(centres: torch.Tensor, radii: torch.Tensor, coordinate: torch.Tensor,
                   chunk: int = CHUNK) -> torch.Tensor:
    """For each pixel, the index of the first disc that covers it (the pixel's centre within the
    disc's radius), or the number of discs where none does.

    The discs are tested ``chunk`` at a time, each chunk only against the pixels that no earlier
    disc covers: at 0.5 discs a pixel and α = 3 the first few hundred discs cover nearly every pixel,
    so a 64-px training patch (smallest radius 2 px) compares about 5% of the disc-pixel pairs a dense
    test compares (7% at 48 px, 3% at 96 px). Each comparison is the same float32 arithmetic as the
    dense test's, so the result is the same to the bit. A GPU, where each chunk costs a
    synchronisation and the dense test is cheap, takes all discs in one chunk.

    Args:
        centres: (count, 2) disc centres as (y, x) in pixels.
        radii: (count,) disc radii in pixels.
        coordinate: (size,) the pixel centres' coordinate along either axis.
        chunk: how many discs are tested at a time.

    Returns:
        A (size, size) int64 tensor of disc indices in [0, count].

    Example:
        >>> first_covering(torch.tensor([[0.5, 0.5], [1.5, 1.5]]), torch.tensor([1.0, 1.0]),
        ...                torch.tensor([0.5, 1.5]))
        tensor([[0, 0],
                [0, 1]])
    """
    size, count = coordinate.numel(), radii.numel()
    on_top = torch.full((size * size,), count, dtype=torch.long, device=coordinate.device)
    pending = torch.arange(size * size, device=coordinate.device)
    for start in range(0, count, chunk):
        y, x = coordinate[pending // size], coordinate[pending % size]
        discs = slice(start, start + chunk)
        covers = ((y - centres[discs, :1]) ** 2 + (x - centres[discs, 1:]) ** 2
                  <= radii[discs, None] ** 2)  # chunk x pending
        covered = covers.any(0)
        on_top[pending[covered]] = start + covers[:, covered].to(torch.uint8).argmax(0)
        pending = pending[~covered]
        if pending.numel() == 0:
            break
    return on_top.view(size, size)


def dead_leaves(size: int, generator: torch.Generator, min_radius: float = MIN_RADIUS,
                max_radius: float | None = None, device: torch.device | str = "cpu") -> torch.Tensor:
    """One size x size dead-leaves image with coloured, textured discs.

    Discs are drawn in order, each lying under all those drawn before it (the first leaf to land is
    on top), with centres uniform over the image, radii from :func:`power_law_radii` and colours
    uniform in [0, 1] per channel; a pixel that no disc covers gets one more colour, the ground's.
    A disc's texture multiplies its colour by 1 + c·sin(2π f (x cos θ + y sin θ) + φ), c up to
    :data:`MAX_CONTRAST`, f up to :data:`MAX_FREQUENCY` cycles per pixel.

    Args:
        size: the image's side in pixels.
        generator: the source of every random number (CPU).
        min_radius: the smallest disc radius in pixels.
        max_radius: the largest (default: ``size``).
        device: where the image is drawn (the random numbers come from ``generator`` on the CPU
            first, so every device gets the same discs; a GPU draws a training batch's images far
            faster than the CPU).

    Returns:
        A 1 x 3 x size x size float32 tensor in [0, 1], on ``device``.

    Example:
        >>> image = dead_leaves(32, torch.Generator().manual_seed(0))
        >>> tuple(image.shape), bool(image.min() >= 0 and image.max() <= 1)
        ((1, 3, 32, 32), True)
    """
    count = max(1, math.ceil(DISCS_PER_PIXEL * size * size))
    radii = power_law_radii(count, min_radius, float(max_radius or size), generator)
    centres = torch.rand(count, 2, generator=generator) * size
    colours = torch.rand(count + 1, 3, generator=generator)  # the last: the ground's
    contrast = torch.rand(count + 1, generator=generator) * MAX_CONTRAST
    frequency = torch.rand(count + 1, generator=generator) * MAX_FREQUENCY
    angle, phase = (torch.rand(2, count + 1, generator=generator) * 2 * math.pi).unbind()
    radii, centres, colours, contrast, frequency, angle, phase = (
        values.to(device) for values in (radii, centres, colours, contrast, frequency, angle, phase))

    coordinate = torch.arange(size, dtype=torch.float32, device=device) + 0.5
    on_top = first_covering(centres, radii, coordinate, CHUNK if torch.device(device).type == "cpu" else count)
    y, x = coordinate[:, None], coordinate[None, :]
    wave = torch.sin(2 * math.pi * frequency[on_top] * (x * angle[on_top].cos() + y * angle[on_top].sin())
                     + phase[on_top])
    image = colours[on_top] * (1 + contrast[on_top] * wave)[..., None]
    return image.clamp(0, 1).permute(2, 0, 1).unsqueeze(0).contiguous()
