"""Degradation levels (beyond the paper; issue 12): are the filters for one blur width the filters
for another?

The paper studies one blur (σ = 2) and one noise (σ = 0.1), and its conclusion asks for more types
and levels. For each degradation of a run, its kind is attributed at several levels (Eq. 6 per
image); each level's discriminative set is Eq. 7 against the run's other degradations at their own
level. Two questions are then measured per kind:

* ``overlap``: the share of one level's top-1% set that another level's top 1% holds;
* ``masking``: each level's 1% set masked (Sec. 5.2.1, gradient MSE ×1e-3 on luma) on every level's
  inputs, beside a random 1% for scale: does a level's set serve its own level only, or the kind?
"""

from __future__ import annotations

import statistics

import torch
from torch import nn

from faig.attribution.baselines import random_ranking
from faig.attribution.discriminative import discriminative_scores
from faig.attribution.filters import FilterIndex
from faig.attribution.result import rank
from faig.data.degradations import variant_parts
from faig.errors import FaigError
from faig.experiments.masking import MAIN_PERCENT, masking_drops, percent_key

# The levels each kind is studied at (the paper's in the middle): blur σ, noise σ, JPEG quality.
LEVELS: dict[str, tuple[float, ...]] = {"blur": (1.0, 2.0, 3.0), "noise": (0.05, 0.1, 0.2), "jpeg": (10, 30, 50)}


def level_names(degradation: str) -> tuple[str, ...]:
    """The variant names of ``degradation``'s kind at :data:`LEVELS`.

    Raises:
        FaigError: ``clean`` or a combination such as ``blur+noise``.

    Example:
        >>> level_names("blur"), level_names("jpeg50")
        (('blur1', 'blur2', 'blur3'), ('jpeg10', 'jpeg30', 'jpeg50'))
    """
    kinds = tuple(variant_parts(degradation))
    if len(kinds) != 1:
        raise FaigError(f"the level study takes one degradation (blur, noise0.05, jpeg), not {degradation!r}")
    return tuple(f"{kinds[0]}{level:g}" for level in LEVELS[kinds[0]])


def level_rankings(per_image: dict[str, torch.Tensor], levels: tuple[str, ...],
                   others: tuple[str, ...]) -> dict[str, torch.Tensor]:
    """Each level's Eq. 7 ranking against ``others`` (the run's other degradations, at their level).

    Args:
        per_image: Eq. 6 scores (n_images, total) per variant name, for ``levels`` and ``others``.
        levels: one kind's level names.
        others: the degradations each level is told apart from.

    Returns:
        level -> filter indices, best first.
    """
    return {level: rank(discriminative_scores({level: per_image[level],
                                               **{o: per_image[o] for o in others}})[level])
            for level in levels}


def overlap_matrix(rankings: dict[str, torch.Tensor], count: int) -> dict[str, dict[str, float]]:
    """``[a][b]``: the share of a's top ``count`` filters that b's top ``count`` holds (symmetric).

    Example:
        >>> overlap_matrix({"a": torch.tensor([0, 1, 2]), "b": torch.tensor([1, 3, 0])}, 2)
        {'a': {'a': 1.0, 'b': 0.5}, 'b': {'a': 0.5, 'b': 1.0}}
    """
    tops = {name: set(ranking[:count].tolist()) for name, ranking in rankings.items()}
    return {a: {b: len(tops[a] & tops[b]) / count for b in tops} for a in tops}


def level_study(baseline: nn.Module, target: nn.Module, per_image: dict[str, torch.Tensor],
                inputs: dict[str, list[torch.Tensor]], degradation: str, others: tuple[str, ...],
                seed: int = 0, percent: float = MAIN_PERCENT) -> dict:
    """One kind's level study on a (baseline, target) pair.

    Args:
        baseline, target: the networks (the target is masked toward the baseline).
        per_image: Eq. 6 scores per variant name, for :func:`level_names` of ``degradation`` and ``others``.
        inputs: LR inputs per level name (the masking matrix's columns).
        degradation: the run's degradation whose kind is studied (``blur``).
        others: the run's other degradations (Eq. 7's elimination term).
        seed: the random set's seed.
        percent: the cut (the paper's 1%).

    Returns:
        ``{"levels": [...], "overlap": {a: {b: share}}, "masking": {set: {input level: mean drop}}}``
        with a ``random`` row in ``masking``.
    """
    levels = level_names(degradation)
    rankings = level_rankings(per_image, levels, others)
    index = FilterIndex.from_module(target)
    masked = {**rankings, "random": random_ranking(index.total, seed, f"levels:{degradation}")}
    level_inputs = {level: inputs[level] for level in levels}
    masking = {name: {level: statistics.fmean(drops) for level, drops in
                      masking_drops(baseline, target, ranking, level_inputs, (percent,))[percent_key(percent)].items()}
               for name, ranking in masked.items()}
    return {"levels": list(levels), "overlap": overlap_matrix(rankings, index.top_count(percent)),
            "masking": masking}
