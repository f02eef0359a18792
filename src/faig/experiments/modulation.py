"""Modulating the discovered filters: controllable restoration without extra parameters.

θ_λ = θ̄ + λ(θ − θ̄) on the chosen filters and θ everywhere else (as the official
filter-modulation script does, λ from 0 to 1.5): λ = 0 turns the chosen function off (those filters
are the baseline's), λ = 1 is the target, λ > 1 extrapolates past it.
"""

from __future__ import annotations

import statistics

import torch
from torch import nn

from faig.attribution.filters import FilterIndex, State, interpolate
from faig.data.layout import Pair
from faig.experiments.common import outputs, runner, state_of
from faig.experiments.metrics import gradient_energy
from faig.metrics import psnr

PAPER_LAMBDAS: tuple[float, ...] = tuple(round(0.1 * step, 1) for step in range(16))  # 0, 0.1, ..., 1.5


def modulated_state(baseline: State, target: State, index: FilterIndex, selection: torch.Tensor,
                    strength: float) -> State:
    """θ_λ: the selected filters (0/1 per filter) at ``strength`` λ between baseline and target, every
    other tensor the target's."""
    weights = torch.where(selection.bool(), torch.tensor(float(strength)), torch.tensor(1.0))
    return interpolate(baseline, target, index, weights, 1.0)


def modulated_outputs(baseline: nn.Module, target: nn.Module, selection: torch.Tensor, lrs: list[torch.Tensor],
                      strengths: tuple[float, ...]) -> dict[float, list[torch.Tensor]]:
    """The outputs of θ_λ for each λ and each LR image."""
    index = FilterIndex.from_module(target)
    baseline_state, target_state = state_of(baseline), state_of(target)
    model = runner(target)
    return {strength: outputs(model, lrs, modulated_state(baseline_state, target_state, index, selection, strength))
            for strength in strengths}


def modulation_curve(baseline: nn.Module, target: nn.Module, selection: torch.Tensor, pairs: list[Pair],
                     strengths: tuple[float, ...], scale: int) -> list[dict[str, float]]:
    """Mean PSNR against the ground truth and mean gradient energy of the outputs, per λ."""
    results = modulated_outputs(baseline, target, selection, [pair.lr for pair in pairs], strengths)
    return [{"lambda": strength,
             "psnr": statistics.fmean(psnr(o, pair.hr, scale) for o, pair in zip(images, pairs)),
             "gradient_energy": statistics.fmean(float(gradient_energy(o)) for o in images)}
            for strength, images in results.items()]
