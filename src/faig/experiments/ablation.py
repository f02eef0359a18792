"""Importance of the elimination term of Eq. 7 (Sec. 5.4, Fig. 5).

Without the ∼D term, the filters for D are ranked by the dataset mean of |FAIG_i(θ, x_D)| alone;
masking them then also harms the other degradation's removal.
"""

from __future__ import annotations

import torch
from torch import nn

from faig.experiments.masking import masking_drops, percent_key

VARIANTS: tuple[str, ...] = ("with_elimination", "without_elimination")


def without_elimination_ranking(per_image: torch.Tensor) -> torch.Tensor:
    """Filter indices, best first, by the mean absolute single-image score (Eq. 7's first term)."""
    return torch.argsort(per_image.abs().mean(0), descending=True, stable=True)


def ablation_drops(baseline: nn.Module, target: nn.Module, rankings: dict[str, torch.Tensor],
                   inputs: dict[str, list[torch.Tensor]], percent: float = 1.0,
                   references: dict[str, list[torch.Tensor]] | None = None) -> dict[str, dict[str, list[float]]]:
    """Per-image masking drops (x 1e-3) for each named ranking at one percentage:
    ``{ranking name: {input kind: drops}}``."""
    return {name: masking_drops(baseline, target, ranking, inputs, (percent,), references)[percent_key(percent)]
            for name, ranking in rankings.items()}
