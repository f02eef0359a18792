"""FAIG (Sec. 4.1, Eq. 5-6): attribute L(theta_bar, x) - L(theta, x) to each filter along the straight
path gamma(alpha) = theta + alpha (theta_bar - theta) from the target theta to the baseline theta_bar.

FAIG_i = (theta_bar - theta)_i * int_0^1 dL/dgamma_i dalpha with L of Eq. 3; a filter's score is the
sum of |FAIG_i| over its K x K weights, as the official code does. Every tensor moves along the path
(biases too), so sum_i FAIG_i = L(theta_bar, x) - L(theta, x) up to the quadrature error: the
completeness gap reports that error relative to |L(theta_bar, x) - L(theta, x)|, like Captum's
convergence delta for input-space IG.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import nn
from torch.func import functional_call, vmap
from tqdm import tqdm

from faig.attribution.filters import FilterIndex, interpolate
from faig.attribution.paths import Lanes, State, integrate, lanes_for_budget, split_state, sr_loss
from faig.attribution.quadrature import check_rule
from faig.data.layout import Pair
from faig.errors import FaigError
from faig.devices import resolve_device
from faig.models.checkpoints import check_same_structure

CPU_MEMORY_MB = 256.0  # batching buys nothing measurable on CPU; small groups resume at a finer grain


@dataclass(frozen=True)
class Networks:
    """The baseline and target of Sec. 4.1 as states on one device, an eval-mode module to run them
    through, and their filter index."""

    model: nn.Module
    baseline: State
    target: State
    index: FilterIndex
    device: torch.device


@dataclass(frozen=True)
class PathAttribution:
    """Eq. 6 for n inputs: filter scores (n, total), sum_i FAIG_i over every tensor (n,), and the
    losses at both ends of the path (n,)."""

    scores: torch.Tensor
    attribution_sum: torch.Tensor
    loss_target: torch.Tensor
    loss_baseline: torch.Tensor

    @property
    def gap(self) -> torch.Tensor:
        """Completeness gap |sum_i FAIG_i - (L(theta_bar) - L(theta))| / |L(theta_bar) - L(theta)|."""
        change = self.loss_baseline - self.loss_target
        return (self.attribution_sum - change).abs() / change.abs().clamp_min(1e-12)


def networks(baseline: nn.Module, target: nn.Module, device: str | torch.device | None = None) -> Networks:
    """Check that the two networks line up tensor for tensor and put their states on ``device``."""
    baseline_state, target_state = baseline.state_dict(), target.state_dict()
    check_same_structure(baseline_state, target_state)
    index = FilterIndex.from_module(baseline)
    device = resolve_device(device) if not isinstance(device, torch.device) else device
    model = copy.deepcopy(baseline).eval().to(device)
    return Networks(model, {k: v.detach().to(device) for k, v in baseline_state.items()},
                    {k: v.detach().to(device) for k, v in target_state.items()}, index, device)


def per_filter(index: FilterIndex, per_weight: State) -> torch.Tensor:
    """Batched :meth:`FilterIndex.reduce`: per-weight values (n, *shape) -> filter values (n, total)."""
    return vmap(index.reduce)({layer.name: per_weight[layer.name] for layer in index.layers})


def faig_paths(nets: Networks, lrs: torch.Tensor, hrs: torch.Tensor, rule: str = "gausslegendre",
               steps: int | None = None, lanes_per_call: int = 16,
               vectorise: bool | None = None) -> PathAttribution:
    """Eq. 6 for a batch of equal-size inputs (n, C, h, w) with ground truths (n, C, H, W)."""
    start, fixed = split_state(nets.target)
    end, _ = split_state(nets.baseline)

    def make_lanes(alpha: float, chunk: slice) -> Lanes:
        return Lanes(interpolate(start, end, nets.index, alpha, alpha), lrs[chunk], hrs[chunk])

    integral = integrate(nets.model, fixed, len(lrs), make_lanes, rule, steps, lanes_per_call, vectorise)
    attribution = {key: (end[key] - start[key]) * integral[key] for key in start}
    with torch.no_grad():
        loss_target = sr_loss(functional_call(nets.model, (start, fixed), (lrs,)), hrs)
        loss_baseline = sr_loss(functional_call(nets.model, (end, fixed), (lrs,)), hrs)
    total = sum(value.flatten(1).double().sum(1) for value in attribution.values())
    scores = per_filter(nets.index, {key: value.abs() for key, value in attribution.items()})
    return PathAttribution(scores.cpu(), total.cpu(), loss_target.double().cpu(), loss_baseline.double().cpu())


def equal_size_groups(shapes: list[tuple[int, ...]], per_group: int) -> list[list[int]]:
    """Consecutive positions whose shapes agree, at most ``per_group`` to a group: the batches."""
    groups: list[list[int]] = []
    for position, shape in enumerate(shapes):
        if groups and len(groups[-1]) < per_group and shapes[groups[-1][0]] == shape:
            groups[-1].append(position)
        else:
            groups.append([position])
    return groups


def memory_budget(device: torch.device, memory_mb: float | None = None) -> float:
    """``memory_mb`` if given, else 256 MB on CPU and a quarter of the free memory on a GPU."""
    if memory_mb is not None:
        if memory_mb <= 0:
            raise FaigError(f"the memory budget must be positive, not {memory_mb} MB")
        return memory_mb
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0] / 4 / 2**20
    return CPU_MEMORY_MB


def lanes_per_call(nets: Networks, lr: torch.Tensor, hr: torch.Tensor | None, memory_mb: float | None) -> int:
    """The chunk size that keeps one call within the memory budget."""
    return lanes_for_budget(nets.model, nets.target, lr.to(nets.device),
                            None if hr is None else hr.to(nets.device), memory_budget(nets.device, memory_mb))


def faig_scores(baseline: nn.Module, target: nn.Module, pairs: list[Pair], quadrature: str = "gausslegendre",
                steps: int | None = None, device: str | torch.device | None = None, progress: bool = False,
                memory_mb: float | None = None, label: str = "FAIG") -> torch.Tensor:
    """Eq. 6 filter scores (n_pairs, total) of each LR/HR pair, without the elimination term of Eq. 7
    (what the degradation prediction of Eq. 8 uses); ``label`` names the progress bar."""
    return faig_pairs(networks(baseline, target, device), pairs, quadrature, steps, progress, memory_mb, label).scores


def faig_pairs(nets: Networks, pairs: list[Pair], rule: str = "gausslegendre", steps: int | None = None,
               progress: bool = False, memory_mb: float | None = None, label: str = "FAIG") -> PathAttribution:
    """Eq. 6 for a list of pairs, equal-size pairs batched together; results in the pairs' order."""
    if not pairs:
        raise FaigError("no images to attribute")
    steps = check_rule(rule, steps)
    lanes = lanes_per_call(nets, pairs[0].lr, pairs[0].hr, memory_mb)
    groups = equal_size_groups([tuple(p.lr.shape) + tuple(p.hr.shape) for p in pairs], lanes)
    parts = []
    with tqdm(total=len(pairs), disable=not progress, desc=label, unit="image") as bar:
        for group in groups:
            lrs = torch.cat([pairs[i].lr for i in group]).to(nets.device)
            hrs = torch.cat([pairs[i].hr for i in group]).to(nets.device)
            parts.append(faig_paths(nets, lrs, hrs, rule, steps, lanes))
            bar.update(len(group))
    return PathAttribution(*(torch.cat([getattr(p, field) for p in parts]) for field in
                             ("scores", "attribution_sum", "loss_target", "loss_baseline")))
