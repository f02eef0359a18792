"""The tensor-level API: one class per attribution method, shaped like Captum's.

``FAIG(baseline, target).attribute(lr, hr)`` returns the Eq. 6 score of every filter for each input
(Sec. 4.1); :func:`discriminative` turns the scores under several degradations into Eq. 7's
(Sec. 4.2); :func:`masked` and :func:`modulated` build the networks with a filter selection taken
from the baseline or scaled along the path (Sec. 5.2.1; modulation goes beyond the paper, as the
official code's filter-modulation script does). Inputs are
NCHW float32 tensors in [0, 1]; the networks are any pair with the same tensors (the target
fine-tuned from the baseline), whose K x K convolution kernels are the filters.

Example:
    >>> import torch
    >>> from faig import FAIG, discriminative
    >>> from faig.models.registry import ArchConfig, build_model
    >>> _ = torch.manual_seed(0)
    >>> baseline = build_model(ArchConfig("srresnet", 2, width=4, depth=1))
    >>> target = build_model(ArchConfig("srresnet", 2, width=4, depth=1))
    >>> lr, hr = torch.rand(2, 3, 8, 8), torch.rand(2, 3, 16, 16)
    >>> scores, delta = FAIG(baseline, target).attribute(lr, hr, n_steps=8, return_convergence_delta=True)
    >>> scores.shape, delta.shape
    (torch.Size([2, 136]), torch.Size([2]))
    >>> sorted(discriminative({"blur": scores[:1], "noise": scores[1:]}))
    ['blur', 'noise']
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from faig.attribution.baselines import abs_scores, random_ranking, ranking_scores
from faig.attribution.discriminative import discriminative_scores, set_scores
from faig.attribution.faig import Networks, faig_paths, lanes_per_call, networks
from faig.attribution.filters import FilterIndex, masked_state, modulated_state, state_of
from faig.attribution.ig import ig_paths
from faig.attribution.quadrature import check_rule
from faig.checks import check_images
from faig.errors import FaigError


def _check_pairs(lr: torch.Tensor, other: torch.Tensor, other_name: str) -> None:
    for name, images in (("lr", lr), (other_name, other)):
        check_images(f"attribute: {name}", images, channels=None)
        if not images.is_floating_point():
            raise FaigError(f"attribute: {name} must be a float tensor in [0, 1], got {images.dtype}")
    if len(lr) != len(other) or lr.shape[1] != other.shape[1]:
        raise FaigError(f"lr {tuple(lr.shape)} and {other_name} {tuple(other.shape)} must hold as many "
                        f"images with as many channels")


class _PairMethod:
    """What every method shares: the baseline and target on one device and their filter index."""

    def __init__(self, baseline: nn.Module, target: nn.Module, device: str | torch.device | None = None) -> None:
        self.nets: Networks = networks(baseline, target, device)

    @property
    def index(self) -> FilterIndex:
        """The filters that the scores' last dimension numbers (the official flat order)."""
        return self.nets.index

    def _lanes(self, internal_batch_size: int | None, lr: torch.Tensor, hr: torch.Tensor | None) -> int:
        """Path points per call: the engine's memory-budgeted choice unless the caller sets it."""
        if internal_batch_size is None:
            return lanes_per_call(self.nets, lr[:1], None if hr is None else hr[:1], None)
        if internal_batch_size < 1:
            raise FaigError(f"internal_batch_size must be at least 1, got {internal_batch_size}")
        return internal_batch_size


