"""Discriminative filters (Sec. 4.2, Eq. 7) for any named set of degradations, and Eq. 6 over a set.

Both start from the per-image Eq. 6 scores under each degradation, computed once per (image,
degradation) and reused for every D (the official code computes each twice).
"""

from __future__ import annotations

import torch

from faig.errors import FaigError


def mean_over_images(per_image: torch.Tensor) -> torch.Tensor:
    """Eq. 6 over a set of images, without elimination (Eq. 7's first term): the mean of the
    per-image filter scores (n_images, total) -> (total,).

    Example:
        >>> mean_over_images(torch.tensor([[1.0, 0.0], [3.0, 2.0]])).tolist()
        [2.0, 1.0]
    """
    return per_image.mean(0)


def set_scores(per_image: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """:func:`mean_over_images` for each degradation's (n_images, total) scores."""
    return {name: mean_over_images(scores) for name, scores in per_image.items()}


def discriminative_scores(per_image: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Eq. 7: for each D, the mean over the images of the scores on the D-degraded input minus the mean
    over the images and over the other degradations of the scores on theirs."""
    if len(per_image) < 2:
        raise FaigError("Eq. 7 needs at least two degradations to eliminate the others; "
                        "name more, or ask for Eq. 6 alone (no elimination)")
    means = set_scores(per_image)
    return {name: mean - torch.stack([other for key, other in means.items() if key != name]).mean(0)
            for name, mean in means.items()}
