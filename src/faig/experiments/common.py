"""What every experiment shares: running a network with given weights, and mean ± std."""

from __future__ import annotations

import copy
import statistics

import torch
from torch import nn

from faig.attribution.filters import State
from faig.data.degradations import quantize
from faig.devices import model_device
from faig.errors import FaigError


def runner(model: nn.Module) -> nn.Module:
    """A private eval-mode copy of ``model`` whose weights experiments may overwrite."""
    return copy.deepcopy(model).eval()


@torch.no_grad()
def outputs(model: nn.Module, lrs: list[torch.Tensor], state: State | None = None,
            batch_size: int = 8) -> list[torch.Tensor]:
    """The network's 8-bit outputs (as saved PNGs are) for each LR image, optionally after loading
    ``state`` into it; images of equal size run together in batches."""
    if state is not None:
        model.load_state_dict(state)
    device = model_device(model)
    results: list[torch.Tensor | None] = [None] * len(lrs)
    by_shape: dict[tuple[int, ...], list[int]] = {}
    for position, lr in enumerate(lrs):
        by_shape.setdefault(tuple(lr.shape[1:]), []).append(position)
    for positions in by_shape.values():
        for start in range(0, len(positions), batch_size):
            chunk = positions[start:start + batch_size]
            batch = torch.cat([lrs[i] for i in chunk]).to(device)
            result = quantize(model(batch).clamp(0, 1)).cpu()
            for offset, position in enumerate(chunk):
                results[position] = result[offset:offset + 1]
    return results  # type: ignore[return-value]


def mean_std(values: list[float]) -> dict[str, float]:
    """Mean and sample standard deviation (0 for a single value)."""
    if not values:
        raise FaigError("no values to summarise")
    return {"mean": statistics.fmean(values), "std": statistics.stdev(values) if len(values) > 1 else 0.0}
