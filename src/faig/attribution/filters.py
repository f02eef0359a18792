"""Filters as addresses, and the one interpolation that masking, modulation and Eq. 6's path share.

A filter is one K x K slice ``weight[out, in]`` of a convolution (the paper's footnote 2; biases are
not filters). Beyond the paper, any layer with a weight of shape (out, in, *kernel) counts: 1-D and
3-D convolutions (K and K x K x K slices), grouped and depthwise ones (``in`` per group), transposed
ones (their weight is (in, out / groups, *kernel): the slice ``weight[i, o]`` is still one kernel),
and ``nn.Linear`` layers, whose (out, in) weights are each a 1 x 1 filter, as a 1 x 1 convolution's
(attention projections and MLPs of transformer networks). The flat order is the official code's: convolution weights in state-dict order, each
row-major over ``(out, in)``, so our rankings and the official ``<degradation>_index.txt`` files
are interchangeable. A ranking only means something for the network it was made for: the index
files faig writes get a JSON sidecar (``<degradation>_index.json``) with the network's filter count
and layout hash, and reading a ranking for another network is refused.
"""

from __future__ import annotations

import bisect
import json
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from faig.cache import settings_key
from faig.errors import FaigError
from faig.files import write_json, write_text

State = dict[str, torch.Tensor]


@dataclass(frozen=True)
class FilterLayer:
    """One convolution's weight seen as an (out x in) grid of K x K filters, starting at ``offset``."""

    name: str  # state-dict key of the weight, e.g. "body.0.conv1.weight"
    out_channels: int
    in_channels: int  # per group
    offset: int
    kernel_dims: int = 2  # trailing kernel dimensions: 2 for Conv2d, 1 for Conv1d, 3 for Conv3d, 0 for Linear

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
        """Every convolution weight (1-D, 2-D, 3-D, grouped, transposed) and every ``nn.Linear``
        weight of any module, in state-dict order."""
        conv_weights = {f"{name}.weight" if name else "weight" for name, m in module.named_modules()
                        if isinstance(m, (nn.modules.conv._ConvNd, nn.Linear))}
        return FilterIndex.from_state(module.state_dict(), conv_weights)

    @staticmethod
    def from_state(state: State, names: set[str] | None = None) -> "FilterIndex":
        """From a state dict: the tensors named, or every 4-D ``*.weight`` tensor."""
        layers, offset = [], 0
        for key, value in state.items():
            if (key in names) if names is not None else (key.endswith("weight") and value.dim() == 4):
                layer = FilterLayer(key, value.shape[0], value.shape[1], offset, value.dim() - 2)
                layers.append(layer)
                offset += layer.count
        if not layers:
            raise FaigError("the network has no convolution filters")
        return FilterIndex(tuple(layers))

    def layer_shapes(self) -> list[tuple]:
        """``(weight name, out channels, in channels)`` of every layer, in order, with the number of
        kernel dimensions appended where it is not 2 (Linear: 0)."""
        return [(layer.name, layer.out_channels, layer.in_channels,
                 *([] if layer.kernel_dims == 2 else [layer.kernel_dims])) for layer in self.layers]

    def to_json(self) -> str:
        """The layer shapes as JSON: ``[[weight name, out channels, in channels(, kernel dims)], ...]``
        (the kernel dims only where they are not 2, so 2-D networks keep their layout hash)."""
        return json.dumps(self.layer_shapes())

    @staticmethod
    def from_json(text: str) -> "FilterIndex":
        """The index that :meth:`to_json` wrote."""
        layers, offset = [], 0
        for name, out_channels, in_channels, *kernel_dims in json.loads(text):
            layers.append(FilterLayer(name, out_channels, in_channels, offset, *kernel_dims))
            offset += out_channels * in_channels
        return FilterIndex(tuple(layers))

    @property
    def total(self) -> int:
        return self.layers[-1].offset + self.layers[-1].count

    @property
    def names(self) -> list[str]:
        return [layer.name for layer in self.layers]

    @property
    def layout(self) -> str:
        """A short hash of the layer names and (out, in) shapes in order: two networks share it
        exactly when their flat filter indices mean the same filters."""
        return settings_key(self.layer_shapes())

    def tie(self) -> dict[str, int | str]:
        """What ties a ranking to this network: ``{"filters": total, "layout": layout hash}``."""
        return {"filters": self.total, "layout": self.layout}

    def check_tie(self, tie: dict[str, int | str], source: str | os.PathLike) -> None:
        """Refuse a ranking ``source`` whose tie (see :meth:`tie`) names another network.

        Raises:
            FaigError: e.g. "x_index.txt ranks 21,696 filters of another network (layout 0f3c...);
                this network has 12,345 (layout 9a1b...)".
        """
        if (tie["filters"], tie["layout"]) != (self.total, self.layout):
            raise FaigError(f"{source} ranks {tie['filters']:,} filters of another network (layout {tie['layout']}); "
                            f"this network has {self.total:,} (layout {self.layout})")

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

    def reduce(self, per_weight: State) -> torch.Tensor:
        """Per-weight values (weight-shaped tensors) -> one value per filter: the sum over its K x K
        entries (its one entry for a Linear weight), flattened in the official order."""
        return torch.cat([per_weight[layer.name].reshape(layer.out_channels, layer.in_channels, -1).sum(-1).flatten()
                          for layer in self.layers])

    def expand(self, per_filter: torch.Tensor) -> State:
        """One value per filter -> per-layer (out, in, 1, ...) tensors that broadcast over the weights."""
        if per_filter.shape != (self.total,):
            raise FaigError(f"expected {self.total} filter values, got shape {tuple(per_filter.shape)}")
        return {layer.name: per_filter[layer.offset:layer.offset + layer.count].view(
                    layer.out_channels, layer.in_channels, *[1] * layer.kernel_dims) for layer in self.layers}

    def top_count(self, percent: float) -> int:
        """How many filters the top ``percent`` % are: ``int(total * percent / 100)``, as the official
        scripts cut (216 of 21,696 at 1%, where rounding gives 217); the one rule for every
        selection, top-p% list and per-input filter set. The product is rounded to 9 decimals first,
        so 100% is every filter whatever the float error."""
        return int(round(self.total * percent / 100, 9))

    def selection(self, ranking: torch.Tensor, percent: float) -> torch.Tensor:
        """A 0/1 per-filter mask of the top ``percent`` % of a ranking (indices, best first)."""
        count = self.top_count(percent)
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


