"""Units larger than one filter: a layer's output channels, or an attention module's heads (issue 15).

The paper ranks single K x K filters (Sec. 4.1). Whether a network's restoration of one degradation
sits in whole channels, or in some heads of its attention layers, is the same question one grain
coarser. A filter's score is Σ |FAIG_i| over its weights (Eq. 6), so a unit's score is the sum of
its filters' scores, Σ |FAIG_i| over all the unit's weights: the same definition, and Eq. 7 and the
top-p% selection apply to unit scores unchanged.

Example:
    >>> import torch
    >>> from faig import FAIG, attention_heads, filter_groups, group_scores
    >>> from faig.models.registry import ArchConfig, build_model
    >>> _ = torch.manual_seed(0)
    >>> baseline = build_model(ArchConfig("swinir", 2, width=8, depth=1))
    >>> target = build_model(ArchConfig("swinir", 2, width=8, depth=1))
    >>> method = FAIG(baseline, target)
    >>> scores = method.attribute(torch.rand(1, 3, 8, 8), torch.rand(1, 3, 16, 16), n_steps=2)
    >>> grouping = filter_groups(method.index, "head", attention_heads(target))
    >>> units = group_scores(scores, grouping)
    >>> units.shape[-1] == len(grouping.labels)
    True
    >>> [label for label in grouping.labels if "attn" in label][:2]
    ['layers.0.blocks.0.attn[head 0]', 'layers.0.blocks.0.attn[head 1]']
    >>> torch.allclose(units.sum(), scores.sum())
    True
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from faig.attribution.filters import FilterIndex
from faig.errors import FaigError

GROUPINGS = ("output_channel", "head")


@dataclass(frozen=True)
class Grouping:
    """Which unit each filter belongs to: ``ids`` (total,) long, numbering ``labels``."""

    ids: torch.Tensor
    labels: tuple[str, ...]


def attention_heads(network: nn.Module) -> dict[str, tuple[int, int]]:
    """``{module name: (heads, head width)}`` of every attention module: one with a fused ``qkv``
    ``nn.Linear`` (rows ordered query, key, value, each head after head, as SwinIR, HAT and timm
    lay them out) and its head count in ``num_heads`` (SwinIR, HAT, timm) or ``heads`` (faig's).

    Raises:
        FaigError: a ``qkv`` whose width is not 3 x heads x head width.
    """
    found = {}
    for name, module in network.named_modules():
        heads = getattr(module, "num_heads", getattr(module, "heads", None))
        qkv = getattr(module, "qkv", None)
        if isinstance(heads, int) and isinstance(qkv, nn.Linear):
            if qkv.out_features % (3 * heads):
                raise FaigError(f"{name}.qkv has {qkv.out_features} outputs, not 3 x {heads} heads x a width")
            found[name] = (heads, qkv.out_features // (3 * heads))
    return found


def filter_groups(index: FilterIndex, by: str = "output_channel",
                  heads: dict[str, tuple[int, int]] | None = None) -> Grouping:
    """The unit of every filter.

    Args:
        index: the network's filters.
        by: ``output_channel``: one unit per row ``weight[o, :]`` of each layer (a transposed
            convolution's rows are its input channels). ``head``: the same, except that each
            attention module named in ``heads`` becomes one unit per head, holding that head's rows
            of ``qkv`` (its query, key and value) and its columns of ``proj``.
        heads: ``{module name: (heads, head width)}``, e.g. from :func:`attention_heads`.

    Returns:
        The grouping; labels like ``body.0.conv1[out 5]`` and ``layers.0.blocks.0.attn[head 1]``.

    Raises:
        FaigError: an unknown ``by``, or ``head`` without attention modules in ``heads`` that the
            index holds.
    """
    if by not in GROUPINGS:
        raise FaigError(f"unknown grouping {by!r}; choose from {', '.join(GROUPINGS)}")
    heads = heads or {}
    if by == "head" and not any(f"{module}.qkv.weight" in index.names for module in heads):
        raise FaigError("grouping by head needs attention modules (a qkv layer and a head count); this network has none")
    ids = torch.empty(index.total, dtype=torch.long)
    labels: dict[str, int] = {}

    def unit(label: str) -> int:
        return labels.setdefault(label, len(labels))

    for layer in index.layers:
        module, role = layer.module.rsplit(".", 1) if "." in layer.module else ("", layer.module)
        rows = torch.arange(layer.out_channels)[:, None].expand(-1, layer.in_channels)
        columns = torch.arange(layer.in_channels)[None, :].expand(layer.out_channels, -1)
        if by == "head" and module in heads and role in ("qkv", "proj"):
            count, width = heads[module]
            head_of = (rows // width) % count if role == "qkv" else columns // width
            numbers = torch.tensor([unit(f"{module}[head {h}]") for h in range(count)])
        else:
            head_of = rows
            numbers = torch.tensor([unit(f"{layer.module}[out {o}]") for o in range(layer.out_channels)])
        ids[layer.offset:layer.offset + layer.count] = numbers[head_of].flatten()
    return Grouping(ids, tuple(labels))


def group_scores(scores: torch.Tensor, grouping: Grouping) -> torch.Tensor:
    """Unit scores: the sum of each unit's filter scores.

    Args:
        scores: (total,) or (n, total) filter scores (Eq. 6 or Eq. 7).
        grouping: from :func:`filter_groups` for the same network.

    Returns:
        (units,) or (n, units), in the order of ``grouping.labels``.

    Raises:
        FaigError: scores of another filter count.
    """
    if scores.shape[-1] != len(grouping.ids):
        raise FaigError(f"scores count {scores.shape[-1]} filters, the grouping {len(grouping.ids)}")
    flat = scores.reshape(-1, scores.shape[-1])
    units = torch.zeros(len(flat), len(grouping.labels), dtype=scores.dtype)
    units.index_add_(1, grouping.ids, flat)
    return units.reshape(*scores.shape[:-1], len(grouping.labels))
