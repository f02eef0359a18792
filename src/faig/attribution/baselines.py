"""The two model-only baselines of Sec. 5.2: the absolute filter change and random selection.

Both give one ranking that does not look at any image; ``abs`` is the same for every degradation, as
the paper remarks (Sec. 4.1, "Discussions").
"""

from __future__ import annotations

import zlib

import torch

from faig.attribution.filters import FilterIndex, State


def abs_scores(baseline: State, target: State, index: FilterIndex, normalise: bool = True) -> torch.Tensor:
    """sum_{K x K} |theta - theta_bar| per filter, divided by the baseline filter's sum_{K x K} |theta_bar|
    when ``normalise`` (the official code's choice; a filter that is all zeros divides by 1e-12)."""
    change = index.reduce({layer.name: (target[layer.name] - baseline[layer.name]).abs().float().cpu()
                           for layer in index.layers})
    if not normalise:
        return change
    size = index.reduce({layer.name: baseline[layer.name].abs().float().cpu() for layer in index.layers})
    return change / size.clamp_min(1e-12)


def random_ranking(total: int, seed: int, degradation: str) -> torch.Tensor:
    """A seeded permutation of the filters, drawn independently for each degradation (as the official
    code shuffles once per degradation) and stable when other degradations are added."""
    generator = torch.Generator().manual_seed(zlib.crc32(f"{seed}:{degradation}".encode()))
    return torch.randperm(total, generator=generator)


def ranking_scores(ranking: torch.Tensor) -> torch.Tensor:
    """Scores that sort back to ``ranking`` (distinct integers, best = total)."""
    scores = torch.empty(len(ranking))
    scores[ranking] = torch.arange(len(ranking), 0, -1, dtype=torch.float32)
    return scores
