"""Masking discovered filters (Sec. 5.2.1, Fig. 3, Table 2).

The top p% filters of a ranking are replaced in the target by the baseline's filters at the same
locations (biases stay the target's); the drop is the gradient-map MSE between the target's output
and the masked model's output, in units of 1e-3 as in Table 2.
"""

from __future__ import annotations

import torch
from torch import nn

from faig.attribution.filters import FilterIndex, masked_state, state_of
from faig.experiments.common import outputs, runner
from faig.experiments.metrics import gradient_mse

PAPER_PERCENTS: tuple[float, ...] = (0.5, 1, 2, 3, 5, 10, 20, 30, 50, 70, 100)
MAIN_PERCENT = 1.0  # Fig. 2-5 and Table 3 use the top 1 %
MSE_SCALE = 1e3  # Table 2's unit is 1e-3


def percent_key(percent: float) -> str:
    """A percentage as results.json spells it: ``"0.5"``, ``"1"``, ``"100"``."""
    return f"{percent:g}"


def drops(references: list[torch.Tensor], masked: list[torch.Tensor], channel: str = "luma") -> list[float]:
    """Per-image gradient MSE (x 1e-3) between reference and masked outputs, on ``channel`` (``luma``,
    or ``blue`` for the official scripts' metric, see :mod:`faig.experiments.metrics`)."""
    return [float(gradient_mse(r, m, channel)) * MSE_SCALE for r, m in zip(references, masked)]


def masking_drops(baseline: nn.Module, target: nn.Module, ranking: torch.Tensor,
                  inputs: dict[str, list[torch.Tensor]], percents: tuple[float, ...],
                  references: dict[str, list[torch.Tensor]] | None = None,
                  seen: dict[bytes, dict[str, list[float]]] | None = None,
                  channel: str = "luma") -> dict[str, dict[str, list[float]]]:
    """Fig. 3's curves for one ranking: ``{percent: {input kind: per-image drops}}`` (on ``channel``;
    ``seen`` must then hold drops of that channel only).

    ``inputs`` maps an input kind (e.g. ``blur_input``) to LR images; ``references`` are the
    target's outputs for them, computed here unless given. ``seen`` (selection -> drops), shared
    between calls on the same inputs, spares running a selection twice (every ranking's 100 %,
    a ranking that two degradations share)."""
    index = FilterIndex.from_module(target)
    target_state, baseline_state = state_of(target), state_of(baseline)
    model = runner(target)
    if references is None:
        references = {kind: outputs(model, lrs, target_state) for kind, lrs in inputs.items()}
    seen = {} if seen is None else seen
    curves: dict[str, dict[str, list[float]]] = {}
    for percent in percents:
        selection = index.selection(ranking, percent)
        key = selection.bool().numpy().tobytes()
        if key not in seen:
            model.load_state_dict(masked_state(target_state, baseline_state, index, selection))
            seen[key] = {kind: drops(references[kind], outputs(model, lrs), channel) for kind, lrs in inputs.items()}
        curves[percent_key(percent)] = seen[key]
    return curves


def masked_outputs(baseline: nn.Module, target: nn.Module, selections: dict[str, torch.Tensor],
                   lrs: list[torch.Tensor]) -> dict[str, list[torch.Tensor]]:
    """The images of Fig. 2/3/5: the target's outputs (``"target"``) and those of the target with
    each named selection masked."""
    index = FilterIndex.from_module(target)
    target_state, baseline_state = state_of(target), state_of(baseline)
    model = runner(target)
    images = {"target": outputs(model, lrs, target_state)}
    for name, selection in selections.items():
        images[name] = outputs(model, lrs, masked_state(target_state, baseline_state, index, selection))
    return images
