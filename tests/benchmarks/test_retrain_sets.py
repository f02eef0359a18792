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
