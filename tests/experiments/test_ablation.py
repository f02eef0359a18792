import torch

from faig.attribution.filters import FilterIndex
from faig.experiments.ablation import ablation_drops, without_elimination_ranking


def test_ranking_by_the_mean_single_image_score():
    per_image = torch.tensor([[0.1, 3.0, 0.5, 0.0], [0.1, 1.0, 0.4, 2.0]])
    assert without_elimination_ranking(per_image).tolist() == [1, 3, 2, 0]


def test_drops_per_ranking_and_input(pair_models, lrs):
    baseline, target = pair_models
    total = FilterIndex.from_module(target).total
    rankings = {"with_elimination": torch.arange(total), "without_elimination": torch.arange(total).flip(0)}
    drops = ablation_drops(baseline, target, rankings, {"blur_input": lrs, "noise_input": lrs}, percent=10)
    assert set(drops) == set(rankings)
    assert all(len(d["blur_input"]) == 3 and len(d["noise_input"]) == 3 for d in drops.values())
    assert drops["with_elimination"] != drops["without_elimination"]
