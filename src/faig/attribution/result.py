"""The result every attribution method returns: per-degradation filter scores and rankings."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from faig.attribution.filters import FilterIndex
from faig.errors import FaigError


def rank(scores: torch.Tensor) -> torch.Tensor:
    """Flat filter indices by descending score (ties keep the official order)."""
    return torch.argsort(scores, descending=True, stable=True)


@dataclass(frozen=True)
class Attribution:
    """Filter scores and rankings per degradation (Eq. 7, or the baselines of Sec. 5.2).

    ``per_image[D]`` holds the Eq. 6 scores of every image under D (n_images, total) for ``faig``
    (the IG scores for ``ig``; None for ``abs`` and ``random``); ``completeness_gaps[D]`` the
    relative completeness gap of each image (``faig`` only).
    """

    index: FilterIndex
    scores: dict[str, torch.Tensor]
    rankings: dict[str, torch.Tensor]
    per_image: dict[str, torch.Tensor] | None = None
    completeness_gaps: dict[str, torch.Tensor] | None = None
    metadata: dict = field(default_factory=dict)

    @property
    def method(self) -> str:
        """The attribution method that produced the result (``faig``, ``ig``, ``abs``, ``random``)."""
        return self.metadata.get("method", "")

    @property
    def degradations(self) -> tuple[str, ...]:
        """The degradations ranked, in the order they were given."""
        return tuple(self.scores)

    def top(self, degradation: str, percent: float = 1.0) -> torch.Tensor:
        """The flat indices of the top ``percent`` % filters for a degradation, best first."""
        if degradation not in self.rankings:
            raise FaigError(f"no ranking for {degradation!r}; this result has {', '.join(self.rankings)}")
        return self.rankings[degradation][:self.index.top_count(percent)]