class FAIG(_PairMethod):
    """Filter Attribution based on Integral Gradient (Sec. 4.1, Eq. 5-6).

    For each input, FAIG_i = (θ̄ − θ)_i ∫_0^1 ∂L(γ(α), x)/∂γ_i dα along the straight path
    γ(α) = θ + α(θ̄ − θ) from the target θ to the baseline θ̄, with L of Eq. 3 (the summed squared
    error of the output to the ground truth); a filter's score is Σ |FAIG_i| over its K x K weights. Completeness: Σ_i FAIG_i = L(θ̄, x) − L(θ, x) up to the quadrature error, which
    ``return_convergence_delta`` reports (as Captum does for input-space IG).

    Args:
        baseline: the network θ̄ before fine-tuning (the path's end).
        target: the fine-tuned network θ (the path's start); same tensors as ``baseline``.
        device: where to run (default: CUDA when present).
    """

    def attribute(self, lr: torch.Tensor, hr: torch.Tensor, *, method: str = "gausslegendre",
                  n_steps: int | None = None, internal_batch_size: int | None = None,
                  return_convergence_delta: bool = False) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Eq. 6 filter scores of each input.

        Args:
            lr: degraded inputs, (n, C, h, w) in [0, 1].
            hr: their ground truths, (n, C, H, W) in [0, 1] (H, W: the network's output size).
            method: quadrature along the path: ``gausslegendre``, ``riemann_left`` (the official
                code's), ``riemann_trapezoid``.
            n_steps: quadrature nodes (default: the rule's).
            internal_batch_size: path points evaluated per call (memory against speed).
            return_convergence_delta: also return Σ_i FAIG_i − (L(θ̄, x) − L(θ, x)) per input.

        Returns:
            scores (n, total) float32 on the CPU, and with ``return_convergence_delta`` the deltas (n,).

        Raises:
            FaigError: inputs that are not NCHW float tensors of matching count, an unknown rule.
        """
        _check_pairs(lr, hr, "hr")
        steps = check_rule(method, n_steps)
        result = faig_paths(self.nets, lr.to(self.nets.device), hr.to(self.nets.device), method, steps,
                            self._lanes(internal_batch_size, lr, hr))
        if not return_convergence_delta:
            return result.scores
        return result.scores, result.attribution_sum - (result.loss_baseline - result.loss_target)


class ModifiedIG(_PairMethod):
    """The "modified IG" baseline of Sec. 5.2, as the official code computes it: the input moves from
    the downsampling-only LR image to the degraded one and the gradient of the target's summed output
    with respect to each weight is averaged along that path; a filter's score is Σ |.| over its K x K
    weights. (``baseline`` only fixes the filter index; the scores are the target's.)"""

    def attribute(self, lr: torch.Tensor, clean_lr: torch.Tensor, *, method: str = "gausslegendre",
                  n_steps: int | None = None, internal_batch_size: int | None = None) -> torch.Tensor:
        """The modified-IG filter scores of each input.

        Args:
            lr: degraded inputs, (n, C, h, w) in [0, 1] (the path's end).
            clean_lr: the same images downsampled only, same shape (the path's start).
            method, n_steps, internal_batch_size: as :meth:`FAIG.attribute`.

        Returns:
            scores (n, total) float32 on the CPU.

        Raises:
            FaigError: inputs that are not NCHW float tensors of one shape, an unknown rule.
        """
        _check_pairs(lr, clean_lr, "clean_lr")
        if lr.shape != clean_lr.shape:
            raise FaigError(f"lr {tuple(lr.shape)} and clean_lr {tuple(clean_lr.shape)} must have one shape")
        steps = check_rule(method, n_steps)
        return ig_paths(self.nets, clean_lr.to(self.nets.device), lr.to(self.nets.device), method, steps,
                        self._lanes(internal_batch_size, lr, None))


class AbsoluteChange(_PairMethod):
    """The |θ − θ̄| baseline of Sec. 5.2: Σ_{K x K} |θ − θ̄| per filter, divided by Σ_{K x K} |θ̄| when
    ``normalise`` (the official code's choice). It looks at no image."""

    def attribute(self, lr: torch.Tensor | None = None, *, normalise: bool = True) -> torch.Tensor:
        """The same scores for every input: (n, total), or (1, total) without inputs; ``lr`` only
        sets n, and ``normalise`` divides by the baseline's Σ |θ̄| per filter."""
        rows = 1 if lr is None else len(lr)
        scores = abs_scores(self.nets.baseline, self.nets.target, self.index, normalise)
        return scores.expand(rows, -1).clone()


class RandomFilters(_PairMethod):
    """Random selection (Sec. 5.2): a seeded permutation per degradation name, as scores."""

    def attribute(self, lr: torch.Tensor | None = None, *, seed: int = 0, degradation: str = "") -> torch.Tensor:
        """Scores (n, total) (or (1, total)) that sort to a random ranking (distinct, best = total):
        the permutation drawn from ``seed`` and the ``degradation`` name, so each degradation gets
        its own and a rerun the same."""
        rows = 1 if lr is None else len(lr)
        scores = ranking_scores(random_ranking(self.index.total, seed, degradation))
        return scores.expand(rows, -1).clone()


def discriminative(scores_by_degradation: dict[str, torch.Tensor], eliminate: bool = True) -> dict[str, torch.Tensor]:
    """Eq. 7, one degradation against the rest: for each D, the mean Eq. 6 score over D's inputs
    minus the mean, over the other degradations, of their per-degradation means (each degradation
    weighs alike whatever its number of inputs; without ``eliminate``: the means alone).

    Args:
        scores_by_degradation: per degradation, scores (n_D, total) from :meth:`FAIG.attribute`
            (or (total,) for a set already averaged).

    Returns:
        Per degradation, a (total,) score; rank with ``torch.argsort(score, descending=True)``.

    Raises:
        FaigError: fewer than two degradations with ``eliminate``, or mismatched filter counts.
    """
    per_image = {name: scores[None] if scores.dim() == 1 else scores for name, scores in scores_by_degradation.items()}
    totals = {scores.shape[-1] for scores in per_image.values()}
    if len(totals) > 1:
        raise FaigError(f"the degradations' scores count different filters: {sorted(totals)}")
    return discriminative_scores(per_image) if eliminate else set_scores(per_image)


def filter_mask(selection: torch.Tensor, total: int) -> torch.Tensor:
    """A (total,) float 0/1 mask from a boolean or 0/1 mask or from a 1-D tensor of flat filter indices.

    Raises:
        FaigError: a mask of another length, or an index outside [0, total).
    """
    selection = torch.as_tensor(selection)
    if selection.dtype == torch.bool or selection.is_floating_point():
        if selection.shape != (total,):
            raise FaigError(f"a filter mask must have one entry per filter ({total}), got shape "
                            f"{tuple(selection.shape)}")
        return selection.float()
    if selection.dim() != 1 or (len(selection) and not 0 <= int(selection.min()) <= int(selection.max()) < total):
        raise FaigError(f"filter indices must be a 1-D tensor of values in [0, {total})")
    return torch.zeros(total).index_fill_(0, selection.long(), 1.0)


def _with_state(target: nn.Module, state: dict[str, torch.Tensor]) -> nn.Module:
    network = copy.deepcopy(target)
    network.load_state_dict(state)
    return network.eval()


def masked(baseline: nn.Module, target: nn.Module, selection: torch.Tensor) -> nn.Module:
    """The target with the selected filters replaced by the baseline's (Sec. 5.2.1); biases stay the
    target's. ``selection``: a (total,) 0/1 mask or a 1-D tensor of flat filter indices."""
    index = FilterIndex.from_module(target)
    return _with_state(target, masked_state(state_of(target), state_of(baseline), index,
                                            filter_mask(selection, index.total)))


def modulated(baseline: nn.Module, target: nn.Module, selection: torch.Tensor, strength: float) -> nn.Module:
    """θ_λ = θ̄ + λ(θ − θ̄) on the selected filters, θ elsewhere: λ = 0 turns their function off, 1 is
    the target, above 1 strengthens it."""
    index = FilterIndex.from_module(target)
    return _with_state(target, modulated_state(state_of(baseline), state_of(target), index,
                                               filter_mask(selection, index.total), strength))
