"""Filters as addresses, and the one interpolation that masking, modulation and Eq. 6's path share.

A filter is one K x K slice ``weight[out, in]`` of a convolution (the paper's footnote 2; biases are
not filters). The flat order is the official code's: convolution weights in state-dict order, each
row-major over ``(out, in)``, so our rankings and the official ``<degradation>_index.txt`` files
are interchangeable.
"""

from __future__ import annotations

import bisect
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from faig.errors import FaigError
from faig.files import write_text

State = dict[str, torch.Tensor]


@dataclass(frozen=True)
class FilterLayer:
    """One convolution's weight seen as an (out x in) grid of K x K filters, starting at ``offset``."""

    name: str  # state-dict key of the weight, e.g. "body.0.conv1.weight"
    out_channels: int
    in_channels: int  # per group
    offset: int

    @property
    def count(self) -> int:
        return self.out_channels * self.in_channels

    @property
    def module(self) -> str:
        return self.name.rsplit(".", 1)[0]


@dataclass(frozen=True)
class FilterIndex:
    """The flat index of every filter of a network, and the maps between it and (layer, out, in)."""

    layers: tuple[FilterLayer, ...]

    @staticmethod
    def from_module(module: nn.Module) -> "FilterIndex":
        """Every convolution weight of any module (grouped ones included), in state-dict order."""
        conv_weights = {f"{name}.weight" if name else "weight" for name, m in module.named_modules()
                        if isinstance(m, nn.modules.conv._ConvNd)}
        return FilterIndex.from_state(module.state_dict(), conv_weights)

    @staticmethod
    def from_state(state: State, names: set[str] | None = None) -> "FilterIndex":
        """From a state dict: the tensors named, or every 4-D ``*.weight`` tensor."""
        layers, offset = [], 0
        for key, value in state.items():
            if (key in names) if names is not None else (key.endswith("weight") and value.dim() == 4):
                layer = FilterLayer(key, value.shape[0], value.shape[1], offset)
                layers.append(layer)
                offset += layer.count
        if not layers:
            raise FaigError("the network has no convolution filters")
        return FilterIndex(tuple(layers))

    @property
    def total(self) -> int:
        return self.layers[-1].offset + self.layers[-1].count

    @property
    def names(self) -> list[str]:
        return [layer.name for layer in self.layers]

    def layer(self, name: str) -> FilterLayer:
        for layer in self.layers:
            if layer.name == name or layer.module == name:
                return layer
        raise FaigError(f"no convolution named {name!r}")

    def locate(self, flat: int) -> tuple[str, int, int]:
        """Flat index -> (weight name, out channel, in channel)."""
        if not 0 <= flat < self.total:
            raise FaigError(f"filter index {flat} out of range 0..{self.total - 1}")
        position = bisect.bisect_right([layer.offset for layer in self.layers], flat) - 1
        layer = self.layers[position]
        out, inp = divmod(flat - layer.offset, layer.in_channels)
        return layer.name, out, inp

    def flat(self, name: str, out: int, inp: int) -> int:
        """(weight name, out channel, in channel) -> flat index."""
        layer = self.layer(name)
        if not (0 <= out < layer.out_channels and 0 <= inp < layer.in_channels):
            raise FaigError(f"filter ({out}, {inp}) outside {layer.name} ({layer.out_channels}x{layer.in_channels})")
        return layer.offset + out * layer.in_channels + inp

    def layer_of(self, flat: torch.Tensor) -> torch.Tensor:
        """The position in ``layers`` of each flat index."""
        offsets = torch.tensor([layer.offset for layer in self.layers])
        return torch.bucketize(flat, offsets, right=True) - 1

    def check_matches(self, state: State) -> None:
        """Refuse a state dict whose convolution weights differ in name or shape from this index."""
        for layer in self.layers:
            value = state.get(layer.name)
            if value is None or value.dim() < 2 or tuple(value.shape[:2]) != (layer.out_channels, layer.in_channels):
                raise FaigError(f"the networks differ in structure at {layer.name!r}")

    def reduce(self, per_weight: State) -> torch.Tensor:
        """Per-weight values (weight-shaped tensors) -> one value per filter: the sum over its K x K
        entries, flattened in the official order."""
        return torch.cat([per_weight[layer.name].flatten(2).sum(-1).flatten() for layer in self.layers])

    def expand(self, per_filter: torch.Tensor) -> State:
        """One value per filter -> per-layer (out, in, 1, 1) tensors that broadcast over the weights."""
        if per_filter.shape != (self.total,):
            raise ValueError(f"expected {self.total} filter values, got {tuple(per_filter.shape)}")
        return {layer.name: per_filter[layer.offset:layer.offset + layer.count].view(
                    layer.out_channels, layer.in_channels, 1, 1) for layer in self.layers}

    def selection(self, ranking: torch.Tensor, percent: float) -> torch.Tensor:
        """A 0/1 per-filter mask of the top ``percent`` % of a ranking (indices, best first)."""
        count = round(self.total * percent / 100)
        mask = torch.zeros(self.total)
        mask[ranking[:count]] = 1.0
        return mask


def interpolate(start: State, end: State, index: FilterIndex, filter_weight: torch.Tensor | float,
                other_weight: float) -> State:
    """``start + w * (end - start)`` with a weight per filter, and ``other_weight`` for every tensor
    that is not a filter (biases).

    The one operation behind Eq. 6's straight path (start = target, end = baseline, w = alpha
    everywhere), masking (Sec. 5.2.1: w = 1 on the chosen filters, 0 elsewhere) and modulation
    (start = baseline, end = target, w = lambda on the chosen filters, 1 elsewhere). ``torch.lerp``
    makes the ends exact: w = 0 gives ``start`` and w = 1 gives ``end`` bit for bit.
    """
    weights = (index.expand(filter_weight) if isinstance(filter_weight, torch.Tensor)
               else {layer.name: filter_weight for layer in index.layers})
    blended = {}
    for key, value in start.items():
        weight = weights.get(key, other_weight)
        if isinstance(weight, torch.Tensor):
            weight = weight.to(value)
        blended[key] = torch.lerp(value, end[key], weight) if value.is_floating_point() else value
    return blended


def read_index_file(path: str | os.PathLike, index: FilterIndex) -> torch.Tensor:
    """An official ``<degradation>_index.txt`` ranking (one flat index per line, best first)."""
    path = Path(path)
    if not path.is_file():
        raise FaigError(f"index file not found: {path}")
    try:
        values = [int(line) for line in path.read_text().split()]
    except ValueError:
        raise FaigError(f"{path} is not an index file: one integer per line expected") from None
    ranking = torch.tensor(values, dtype=torch.long)
    if ranking.numel() == 0 or ranking.min() < 0 or ranking.max() >= index.total:
        raise FaigError(f"{path} holds indices outside 0..{index.total - 1}")
    return ranking


def write_index_file(path: str | os.PathLike, ranking: torch.Tensor) -> None:
    """Write a ranking in the official format, atomically."""
    write_text(path, "".join(f"{int(i)}\n" for i in ranking.tolist()))
