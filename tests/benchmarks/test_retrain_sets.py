"""benchmarks/retrain_sets.py: the placement and weight count of a re-trained filter set."""

import pytest
import torch
from torch import nn

from faig.attribution.filters import FilterIndex


def test_a_set_counts_nine_weights_per_3x3_filter_and_one_per_linear_row(sets):
    """A 3x3 convolution (2 out x 2 in: 4 filters, offsets 0-3) and a Linear (4 out x 2 in: 8
    one-weight filters, offsets 4-11); the top half of the ranking takes 2 convolution filters and
    4 Linear ones."""
    model = nn.Sequential(nn.Conv2d(2, 2, 3), nn.Linear(2, 4))
    index = FilterIndex.from_module(model)
    sizes = sets.weights_per_filter(index, model.state_dict())
    assert sizes.tolist() == [9] * 4 + [1] * 8
    ranking = torch.tensor([0, 4, 1, 5, 6, 7, 2, 3, 8, 9, 10, 11])
    placement = sets.set_placement(index, sizes, ranking, 50.0)
    assert placement == {"filters": 6, "weights": 2 * 9 + 4, "linear_share": pytest.approx(4 / 6, abs=1e-4),
                         "layer_shares": {"0": pytest.approx(2 / 6, abs=1e-4), "1": pytest.approx(4 / 6, abs=1e-4)}}


def test_the_study_splits_faigs_set_into_its_convolution_filters_and_its_linear_rows(sets):
    model = nn.Sequential(nn.Conv2d(2, 2, 3), nn.Linear(2, 4))
    index = FilterIndex.from_module(model)
    order = torch.tensor([0, 4, 1, 5, 6, 7, 2, 3, 8, 9, 10, 11])
    rankings = {"faig/blur": order, "ig/blur": order.flip(0), "random/blur": order.roll(3)}
    chosen = sets.retrain_sets(index, rankings, 50.0)
    assert chosen["faig"].nonzero().flatten().tolist() == [0, 1, 4, 5, 6, 7]
    assert chosen["faig_conv"].nonzero().flatten().tolist() == [0, 1]
    assert chosen["faig_linear"].nonzero().flatten().tolist() == [4, 5, 6, 7]
    assert chosen["ig"].nonzero().flatten().tolist() == [2, 3, 8, 9, 10, 11]
    matched = chosen["random_layer_matched"]
    assert (matched[:4].sum(), matched[4:].sum()) == (2, 4)  # FAIG's 2 convolution filters and 4 Linear rows
    assert not torch.equal(matched, chosen["faig"])


def test_a_layer_matched_set_is_random_within_each_layer_and_seeded(sets):
    model = nn.Sequential(nn.Conv2d(4, 4, 3), nn.Linear(8, 8))
    index = FilterIndex.from_module(model)
    selection = torch.zeros(index.total)
    selection[[0, 1, 2, 16, 17]] = 1.0  # 3 convolution filters, 2 Linear rows
    draws = [sets.layer_matched(index, selection, seed) for seed in (0, 0, 1)]
    assert torch.equal(draws[0], draws[1]) and not torch.equal(draws[0], draws[2])
    assert [(draw[:16].sum().item(), draw[16:].sum().item()) for draw in draws] == [(3, 2)] * 3


def test_moved_is_the_change_of_the_selected_weights_over_their_norm(sets):
    model = nn.Sequential(nn.Conv2d(1, 2, 1, bias=False), nn.Linear(2, 2, bias=False))
    index = FilterIndex.from_module(model)
    before = {"0.weight": torch.tensor([3.0, 1.0]).view(2, 1, 1, 1), "1.weight": torch.tensor([[4.0, 1.0], [1.0, 1.0]])}
    after = {"0.weight": torch.tensor([3.0, 9.0]).view(2, 1, 1, 1), "1.weight": torch.tensor([[4.0, 5.0], [1.0, 1.0]])}
    selection = torch.tensor([1.0, 0.0, 1.0, 0.0, 0.0, 0.0])  # filter 0 of the conv, row (0, 0) of the Linear
    assert sets.moved(before, after, index, selection) == pytest.approx(0.0)
    selection = torch.tensor([1.0, 1.0, 0.0, 0.0, 0.0, 0.0])
    assert sets.moved(before, after, index, selection) == pytest.approx((64 / 10) ** 0.5)


def test_paired_gains_are_per_image_differences(sets):
    assert sets.paired([30.0, 31.0, 33.0], [29.0, 31.0, 31.0]) == {"mean": 1.0, "std": 1.0}


@pytest.mark.parametrize("faig, conv, linear, linear_filters, matched, budget, linear_rows, layers", [
    (0.6, 0.6, 0.0, 5, 0.65, True, True, True), (0.2, 0.3, 0.05, 5, 0.5, False, True, False),
    (0.2, 0.0, 0.3, 5, 0.2, False, False, True), (-0.56, -0.71, -1.20, 210, -0.38, False, False, False),
    (0.46, 0.46, -1.14, 0, -0.06, False, None, False)])
def test_the_reading_follows_the_rule_fixed_in_the_docstring(sets, faig, conv, linear, linear_filters, matched, budget,
                                                              linear_rows, layers):
    """The last two cases are swinir's and srcnn_style's 600-step gains over random: a layer-matched
    set far below FAIG's does not make the layers the cause, and a set without Linear rows gets no
    Linear reading."""
    def entry(mean, filters=5):
        return {"over_random": {"mean": mean}, "filters": filters}
    gains = {150: {"faig": entry(-0.1), "faig_conv": entry(0.0), "faig_linear": entry(0.0, linear_filters),
                   "random_layer_matched": entry(0.0)},
             600: {"faig": entry(faig), "faig_conv": entry(conv), "faig_linear": entry(linear, linear_filters),
                   "random_layer_matched": entry(matched)}}
    assert sets.reading(gains) == {"budget_is_the_cause": budget, "linear_rows_are_the_cause": linear_rows,
                                   "its_layers_are_the_cause": layers}
