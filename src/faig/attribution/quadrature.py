"""Quadrature rules on [0, 1] for the path integrals of Eq. 5-6 (FAIG) and of the IG baseline.

``riemann_left`` with N = 100 is the paper's discretisation (Eq. 6: alpha = k/N, k = 0..N-1);
``riemann_trapezoid`` adds the end point; ``gausslegendre`` (the default) is exact for polynomial
integrands of degree 2N - 1 and needs far fewer steps for the same ranking.
"""

from __future__ import annotations

import numpy as np
import torch

from faig.checks import check_number
from faig.errors import FaigError

RULES: tuple[str, ...] = ("gausslegendre", "riemann_left", "riemann_trapezoid")
DEFAULT_STEPS: dict[str, int] = {"gausslegendre": 16, "riemann_left": 100, "riemann_trapezoid": 101}


def check_rule(rule: str, steps: int | None) -> int:
    """The number of nodes to use (the rule's default when ``steps`` is None).

    Raises:
        FaigError: an unknown rule, or steps that are not an integer >= 1 (>= 2 for
            ``riemann_trapezoid``, whose nodes include both ends), named as ``--steps``.
    """
    if rule not in RULES:
        raise FaigError(f"unknown quadrature {rule!r}; choose from {', '.join(RULES)}")
    steps = DEFAULT_STEPS[rule] if steps is None else steps
    check_number(f"--steps (with {rule})", steps, 2 if rule == "riemann_trapezoid" else 1, integer=True)
    return steps


def quadrature(rule: str = "gausslegendre", steps: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Nodes alpha_k in [0, 1] and weights w_k (summing to 1) with int_0^1 f ~ sum_k w_k f(alpha_k),
    both float64 tensors of length ``steps``."""
    steps = check_rule(rule, steps)
    if rule == "riemann_left":
        nodes = np.arange(steps) / steps
        weights = np.full(steps, 1.0 / steps)
    elif rule == "riemann_trapezoid":
        nodes = np.linspace(0.0, 1.0, steps)
        weights = np.full(steps, 1.0 / (steps - 1))
        weights[[0, -1]] /= 2
    else:
        points, point_weights = np.polynomial.legendre.leggauss(steps)
        nodes, weights = (points + 1) / 2, point_weights / 2
    return torch.from_numpy(nodes), torch.from_numpy(weights)
