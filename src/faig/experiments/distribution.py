"""Where the discovered filters sit along the depth of the network (Sec. 5.2.3, Fig. 4), and beyond
the paper in which attention heads (issue 12: an attention network's filters by head)."""

from __future__ import annotations

import torch

from faig.attribution.filters import FilterIndex
from faig.attribution.groups import filter_groups, group_scores


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


def head_shares(index: FilterIndex, selection: torch.Tensor, heads: dict[str, tuple[int, int]]) -> dict[str, float]:
    """The share of the selected filters (0/1 per filter) that lies in each attention head (its rows
    of ``qkv`` and columns of ``proj``), keyed ``<module>[head h]`` in network order; empty for a
    network without attention. ``heads``: ``{module: (heads, head width)}``, from
    :func:`faig.attribution.groups.attention_heads`.

    Example:
        >>> from faig.attribution.groups import attention_heads
        >>> from faig.models.registry import ArchConfig, build_model
        >>> network = build_model(ArchConfig("swinir", 2, width=8, depth=1))
        >>> index = FilterIndex.from_module(network)
        >>> shares = head_shares(index, torch.ones(index.total), attention_heads(network))
        >>> list(shares)[:2], round(sum(shares.values()), 3) < 1
        (['layers.0.blocks.0.attn[head 0]', 'layers.0.blocks.0.attn[head 1]'], True)
    """
    total = float(selection.sum())
    if not heads or not total:
        return {}
    grouping = filter_groups(index, "head", heads)
    counts = group_scores(selection.double(), grouping)  # a unit's count: the sum of its filters' 0/1
    return {label: float(count) / total for label, count in zip(grouping.labels, counts) if "[head " in label}
