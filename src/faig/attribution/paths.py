"""The engine behind every path integral of gradients here (FAIG's Eq. 5-6 and the IG baseline).

Each item (an image under a degradation) at each quadrature node is one *lane*. At a node, the
items' lanes share one parameter set and run in chunks through ``torch.func.vmap`` over ``grad`` of
a ``functional_call``: one batched forward and backward per chunk that still yields every lane's
own gradient (FAIG needs each image's attribution before its absolute value is taken). On CPU,
where batching measured slower, the same ``grad`` runs lane by lane. The sum
``sum_k w_k grad(alpha_k)`` is accumulated per item, node after node, in a fixed order.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable

import torch
from torch import nn
from torch.func import functional_call, grad, vmap

from faig.attribution.quadrature import quadrature

State = dict[str, torch.Tensor]


@dataclass(frozen=True)
class Lanes:
    """One chunk of lanes at one node: the parameters they share, inputs (L, C, h, w) and, for Eq. 3's
    loss, ground truths (L, C, H, W); without them the objective is the sum of the output."""

    params: State
    inputs: torch.Tensor
    targets: torch.Tensor | None = None


def split_state(state: State) -> tuple[State, State]:
    """(floating-point tensors, which the path moves and gradients reach; every other tensor)."""
    return ({k: v for k, v in state.items() if v.is_floating_point()},
            {k: v for k, v in state.items() if not v.is_floating_point()})


def sr_loss(output: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
    """Eq. 3 per sample: the summed squared distance to the ground truth, shape (N,)."""
    return (output - hr).pow(2).flatten(1).sum(1)


def _loss(model: nn.Module, fixed: State, params: State, lr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
    return sr_loss(functional_call(model, (params, fixed), (lr[None],)), hr[None])[0]


def _output_sum(model: nn.Module, fixed: State, params: State, lr: torch.Tensor) -> torch.Tensor:
    return functional_call(model, (params, fixed), (lr[None],)).sum()


def vectorise_on(device: torch.device) -> bool:
    """Whether ``vmap`` pays: on a GPU a chunk is one batched call; on CPU the per-lane gradients
    under ``vmap`` measured ~15 % slower than the same lanes one after another (the convolutions
    are already large enough there), so CPU lanes run in a loop."""
    return device.type != "cpu"


def lane_gradients(model: nn.Module, fixed: State, lanes: Lanes, vectorise: bool | None = None) -> State:
    """The gradient of each lane's objective with respect to the shared parameters, each (L, *shape);
    under ``vmap`` or lane by lane (``vectorise`` None: :func:`vectorise_on` the inputs' device)."""
    if lanes.targets is None:
        objective, data = grad(partial(_output_sum, model, fixed)), (lanes.inputs,)
    else:
        objective, data = grad(partial(_loss, model, fixed)), (lanes.inputs, lanes.targets)
    if vectorise is None:
        vectorise = vectorise_on(lanes.inputs.device)
    if vectorise:
        return vmap(objective, in_dims=(None,) + (0,) * len(data))(lanes.params, *data)
    per_lane = [objective(lanes.params, *(tensor[i] for tensor in data)) for i in range(len(lanes.inputs))]
    return {key: torch.stack([gradients[key] for gradients in per_lane]) for key in per_lane[0]}


def integrate(model: nn.Module, fixed: State, items: int, make_lanes: Callable[[float, slice], Lanes],
              rule: str, steps: int | None, lanes_per_call: int, vectorise: bool | None = None) -> State:
    """``sum_k w_k grad(alpha_k)`` for each of ``items`` paths, each (items, *shape).

    ``make_lanes(alpha, items_slice)`` builds the lanes of those items at node ``alpha``; they run
    ``lanes_per_call`` at a time.
    """
    alphas, weights = quadrature(rule, steps)
    totals: State = {}
    for alpha, weight in zip(alphas.tolist(), weights.tolist()):
        for start in range(0, items, lanes_per_call):
            chunk = slice(start, min(items, start + lanes_per_call))
            for key, value in lane_gradients(model, fixed, make_lanes(alpha, chunk), vectorise).items():
                if key not in totals:
                    totals[key] = value.new_zeros(items, *value.shape[1:])
                totals[key][chunk].add_(value, alpha=weight)
    return totals


def lanes_for_budget(model: nn.Module, state: State, lr: torch.Tensor, hr: torch.Tensor | None,
                     memory_mb: float) -> int:
    """How many lanes fit in ``memory_mb``: the activations one lane saves for its backward pass
    (measured on one forward) twice over, plus its gradient and its share of the sums."""
    saved = [0]

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        saved[0] += tensor.numel() * tensor.element_size()
        return tensor

    params, fixed = split_state(state)
    params = {k: v.detach().requires_grad_() for k, v in params.items()}
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        output = functional_call(model, (params, fixed), (lr[:1],))
        if hr is not None:
            sr_loss(output, hr[:1])
    param_bytes = sum(v.numel() * v.element_size() for v in params.values())
    return max(1, int(memory_mb * 2**20 // (2 * saved[0] + 2 * param_bytes)))
