"""Where the discovered filters sit along the depth of the network (Sec. 5.2.3, Fig. 4)."""

from __future__ import annotations

import torch

from faig.attribution.filters import FilterIndex


def layer_shares(index: FilterIndex, selection: torch.Tensor) -> dict[str, float]:
    """The share of the selected filters (0/1 per filter) that lies in each convolution, keyed by
    its module name in network order; the shares sum to 1."""
    total = float(selection.sum())
    return {layer.module: float(selection[layer.offset:layer.offset + layer.count].sum()) / total if total else 0.0
            for layer in index.layers}


def layer_densities(index: FilterIndex, selection: torch.Tensor) -> dict[str, float]:
    """The fraction of each convolution's own filters that is selected."""
    return {layer.module: float(selection[layer.offset:layer.offset + layer.count].mean()) for layer in index.layers}


def selection_grids(index: FilterIndex, selection: torch.Tensor) -> dict[str, torch.Tensor]:
    """Each convolution's selected filters as an (out, in) 0/1 grid: the data of Fig. 4's drawing."""
    return {layer.module: grid.view(layer.out_channels, layer.in_channels)
            for layer, grid in zip(index.layers, index.expand(selection).values())}
