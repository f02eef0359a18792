"""benchmarks/quadrature_study.py: the summaries it draws from rankings and overlap scores."""

import torch
from torch import nn

from faig.attribution.filters import FilterIndex


def test_each_variants_overlaps_are_summarised_as_min_median_max(quadrature):
    scores = torch.tensor([0.1, 0.5, 0.3, 0.9, 0.0, 0.2, 0.4])
    variants = ["clean", "blur", "clean", "blur", "clean", "noise", "blur"]
    assert quadrature.spread_by_variant(scores, variants) == {"clean": [0.0, 0.1, 0.3], "blur": [0.4, 0.5, 0.9],
                                                              "noise": [0.2, 0.2, 0.2]}


def test_filters_near_the_cut_lie_within_the_relative_margin_of_the_cut_score(quadrature):
    index = FilterIndex.from_module(nn.Conv2d(10, 10, 1))  # 100 filters scored 1.00, 0.99, ..., 0.01
    scores = torch.linspace(1.0, 0.01, 100)
    ranking = scores.argsort(descending=True)
    assert quadrature.near_cut(scores, ranking, index, 1.0, 0.0) == 1  # the cut filter itself
    assert quadrature.near_cut(scores, ranking, index, 5.0, 0.05) == 9  # cut 0.96 +- 0.048: 1.00 down to 0.92
