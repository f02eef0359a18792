"""Training batches: random GT crops with flips and 90-degree rotations (and, optionally, a random order
of the colour channels, and a share of dead-leaves patches), degraded on the fly (Eq. 1)."""

from __future__ import annotations

from typing import NamedTuple

import torch

from faig.data.dead_leaves import MIN_RADIUS, dead_leaves
from faig.data.degradations import Degradation, DegradationSampler, degrade_batch, sample_degradations
from faig.data.splits import NamedImage
from faig.errors import FaigError


def random_crop(image: torch.Tensor, size: int, generator: torch.Generator) -> torch.Tensor:
    """One size x size crop of a 1x3xHxW image at a random position."""
    height, width = image.shape[-2:]
    top = int(torch.randint(height - size + 1, (1,), generator=generator))
    left = int(torch.randint(width - size + 1, (1,), generator=generator))
    return image[..., top:top + size, left:left + size]


def augment(patch: torch.Tensor, generator: torch.Generator, channel_shuffle: bool = False,
            channel_gain: float = 0.0) -> torch.Tensor:
    """Random horizontal flip, vertical flip and transpose: the 8 symmetries of the square; with
    ``channel_shuffle`` also a random order of the RGB channels (Eq. 1 treats each channel alike, so
    every order is as valid a training pair; it keeps a network from learning the training photos'
    colour statistics); with ``channel_gain`` g > 0 each channel scaled by its own random gain in
    [1 - g, 1] (a tinted photo is as valid a pair; it keeps a network from learning that averaging
    the channels removes noise, which is free on grayscale photos and desaturates colour ones)."""
    hflip, vflip, transpose = (torch.rand(3, generator=generator) < 0.5).tolist()
    if channel_shuffle:
        patch = patch[:, torch.randperm(patch.shape[1], generator=generator)]
    if hflip:
        patch = patch.flip(-1)
    if vflip:
        patch = patch.flip(-2)
    if transpose:
        patch = patch.transpose(-1, -2)
    if channel_gain > 0:
        patch = patch * (1 - channel_gain * torch.rand(1, patch.shape[1], 1, 1, generator=generator))
    return patch


def augmented_crops(images: list[NamedImage], sources: list[int], size: int, generator: torch.Generator,
                    channel_shuffle: bool = False, channel_gain: float = 0.0, min_radius: float = MIN_RADIUS,
                    device: torch.device | str = "cpu") -> torch.Tensor:
    """One random size x size crop of each image ``sources`` names, through :func:`augment`, drawn
    crop by crop from ``generator``: N x 3 x size x size on ``device``. A source of -1 stands for a
    dead-leaves image (:func:`~faig.data.dead_leaves.dead_leaves`, discs of ``min_radius`` pixels and
    up, drawn on ``device``)."""
    return torch.cat([augment(random_crop(images[i].hr, size, generator), generator, channel_shuffle,
                              channel_gain).to(device)
                      if i >= 0 else dead_leaves(size, generator, min_radius, device=device) for i in sources])


def check_patchable(images: list[NamedImage], gt_size: int) -> None:
    """Refuse training images smaller than one GT patch, naming the first."""
    if not images:
        raise FaigError("no training images")
    for image in images:
        if min(image.hr.shape[-2:]) < gt_size:
            raise FaigError(f"training image {image.name} ({image.hr.shape[-1]}x{image.hr.shape[-2]}) "
                            f"is smaller than the {gt_size}px patch")


class TrainingBatch(NamedTuple):
    """One training batch: LR N x 3 x g/s x g/s and GT N x 3 x g x g (on the device asked for), the
    degradation each sample got (DAN's code loss needs it) and the index of the training image each
    was cropped from (DASR's positive key is another patch of that image; -1 for a dead-leaves patch)."""

    lr: torch.Tensor
    gt: torch.Tensor
    degradations: list[Degradation]
    sources: list[int]


def training_batch(images: list[NamedImage], batch_size: int, gt_size: int, sampler: DegradationSampler,
                   generator: torch.Generator, channel_shuffle: bool = False, channel_gain: float = 0.0,
                   device: torch.device | str = "cpu", synthetic_share: float = 0.0) -> TrainingBatch:
    """A training batch: each GT patch from a uniformly drawn image, degraded by its own draw
    (Eq. 1). The random numbers come from ``generator`` (on the CPU) in the same order on every
    device; the degradation itself (blur, downsampling, noise) runs on ``device``, where a GPU does
    it far faster than the CPU can feed it.

    With ``synthetic_share`` s > 0 each patch is, with probability s, a dead-leaves image instead
    (:func:`~faig.data.dead_leaves.dead_leaves`, its smallest disc one LR pixel in radius): colour
    with independent channels, which grey training photos lack. At s = 0 no random number is drawn
    for it, so earlier configurations get exactly their batches.

    Example:
        >>> sampler = DegradationSampler(2, blur_prob=1.0, blur_sigmas=(1.5,))
        >>> batch = training_batch([NamedImage("x", torch.rand(1, 3, 32, 32))], 2, 24, sampler,
        ...                        torch.Generator().manual_seed(0))
        >>> tuple(batch.lr.shape), tuple(batch.gt.shape), batch.degradations[0].blur_sigma, batch.sources
        ((2, 3, 12, 12), (2, 3, 24, 24), 1.5, [0, 0])
    """
    picks = torch.randint(len(images), (batch_size,), generator=generator).tolist()
    if synthetic_share > 0:
        synthetic = (torch.rand(batch_size, generator=generator) < synthetic_share).tolist()
        picks = [-1 if drawn else pick for pick, drawn in zip(picks, synthetic)]
    gt = augmented_crops(images, picks, gt_size, generator, channel_shuffle, channel_gain, float(sampler.scale),
                         device)
    degradations = sample_degradations(sampler, batch_size, generator)
    return TrainingBatch(degrade_batch(gt, degradations, generator), gt, degradations, picks)
