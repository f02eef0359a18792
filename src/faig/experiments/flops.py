"""Computation budgets (FLOPs, parameters) and the one-branch SRResNet that matches a two-branch
network's, as Sec. 3 compares them (Table 1, Fig. 1: "we adjust the number of residual blocks to
match a similar computation budget (FLOPs and parameters)").

FLOPs are PyTorch's own count (``torch.utils.flop_counter.FlopCounterMode``) of one forward pass
of a single 3 x S x S LR input: 2 per multiply-add of every convolution, linear layer and matrix
product (2·N·Cin/groups·Cout·K·K·Hout·Wout for a convolution, biases not counted); element-wise
operations, pooling, PixelShuffle and interpolation count 0. The pass runs on PyTorch's ``meta``
device, so nothing is computed and any size is instant. Parameters are the trainable ones (a frozen
momentum encoder, which only training uses, is left out).
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from faig.errors import FaigError
from faig.models.registry import ArchConfig, build_model

INPUT_SIZE = 48
TOLERANCE = 0.05


@dataclass(frozen=True)
class Complexity:
    """FLOPs of one forward pass at ``input_size`` (3 x S x S LR input) and trainable parameters."""

    flops: int
    params: int
    input_size: int = INPUT_SIZE

    def to_dict(self) -> dict:
        return asdict(self)


def complexity(model: nn.Module, input_size: int = INPUT_SIZE) -> Complexity:
    """Count a network's FLOPs (one 1 x 3 x S x S input, on the meta device) and parameters.

    Args:
        model: any SR network taking N x 3 x h x w; it is copied (in eval mode, as inference runs),
            never run or changed.
        input_size: S, the LR input's side.

    Returns:
        The :class:`Complexity`.

    Example:
        >>> complexity(nn.Conv2d(3, 4, 3, padding=1), input_size=5)
        Complexity(flops=5400, params=112, input_size=5)
    """
    meta = copy.deepcopy(model).to("meta").eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        meta(torch.empty(1, 3, input_size, input_size, device="meta"))
    params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return Complexity(int(counter.get_total_flops()), params, input_size)


def srresnet_complexity(arch: ArchConfig, input_size: int = INPUT_SIZE) -> Complexity:
    """The complexity of faig's SRResNet of ``arch``, built on the meta device (no memory, no init)."""
    with torch.device("meta"):
        model = build_model(arch)
    return complexity(model, input_size)


@dataclass(frozen=True)
class Match:
    """A one-branch SRResNet and how far its budget is from the two-branch target's (relative
    errors: (one-branch - target) / target)."""

    arch: ArchConfig
    complexity: Complexity
    flop_error: float
    param_error: float

    def to_dict(self) -> dict:
        return {"arch": self.arch.to_dict(), **self.complexity.to_dict(),
                "flop_error": self.flop_error, "param_error": self.param_error}


def _match(arch: ArchConfig, target: Complexity) -> Match:
    found = srresnet_complexity(arch, target.input_size)
    return Match(arch, found, found.flops / target.flops - 1, found.params / target.params - 1)


def closest_depth(target: Complexity, scale: int, width: int, max_depth: int = 64) -> Match:
    """The SRResNet of ``width`` whose number of residual blocks (1 to ``max_depth``) brings its
    FLOPs closest to the target's (FLOPs grow with depth, so a bisection finds it)."""
    low, high = 1, max_depth
    while high - low > 1:
        middle = (low + high) // 2
        if _match(ArchConfig("srresnet", scale, width=width, depth=middle), target).flop_error < 0:
            low = middle
        else:
            high = middle
    candidates = [_match(ArchConfig("srresnet", scale, width=width, depth=depth), target) for depth in (low, high)]
    return min(candidates, key=lambda match: abs(match.flop_error))


def match_one_branch(target: Complexity, scale: int, width: int, tolerance: float = TOLERANCE,
                     widths: tuple[int, ...] = tuple(range(8, 97, 4)), max_depth: int = 64) -> Match:
    """The one-branch SRResNet for a two-branch network's budget, as Sec. 3 picks it.

    The number of residual blocks is adjusted at the two-branch restorer's ``width`` first (the
    paper's choice); when no depth brings the FLOPs within ``tolerance``, every width of ``widths``
    is tried, and of the SRResNets within the tolerance the one with the closest parameter count
    wins.

    Args:
        target: the two-branch network's :class:`Complexity`.
        scale: the SR scale (2, 3 or 4).
        width: the preferred number of features.
        tolerance: the largest relative FLOP difference accepted (5%).
        widths: the other widths to try.
        max_depth: the most residual blocks to try.

    Returns:
        The :class:`Match`.

    Raises:
        FaigError: no SRResNet of these widths and depths is within the tolerance.

    Example:
        >>> target = srresnet_complexity(ArchConfig("srresnet", 2, width=16, depth=5), input_size=8)
        >>> match_one_branch(target, 2, width=16).arch.depth
        5
    """
    match = closest_depth(target, scale, width, max_depth)
    if abs(match.flop_error) <= tolerance:
        return match
    near = [m for m in (closest_depth(target, scale, w, max_depth) for w in widths) if abs(m.flop_error) <= tolerance]
    if not near:
        raise FaigError(f"no SRResNet of widths {widths[0]}-{widths[-1]} and at most {max_depth} blocks is within "
                        f"{tolerance:.0%} of {target.flops / 1e9:.3f} GFLOPs")
    return min(near, key=lambda m: (abs(m.param_error), abs(m.arch.width - width)))
