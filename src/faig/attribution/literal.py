"""The paper-literal algorithm, kept as the reference the batched engine is tested and timed against.

One image, one quadrature node and one backward pass at a time through an ordinary module, as the
official code does (Eq. 6 with N = 100 left-Riemann steps by default), and for Eq. 7 the D and ~D
images recomputed for every D. Slow on purpose: use :func:`faig.attribution.attribute` instead.
"""

from __future__ import annotations

import copy

import torch

from faig.attribution.faig import Networks
from faig.attribution.filters import interpolate
from faig.attribution.quadrature import quadrature
from faig.data.layout import Pair


def literal_faig(nets: Networks, lr: torch.Tensor, hr: torch.Tensor, rule: str = "riemann_left",
                 steps: int | None = 100) -> torch.Tensor:
    """Eq. 6 filter scores (total,) of one LR/HR pair, one step at a time."""
    model = copy.deepcopy(nets.model)
    alphas, weights = quadrature(rule, steps)
    lr, hr = lr.to(nets.device), hr.to(nets.device)
    integral: dict[str, torch.Tensor] = {}
    for alpha, weight in zip(alphas.tolist(), weights.tolist()):
        model.load_state_dict(interpolate(nets.target, nets.baseline, nets.index, alpha, alpha))
        model.zero_grad()
        (model(lr) - hr).pow(2).sum().backward()
        for name, parameter in model.named_parameters():
            integral[name] = integral.get(name, 0) + weight * parameter.grad
    per_weight = {layer.name: ((nets.baseline[layer.name] - nets.target[layer.name]) * integral[layer.name]).abs()
                  for layer in nets.index.layers}
    return nets.index.reduce(per_weight).cpu()


def literal_discriminative(nets: Networks, pairs: dict[str, list[Pair]], rule: str = "riemann_left",
                           steps: int | None = 100) -> dict[str, torch.Tensor]:
    """Eq. 7 for every degradation (pairs[D][j] is image j under D), recomputing each image's FAIG
    for every D as the official code does."""
    scores = {}
    for name, own in pairs.items():
        others = [other for key, other in pairs.items() if key != name]
        total = 0
        for j, pair in enumerate(own):
            own_score = literal_faig(nets, pair.lr, pair.hr, rule, steps)
            other_score = torch.stack([literal_faig(nets, o[j].lr, o[j].hr, rule, steps) for o in others]).mean(0)
            total = total + own_score - other_score
        scores[name] = total / len(own)
    return scores
