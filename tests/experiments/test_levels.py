"""The level study (issue 12): levels of one kind, their Eq. 7 sets, overlap and masking matrices."""

import pytest
import torch

from faig.attribution.filters import FilterIndex
from faig.errors import FaigError
from faig.experiments.levels import level_names, level_rankings, level_study, overlap_matrix


def test_level_names_follow_the_kind_whatever_the_runs_level():
    assert level_names("noise") == level_names("noise0.2") == ("noise0.05", "noise0.1", "noise0.2")
    assert level_names("jpeg") == ("jpeg10", "jpeg30", "jpeg50")
    with pytest.raises(FaigError, match="one degradation"):
        level_names("blur+noise")


def test_each_levels_set_is_eq7_against_the_runs_other_degradations():
    """Two images, four filters; the image means are blur2 [5, 4, 1, 0], blur1 [0, 6, 5.5, 0] and
    noise = jpeg [2, 0, 0, 0]. Against noise and jpeg alone:
    blur2 = [5, 4, 1, 0] - [2, 0, 0, 0] = [3, 4, 1, 0] (top filter 1),
    blur1 = [0, 6, 5.5, 0] - [2, 0, 0, 0] = [-2, 6, 5.5, 0] (top filter 1).
    Eliminating the other level as well would give blur2 [3.67, 2, -0.83, 0] (top 0) and
    blur1 [-3, 4.67, 5.17, 0] (top 2); no elimination, blur2 [5, 4, 1, 0] (top 0)."""
    per_image = {"blur2": torch.tensor([[6.0, 8.0, 0.0, 0.0], [4.0, 0.0, 2.0, 0.0]]),
                 "blur1": torch.tensor([[0.0, 12.0, 5.0, 0.0], [0.0, 0.0, 6.0, 0.0]]),
                 "noise": torch.tensor([[4.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]),
                 "jpeg": torch.tensor([[1.0, 0.0, 0.0, 0.0], [3.0, 0.0, 0.0, 0.0]])}
    rankings = level_rankings(per_image, ("blur1", "blur2"), ("noise", "jpeg"))
    assert set(rankings) == {"blur1", "blur2"}
    assert rankings["blur2"].tolist() == [1, 0, 2, 3]
    assert rankings["blur1"].tolist() == [1, 2, 3, 0]


def test_overlap_is_symmetric_with_a_unit_diagonal():
    rankings = {"a": torch.tensor([0, 1, 2, 3]), "b": torch.tensor([3, 2, 1, 0]), "c": torch.tensor([0, 3, 1, 2])}
    matrix = overlap_matrix(rankings, 2)
    assert [matrix[n][n] for n in rankings] == [1.0, 1.0, 1.0]
    assert matrix["a"]["b"] == matrix["b"]["a"] == 0.0 and matrix["a"]["c"] == matrix["c"]["a"] == 0.5


def test_a_level_study_on_a_tiny_pair_masks_every_set_on_every_level(pair_models, lrs):
    baseline, target = pair_models
    total = FilterIndex.from_module(target).total
    generator = torch.Generator().manual_seed(1)
    per_image = {name: torch.rand(3, total, generator=generator) for name in ("noise0.05", "noise0.1", "noise0.2",
                                                                              "blur")}
    inputs = {name: [lr + 0.05 * k for lr in lrs] for k, name in enumerate(level_names("noise"))}
    study = level_study(baseline, target, per_image, inputs, "noise", ("blur",), seed=0, percent=10.0)
    assert study["levels"] == ["noise0.05", "noise0.1", "noise0.2"]
    assert set(study["masking"]) == {"noise0.05", "noise0.1", "noise0.2", "random"}
    assert all(set(row) == set(study["levels"]) and all(v > 0 for v in row.values())
               for row in study["masking"].values())
    assert study["overlap"]["noise0.1"]["noise0.1"] == 1.0
    with pytest.raises(FaigError):
        level_study(baseline, target, per_image, inputs, "noise", (), seed=0)  # Eq. 7 needs another degradation
