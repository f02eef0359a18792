"""Importance of the elimination term of Eq. 7 (Sec. 5.4, Fig. 5).

Without the ∼D term, the filters for D are ranked by Eq. 6 over the D-degraded images alone (the
dataset mean of each image's filter scores, Σ|FAIG_i(θ, x_D)| over a filter's weights); masking
them then also harms the other degradation's removal.
"""

from __future__ import annotations

import torch
from torch import nn

from faig.attribution.discriminative import mean_over_images
from faig.attribution.result import rank
from faig.experiments.masking import masking_drops, percent_key

def without_elimination_ranking(per_image: torch.Tensor) -> torch.Tensor:
    """Filter indices, best first, by Eq. 6 over the images (Eq. 7's first term) of the per-image
    filter scores (n_images, total), which FAIG makes non-negative."""
    return rank(mean_over_images(per_image))


def ablation_drops(baseline: nn.Module, target: nn.Module, rankings: dict[str, torch.Tensor],
                   inputs: dict[str, list[torch.Tensor]], percent: float = 1.0,
                   references: dict[str, list[torch.Tensor]] | None = None) -> dict[str, dict[str, list[float]]]:
    """Per-image masking drops (x 1e-3) for each named ranking at one percentage:
    ``{ranking name: {input kind: drops}}``."""
    return {name: masking_drops(baseline, target, ranking, inputs, (percent,), references)[percent_key(percent)]
            for name, ranking in rankings.items()}
