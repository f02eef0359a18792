"""The "modified IG" baseline of Sec. 5.2 (IntInf-like), as the official code computes it.

The input moves along the straight path from the downsampling-only LR image to the degraded one;
the gradient of the sum of the *target* network's output with respect to every weight is averaged
over the path (not multiplied by the input difference), and a filter's score is the sum of |.| of
that average over its K x K weights. No elimination term, as in the official code.
"""

from __future__ import annotations


import torch

from faig.attribution.faig import Networks, per_filter
from faig.attribution.paths import Lanes, integrate, split_state


def ig_paths(nets: Networks, clean_lrs: torch.Tensor, lrs: torch.Tensor, rule: str = "gausslegendre",
             steps: int | None = None, lanes_per_call: int = 16,
             vectorise: bool | None = None) -> torch.Tensor:
    """IG filter scores (n, total) for equal-size clean and degraded LR batches (n, C, h, w)."""
    params, fixed = split_state(nets.target)

    def make_lanes(alpha: float, chunk: slice) -> Lanes:
        return Lanes(params, torch.lerp(clean_lrs[chunk], lrs[chunk], alpha))

    integral = integrate(nets.model, fixed, len(lrs), make_lanes, rule, steps, lanes_per_call, vectorise)
    return per_filter(nets.index, {key: value.abs() for key, value in integral.items()}).cpu()
