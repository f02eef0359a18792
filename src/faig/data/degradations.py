"""The classical degradation model of Eq. 1, x = (x_gt ⊛ k)↓r + n, as the paper's experiments made it.

Sec. 5.1: isotropic Gaussian blur (21x21, sigma 2, cv2.filter2D's reflect-101 border), bilinear
downsampling (cv2.resize INTER_LINEAR: half-pixel centres, no antialiasing), additive white Gaussian
noise (sigma 0.1 on the [0, 1] scale), then rounding to 8 bit and clipping. For training, blur and
noise are drawn independently, each with its own probability (0.5 for the target network).

Beyond the paper (its conclusion asks for more degradation types and levels): JPEG compression as
the last step (an 8-bit encode/decode round trip through Pillow's libjpeg, as real files are; the
order of Real-ESRGAN's first-order model: blur, resize, noise, JPEG), and every kind at any level.
Variants are named by kinds joined with ``+``, each with an optional level: ``blur`` (sigma 2),
``blur1``, ``noise`` (sigma 0.1), ``noise0.05``, ``jpeg`` (quality 30), ``jpeg50``,
``blur3+noise0.05+jpeg``; ``clean`` is downsampling alone.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from faig.checks import check_images, check_number, check_seed
from faig.errors import FaigError


def _check_kernel_size(kernel_size: int) -> None:
    """Refuse a kernel size that is not a positive odd integer (an even one shifts the image)."""
    check_number("kernel_size", kernel_size, 1, integer=True)
    if kernel_size % 2 == 0:
        raise FaigError(f"kernel_size must be odd, got {kernel_size}")


@dataclass(frozen=True)
class Degradation:
    """One fixed degradation: blur sigma and noise sigma (None: not applied), kernel size, scale.

    Raises:
        FaigError: a blur sigma that is not > 0, a noise sigma that is not >= 0 (nan and infinities
            included), a scale below 1 or an even kernel size.
    """

    scale: int = 2
    blur_sigma: float | None = None
    noise_sigma: float | None = None
    kernel_size: int = 21
    jpeg_quality: int | None = None

    def __post_init__(self) -> None:
        check_number("scale", self.scale, 1, integer=True)
        _check_kernel_size(self.kernel_size)
        if self.blur_sigma is not None:
            check_number("blur_sigma", self.blur_sigma, 0, open_low=True)
        if self.noise_sigma is not None:
            check_number("noise_sigma", self.noise_sigma, 0)
        if self.jpeg_quality is not None:
            check_number("jpeg_quality", self.jpeg_quality, 1, 100, integer=True)


@dataclass(frozen=True)
class DegradationSampler:
    """The random mix that training draws from (Sec. 5.1: blur and noise independent).

    Each kind is drawn independently with its probability, unless ``exclusive_kinds`` names it:
    the kinds named there are one choice, so that a sample gets at most one of them, each with its
    own probability (their sum at most 1). ``exclusive_kinds=("noise", "jpeg")`` with noise and JPEG
    at 0.25 each and blur at 0.5 keeps the paper's quarter of clean samples while adding JPEG, and
    never compresses a noisy image.

    Example:
        >>> mix = DegradationSampler(blur_prob=0.5, noise_prob=0.25, jpeg_prob=0.25,
        ...                          exclusive_kinds=("noise", "jpeg"))
        >>> drawn = sample_degradations(mix, 1000, torch.Generator().manual_seed(0))
        >>> any(d.noise_sigma is not None and d.jpeg_quality is not None for d in drawn)
        False

    Raises:
        FaigError: a probability outside [0, 1], an empty or bad list of sigmas (blur > 0, noise
            >= 0, finite), a scale below 1 or an even kernel size; exclusive kinds that are unknown,
            repeated or fewer than two, or whose probabilities sum past 1.
    """

    scale: int = 2
    blur_prob: float = 0.0
    blur_sigmas: tuple[float, ...] = (2.0,)
    noise_prob: float = 0.0
    noise_sigmas: tuple[float, ...] = (0.1,)
    kernel_size: int = 21
    jpeg_prob: float = 0.0
    jpeg_qualities: tuple[int, ...] = (30,)
    exclusive_kinds: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_number("scale", self.scale, 1, integer=True)
        _check_kernel_size(self.kernel_size)
        check_number("blur_prob", self.blur_prob, 0, 1)
        check_number("noise_prob", self.noise_prob, 0, 1)
        check_number("jpeg_prob", self.jpeg_prob, 0, 1)
        if len(self.jpeg_qualities) == 0:
            raise FaigError("jpeg_qualities must list at least one quality")
        for quality in self.jpeg_qualities:
            check_number("jpeg_qualities", quality, 1, 100, integer=True)
        for name, sigmas, positive in (("blur_sigmas", self.blur_sigmas, True),
                                       ("noise_sigmas", self.noise_sigmas, False)):
            if len(sigmas) == 0:
                raise FaigError(f"{name} must list at least one sigma")
            for sigma in sigmas:
                check_number(name, sigma, 0, open_low=positive)
        _check_exclusive_kinds(self)

    @property
    def extra_kinds(self) -> tuple[str, ...]:
        """The kinds this mix draws beyond the paper's blur and noise (``("jpeg",)`` or none): what
        names a target fine-tuned on a wider mix (issue 12).

        Example:
            >>> DegradationSampler(blur_prob=0.5, noise_prob=0.5, jpeg_prob=0.5).extra_kinds
            ('jpeg',)
        """
        return tuple(kind for kind in MIX_KINDS if getattr(self, f"{kind}_prob") > 0)


VARIANTS: tuple[str, ...] = ("clean", "blur", "noise", "blur+noise")  # the paper's four (Sec. 5)
KINDS: tuple[str, ...] = ("blur", "noise", "jpeg")
DEFAULT_JPEG_QUALITY = 30  # Real-ESRGAN's lowest training quality


def _check_exclusive_kinds(sampler: DegradationSampler) -> None:
    """Refuse exclusive kinds that are unknown, repeated or fewer than two, or whose probabilities
    sum past 1 (one choice cannot draw more than all of its samples)."""
    kinds = sampler.exclusive_kinds
    if not kinds:
        return
    if any(kind not in KINDS for kind in kinds) or len(set(kinds)) != len(kinds) or len(kinds) < 2:
        raise FaigError(f"exclusive_kinds must name two or more of {', '.join(KINDS)} once each, "
                        f"got {list(kinds)}")
    total = sum(getattr(sampler, f"{kind}_prob") for kind in kinds)
    if total > 1 + 1e-9:
        raise FaigError(f"the probabilities of the exclusive kinds {', '.join(kinds)} sum to {total:g}: "
                        "one choice among them needs a sum of at most 1")


# Kinds a target's blind mix can add to the paper's blur and noise, each drawn with its probability
# (0.5) at its default level (JPEG quality 30, Real-ESRGAN's lowest): issue 12's wider mix.
MIX_KINDS: tuple[str, ...] = ("jpeg",)

# A level as a variant name writes it: digits with an optional decimal point (2, 0.05, .5), nothing
# more: float() would also take "1_0", "nan", "inf" and "1e400".
_LEVEL = re.compile(r"\d*\.?\d+")


def variant_parts(name: str) -> dict[str, float | None]:
    """The kinds a variant name holds and their levels (None: the default level).

    Example:
        >>> variant_parts("blur3+noise")
        {'blur': 3.0, 'noise': None}
        >>> variant_parts("clean")
        {}

    Raises:
        FaigError: an unknown kind, a level that is not plain digits with an optional decimal point
            (``noise1_0``, ``jpegnan``), or a kind named twice.
    """
    if name == "clean":
        return {}
    parts: dict[str, float | None] = {}
    for token in name.split("+"):
        kind = next((k for k in KINDS if token.startswith(k)), None)
        level = token[len(kind):] if kind else ""
        if kind is None or kind in parts or (level and not _LEVEL.fullmatch(level)):
            raise FaigError(f"unknown degradation variant {name!r}: use clean, or {', '.join(KINDS)} with an "
                            "optional level (digits, with an optional decimal point), joined by + "
                            "(e.g. blur, blur1, noise0.05, jpeg50, blur+noise)")
        parts[kind] = float(level) if level else None
    return parts


def mix_kinds(degradations: tuple[str, ...]) -> tuple[str, ...]:
    """The kinds of :data:`MIX_KINDS` that ``degradations`` name: what a target must have been
    fine-tuned on, beyond the paper's blind mix, to restore them.

    Example:
        >>> mix_kinds(("blur", "noise", "jpeg50")), mix_kinds(("blur1", "noise"))
        (('jpeg',), ())
    """
    return tuple(kind for kind in MIX_KINDS if any(kind in variant_parts(name) for name in degradations))


def variant(name: str, scale: int = 2, blur_sigma: float = 2.0, noise_sigma: float = 0.1,
            kernel_size: int = 21, jpeg_quality: int = DEFAULT_JPEG_QUALITY) -> Degradation:
    """The degradation a variant name describes (see the module docstring): the paper's ``clean``,
    ``blur``, ``noise``, ``blur+noise`` (Sec. 5), and any kinds and levels beyond them; a kind named
    without a level takes the given default.

    Example:
        >>> variant("blur1+jpeg50")
        Degradation(scale=2, blur_sigma=1.0, noise_sigma=None, kernel_size=21, jpeg_quality=50)

    Raises:
        FaigError: a name :func:`variant_parts` refuses, or a level out of range (a JPEG quality
            that is not a whole number from 1 to 100, checked before it is made an int: a level of
            400 digits is inf; a noise level of 0, which would label clean inputs noisy).
    """
    parts = variant_parts(name)
    level = {"blur": blur_sigma, "noise": noise_sigma, "jpeg": jpeg_quality}
    chosen = {kind: (level[kind] if value is None else value) for kind, value in parts.items()}
    if chosen.get("noise") == 0:
        raise FaigError(f"a noise level of 0 adds no noise ({name!r}): that input is clean")
    if "jpeg" in chosen and not (1 <= chosen["jpeg"] <= 100 and float(chosen["jpeg"]).is_integer()):
        raise FaigError(f"a JPEG quality is a whole number from 1 to 100, not {chosen['jpeg']:g} ({name!r})")
    return Degradation(scale=scale, blur_sigma=chosen.get("blur"), noise_sigma=chosen.get("noise"),
                       kernel_size=kernel_size, jpeg_quality=int(chosen["jpeg"]) if "jpeg" in chosen else None)


def variant_sampler(name: str, scale: int = 2) -> DegradationSampler:
    """A training mix that always draws the one variant ``name`` names, at its level: the data of a
    re-training task (Sec. 5.2.2: blur-only for deblurring, noise-only for denoising, and beyond
    the paper JPEG-only or any level).

    Example:
        >>> sampler = variant_sampler("jpeg50")
        >>> sampler.jpeg_prob, sampler.jpeg_qualities, sampler.blur_prob
        (1.0, (50,), 0.0)

    Raises:
        FaigError: a name :func:`variant` refuses.
    """
    fixed = variant(name, scale)
    present = {kind: float(value is not None) for kind, value in
               (("blur", fixed.blur_sigma), ("noise", fixed.noise_sigma), ("jpeg", fixed.jpeg_quality))}
    return DegradationSampler(scale=scale, blur_prob=present["blur"], noise_prob=present["noise"],
                              jpeg_prob=present["jpeg"], kernel_size=fixed.kernel_size,
                              **({"blur_sigmas": (fixed.blur_sigma,)} if fixed.blur_sigma is not None else {}),
                              **({"noise_sigmas": (fixed.noise_sigma,)} if fixed.noise_sigma is not None else {}),
                              **({"jpeg_qualities": (fixed.jpeg_quality,)} if fixed.jpeg_quality is not None else {}))


def gaussian_kernel(kernel_size: int, sigma: float) -> torch.Tensor:
    """Isotropic Gaussian kernel (kernel_size x kernel_size) normalised to sum 1.

    Raises:
        FaigError: sigma not a finite number > 0 (0 would make every pixel black), or an even or
            non-positive kernel size.
    """
    check_number("sigma", sigma, 0, open_low=True)
    _check_kernel_size(kernel_size)
    radius = (kernel_size - 1) / 2
    coords = torch.arange(kernel_size, dtype=torch.float64) - radius
    grid = coords[None, :] ** 2 + coords[:, None] ** 2
    kernel = torch.exp(-grid / (2 * sigma**2))
    return (kernel / kernel.sum()).float()


def blur(images: torch.Tensor, sigma: float, kernel_size: int = 21) -> torch.Tensor:
    """Convolve each channel of NCHW images with the Gaussian kernel; reflect-101 border like
    cv2.filter2D.

    Raises:
        FaigError: not NCHW images, images no larger than the kernel's radius, or a bad sigma.
    """
    check_images("blur", images, channels=None)
    kernel = gaussian_kernel(kernel_size, sigma).to(images)
    channels = images.shape[1]
    weight = kernel.expand(channels, 1, kernel_size, kernel_size)
    pad = kernel_size // 2
    if min(images.shape[-2:]) <= pad:
        raise FaigError(f"blur needs images larger than {pad} pixels a side for its {kernel_size}x{kernel_size} "
                        f"kernel, got shape {tuple(images.shape)}")
    padded = F.pad(images, (pad, pad, pad, pad), mode="reflect")
    return F.conv2d(padded, weight, groups=channels)


def downsample(images: torch.Tensor, scale: int) -> torch.Tensor:
    """Bilinear downsampling of NCHW images by an integer scale with half-pixel centres and no
    antialiasing.

    Raises:
        FaigError: not NCHW images, a scale below 1, or images smaller than the scale.
    """
    check_images("downsample", images, channels=None)
    check_number("scale", scale, 1, integer=True)
    height, width = images.shape[-2:]
    if min(height, width) < scale:
        raise FaigError(f"downsample x{scale} needs images of at least {scale}x{scale} pixels, "
                        f"got shape {tuple(images.shape)}")
    return F.interpolate(images, size=(height // scale, width // scale), mode="bilinear",
                         align_corners=False, antialias=False)


def quantize(images: torch.Tensor) -> torch.Tensor:
    """Round to 8 bit and clip to [0, 1], as saving the LR image as PNG does."""
    return images.mul(255).round().clamp(0, 255).div(255)


def jpeg(images: torch.Tensor, quality: int) -> torch.Tensor:
    """Each NCHW RGB image through an 8-bit JPEG encode/decode round trip (Pillow's libjpeg, 4:2:0
    chroma subsampling, its default for these qualities), as saving and reading a real file does.

    Raises:
        FaigError: not NCHW RGB images, or a quality outside 1..100.
    """
    import io

    import numpy as np
    from PIL import Image

    check_images("jpeg", images)
    check_number("quality", quality, 1, 100, integer=True)
    decoded = []
    for image in quantize(images).mul(255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy():
        buffer = io.BytesIO()
        Image.fromarray(image).save(buffer, format="JPEG", quality=int(quality))
        buffer.seek(0)
        decoded.append(torch.from_numpy(np.asarray(Image.open(buffer).convert("RGB")).copy()))
    return torch.stack(decoded).permute(0, 3, 1, 2).float().div(255).to(images.device)


def degrade(hr: torch.Tensor, degradation: Degradation,
            generator: torch.Generator | None = None) -> torch.Tensor:
    """Eq. 1 for a batch of HR images (NCHW, [0, 1]) under one fixed degradation.

    Raises:
        FaigError: ``hr`` is not NCHW images large enough for the blur and the scale.
    """
    check_images("degrade", hr, channels=None)
    images = hr
    if degradation.blur_sigma is not None:
        images = blur(images, degradation.blur_sigma, degradation.kernel_size)
    images = downsample(images, degradation.scale)
    if degradation.noise_sigma is not None:
        noise = torch.randn(images.shape, generator=generator, dtype=images.dtype)
        images = images + degradation.noise_sigma * noise.to(images.device)
    images = quantize(images)
    return images if degradation.jpeg_quality is None else jpeg(images, degradation.jpeg_quality)


def sample_degradations(sampler: DegradationSampler, count: int,
                        generator: torch.Generator) -> list[Degradation]:
    """Draw one degradation per training sample: blur and noise each independently (Sec. 5.1), and
    JPEG likewise when ``jpeg_prob`` > 0 (its draws come after the others, so a sampler without JPEG
    draws exactly the random numbers it always did). Kinds in ``exclusive_kinds`` share the uniform
    draw of the first of them, cut into one interval per kind, so at most one of them is drawn and
    the random numbers drawn are the same as without them."""
    draws = torch.rand(count, 2, generator=generator)
    uniforms = {"blur": draws[:, 0], "noise": draws[:, 1]}
    picks = {"blur": torch.randint(len(sampler.blur_sigmas), (count,), generator=generator),
             "noise": torch.randint(len(sampler.noise_sigmas), (count,), generator=generator)}
    if sampler.jpeg_prob > 0:
        uniforms["jpeg"] = torch.rand(count, generator=generator)
        picks["jpeg"] = torch.randint(len(sampler.jpeg_qualities), (count,), generator=generator)
    drawn = {kind: uniform < getattr(sampler, f"{kind}_prob") for kind, uniform in uniforms.items()}
    if sampler.exclusive_kinds:
        group = [kind for kind in sampler.exclusive_kinds if kind in uniforms]
        shared, low = uniforms[group[0]], 0.0
        for kind in group:
            high = low + getattr(sampler, f"{kind}_prob")
            drawn[kind] = (shared >= low) & (shared < high)
            low = high
    levels = {"blur": sampler.blur_sigmas, "noise": sampler.noise_sigmas, "jpeg": sampler.jpeg_qualities}
    chosen = {kind: [levels[kind][int(picks[kind][i])] if drawn[kind][i] else None for i in range(count)]
              for kind in drawn}
    return [
        Degradation(scale=sampler.scale, blur_sigma=chosen["blur"][i], noise_sigma=chosen["noise"][i],
                    kernel_size=sampler.kernel_size, jpeg_quality=chosen.get("jpeg", [None] * count)[i])
        for i in range(count)
    ]


def degrade_batch(hr: torch.Tensor, degradations: list[Degradation],
                  generator: torch.Generator) -> torch.Tensor:
    """Eq. 1 applied per sample, each with its own degradation (training batches).

    Raises:
        FaigError: ``hr`` is not NCHW images, or there is not one degradation per image.
    """
    check_images("degrade_batch", hr, channels=None)
    if len(degradations) != hr.shape[0]:
        raise FaigError(f"degrade_batch needs one degradation per image: {len(degradations)} for {hr.shape[0]}")
    return torch.cat([degrade(hr[i : i + 1], d, generator) for i, d in enumerate(degradations)])


def image_seed(name: str, seed: int = 0) -> int:
    """A fixed noise seed per image name, so every evaluation sees the same noisy input.

    Raises:
        FaigError: a seed outside [0, 2**32 - 1] (:func:`~faig.checks.check_seed`): every
            synthesised input (``faig data``, ``eval``, ``attribute``) passes here.
    """
    check_seed("seed", seed)
    return zlib.crc32(name.encode("utf-8", "surrogateescape")) + 1_000_003 * seed  # any file name the OS gives


def degrade_image(hr: torch.Tensor, name: str, degradation: Degradation, seed: int = 0) -> torch.Tensor:
    """Eq. 1 for one named evaluation image with its fixed noise seed.

    Raises:
        FaigError: what :func:`degrade` refuses (an image too small for the blur kernel, ...),
            naming the image.
    """
    generator = torch.Generator().manual_seed(image_seed(name, seed))
    try:
        return degrade(hr, degradation, generator)
    except FaigError as error:
        raise FaigError(f"image {name}: {error}") from None