def state_of(model: nn.Module) -> State:
    """A detached CPU copy of a network's weights."""
    return {key: value.detach().cpu().clone() for key, value in model.state_dict().items()}


def masked_state(target: State, baseline: State, index: FilterIndex, selection: torch.Tensor) -> State:
    """Sec. 5.2.1's masking: the target with the selected filters (0/1 per filter) taken from the
    baseline, every other tensor the target's.

    Example:
        >>> index = FilterIndex.from_module(nn.Conv2d(1, 2, 3, bias=False))
        >>> target, baseline = {"weight": torch.ones(2, 1, 3, 3)}, {"weight": torch.zeros(2, 1, 3, 3)}
        >>> masked_state(target, baseline, index, torch.tensor([1.0, 0.0]))["weight"][:, 0, 0, 0]
        tensor([0., 1.])
    """
    return interpolate(target, baseline, index, selection, 0.0)


def modulated_state(baseline: State, target: State, index: FilterIndex, selection: torch.Tensor,
                    strength: float) -> State:
    """θ_λ = θ̄ + λ(θ − θ̄): the selected filters (0/1 per filter) at ``strength`` λ between baseline
    and target, every other tensor the target's.

    Example:
        >>> index = FilterIndex.from_module(nn.Conv2d(1, 2, 3, bias=False))
        >>> baseline, target = {"weight": torch.zeros(2, 1, 3, 3)}, {"weight": torch.ones(2, 1, 3, 3)}
        >>> modulated_state(baseline, target, index, torch.tensor([1.0, 0.0]), 1.5)["weight"][:, 0, 0, 0]
        tensor([1.5000, 1.0000])
    """
    weights = torch.where(selection.bool(), torch.tensor(float(strength)), torch.tensor(1.0))
    return interpolate(baseline, target, index, weights, 1.0)


def index_sidecar(path: str | os.PathLike) -> Path:
    """The JSON file beside an index file that ties it to its network: ``<degradation>_index.json``."""
    return Path(path).with_suffix(".json")


def read_index_file(path: str | os.PathLike, index: FilterIndex) -> torch.Tensor:
    """A ranking of ``index``'s network from an official ``<degradation>_index.txt`` (one flat index
    per line, best first).

    A file faig wrote has a sidecar (:func:`index_sidecar`) and must name this network's filter
    count and layout; a file without one (the official code's) must rank each of this network's
    filters exactly once.

    Raises:
        FaigError: the file is missing or malformed, or ranks another network's filters.
    """
    path = Path(path)
    if not path.is_file():
        raise FaigError(f"index file not found: {path}")
    try:
        values = [int(line) for line in path.read_text().split()]
    except ValueError:
        raise FaigError(f"{path} is not an index file: one integer per line expected") from None
    sidecar = index_sidecar(path)
    if sidecar.is_file():
        try:
            stored = json.loads(sidecar.read_text())
            tie = {"filters": int(stored["filters"]), "layout": str(stored["layout"])}
        except (ValueError, TypeError, KeyError):
            raise FaigError(f"{sidecar} holds no filter count and layout; delete it to read {path} as an "
                            "official index file") from None
        index.check_tie(tie, path)
    ranking = torch.tensor(values, dtype=torch.long)
    if ranking.numel() != index.total:
        raise FaigError(f"{path} ranks {ranking.numel():,} filters; this network has {index.total:,}")
    if ranking.min() < 0 or ranking.max() >= index.total:
        outside = int(ranking.min()) if ranking.min() < 0 else int(ranking.max())
        raise FaigError(f"{path} holds filter index {outside}, outside this network's 0..{index.total - 1}")
    if torch.unique(ranking).numel() != index.total:
        raise FaigError(f"{path} lists a filter more than once")
    return ranking


def write_index_file(path: str | os.PathLike, ranking: torch.Tensor, index: FilterIndex) -> None:
    """Write a ranking of ``index``'s network in the official format (one flat index per line, best
    first, which the paper's scripts read unchanged), atomically, and beside it the sidecar
    (:func:`index_sidecar`) with the network's filter count and layout hash."""
    write_text(path, "".join(f"{int(i)}\n" for i in ranking.tolist()))
    write_json(index_sidecar(path), index.tie())
