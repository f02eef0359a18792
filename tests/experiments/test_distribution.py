import pytest
import torch

from faig.attribution.filters import FilterIndex
from faig.experiments.distribution import layer_densities, layer_shares, selection_grids
from faig.models.registry import build_model


@pytest.fixture
def index(tiny_arch) -> FilterIndex:
    return FilterIndex.from_module(build_model(tiny_arch))


def test_shares_count_the_selected_filters_per_layer(index):
    selection = torch.zeros(index.total)
    first, last = index.layers[0], index.layers[-1]
    selection[first.offset:first.offset + 3] = 1
    selection[last.offset] = 1
    shares = layer_shares(index, selection)
    assert list(shares) == [layer.module for layer in index.layers]
    assert shares[first.module] == 0.75 and shares[last.module] == 0.25
    assert sum(shares.values()) == pytest.approx(1.0)
    densities = layer_densities(index, selection)
    assert densities[first.module] == pytest.approx(3 / first.count)


def test_grids_place_each_filter_at_its_out_in_position(index):
    layer = index.layers[1]
    selection = torch.zeros(index.total)
    selection[index.flat(layer.name, 2, 5)] = 1
    grids = selection_grids(index, selection)
    assert grids[layer.module].shape == (layer.out_channels, layer.in_channels)
    assert grids[layer.module][2, 5] == 1 and grids[layer.module].sum() == 1
    assert sum(float(g.sum()) for g in grids.values()) == 1


def test_an_empty_selection_has_no_shares(index):
    assert set(layer_shares(index, torch.zeros(index.total)).values()) == {0.0}
