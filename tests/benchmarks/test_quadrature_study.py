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


def prediction_entry(blur: float, noise: float) -> dict:
    return {"blur": {"accuracy_calibrated": blur}, "noise": {"accuracy_calibrated": noise}}


def test_eq8s_rule_keeps_the_counts_within_one_point_of_the_best_for_both_degradations(quadrature):
    """srresnet's committed study: 2 nodes give 71.1% and 88.2%, the best are 71.1% and 88.8%."""
    srresnet = {"2": prediction_entry(0.7105, 0.8816), "4": prediction_entry(0.6645, 0.8882),
                "8": prediction_entry(0.7039, 0.8882), "16": prediction_entry(0.7105, 0.8882)}
    assert quadrature.passing_prediction_nodes(srresnet) == [2, 8, 16]


def overlap_entry(blur: float, noise: float) -> dict:
    return {"overlap": {"blur": {"1.0": {"reference": blur}}, "noise": {"1.0": {"reference": noise}}}}


def test_the_defaults_are_the_smallest_counts_passing_on_every_network(quadrature):
    rankings = {"gausslegendre:8": overlap_entry(0.99, 0.97), "gausslegendre:16": overlap_entry(0.99, 0.985),
                "gausslegendre:32": overlap_entry(1.0, 1.0)}
    studies = {"a": {"rankings": rankings, "prediction": {"2": prediction_entry(0.70, 0.90),
                                                          "8": prediction_entry(0.70, 0.90)}},
               "b": {"rankings": {**rankings, "gausslegendre:16": overlap_entry(0.97, 0.99)},
                     "prediction": {"2": prediction_entry(0.60, 1.0), "8": prediction_entry(0.62, 1.0)}}}
    decision = quadrature.decide(studies)
    assert decision["rankings_passing"] == {"a": ["gausslegendre:16", "gausslegendre:32"], "b": ["gausslegendre:32"]}
    assert decision["rankings_quadrature"] == "gausslegendre:32"
    assert decision["prediction_passing"] == {"a": [2, 8], "b": [8]} and decision["prediction_nodes"] == 8
    studies["b"]["prediction"]["8"] = prediction_entry(0.55, 1.0)  # now only 2 passes on b; a passes 2 and 8
    assert quadrature.decide(studies)["prediction_nodes"] == 2
    studies["a"]["prediction"]["2"] = prediction_entry(0.60, 0.90)
    assert quadrature.decide(studies)["prediction_nodes"] is None
