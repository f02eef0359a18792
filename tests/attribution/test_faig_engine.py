"""Eq. 5-6: closed form, completeness, and the batched engine against the one-step-at-a-time loop."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from faig.attribution import faig_scores
from faig.attribution.faig import faig_pairs, faig_paths, networks
from faig.attribution.literal import literal_faig
from faig.data.layout import Pair


def linear_pair(seed: int, channels: tuple[int, ...], scale: float = 0.3) -> tuple[nn.Module, nn.Module]:
    """Baseline and target: a stack of 3x3 convolutions with no activation between them."""
    torch.manual_seed(seed)
    layers = [nn.Conv2d(a, b, 3, padding=1) for a, b in zip(channels, channels[1:])]
    baseline = nn.Sequential(*layers).eval()
    target = nn.Sequential(*[nn.Conv2d(a, b, 3, padding=1) for a, b in zip(channels, channels[1:])]).eval()
    target.load_state_dict({k: v + scale * torch.randn_like(v) for k, v in baseline.state_dict().items()})
    return baseline, target


def closed_form_scores(baseline: nn.Conv2d, target: nn.Conv2d, x: torch.Tensor, y: torch.Tensor,
                       mean_alpha: float) -> tuple[torch.Tensor, torch.Tensor]:
    """FAIG of one linear convolution in closed form.

    The residual r(alpha) = F(gamma(alpha), x) - y is affine in alpha, so dL/dw = 2 sum_p r_p patch_p
    integrates to 2 sum_p rbar_p patch_p with rbar = r_target + mean_alpha (r_baseline - r_target)
    (mean_alpha = 1/2 for an exact rule, (N - 1) / 2N for N left-Riemann steps). Returns the filter
    scores (out x in, official order) and sum_i FAIG_i over weights and biases.
    """
    r_target = (F.conv2d(x, target.weight, target.bias, padding=1) - y).double()
    r_baseline = (F.conv2d(x, baseline.weight, baseline.bias, padding=1) - y).double()
    rbar = (r_target + mean_alpha * (r_baseline - r_target)).flatten(2)[0]  # (out, HW)
    patches = F.unfold(x.double(), 3, padding=1)[0]  # (in*9, HW)
    grad_weight = 2 * (rbar @ patches.T).view_as(target.weight)
    grad_bias = 2 * rbar.sum(1)
    faig_weight = (baseline.weight - target.weight).double() * grad_weight
    faig_bias = (baseline.bias - target.bias).double() * grad_bias
    return faig_weight.abs().sum((2, 3)).flatten(), faig_weight.sum() + faig_bias.sum()


@pytest.mark.parametrize("rule, steps, mean_alpha", [("gausslegendre", 3, 0.5), ("riemann_trapezoid", 7, 0.5),
                                                     ("riemann_left", 10, 9 / 20)])
def test_single_linear_convolution_matches_closed_form(rule, steps, mean_alpha):
    baseline, target = linear_pair(0, (2, 3))
    generator = torch.Generator().manual_seed(1)
    x, y = torch.rand(1, 2, 9, 9, generator=generator), torch.rand(1, 3, 9, 9, generator=generator)
    result = faig_paths(networks(baseline, target, "cpu"), x, y, rule, steps)
    expected, total = closed_form_scores(baseline[0], target[0], x, y, mean_alpha)
    assert torch.allclose(result.scores[0].double(), expected, rtol=1e-5, atol=1e-5)
    assert result.attribution_sum[0].item() == pytest.approx(total.item(), rel=1e-5)
    if mean_alpha == 0.5:
        assert result.gap[0] < 1e-5


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), steps=st.integers(2, 6), scale=st.floats(0.05, 1.0))
def test_completeness_is_exact_for_a_two_layer_linear_network(seed, steps, scale):
    """L(gamma(alpha)) is a quartic in alpha, dL/dalpha a cubic: 2-node Gauss-Legendre integrates it
    exactly, so sum_i FAIG_i = L(theta_bar) - L(theta)."""
    baseline, target = linear_pair(seed, (2, 3, 2), scale)
    generator = torch.Generator().manual_seed(seed)
    x, y = torch.rand(2, 2, 8, 8, generator=generator), torch.rand(2, 2, 8, 8, generator=generator)
    result = faig_paths(networks(baseline, target, "cpu"), x, y, "gausslegendre", steps)
    change = result.loss_baseline - result.loss_target
    assert torch.allclose(result.attribution_sum, change, rtol=1e-4, atol=1e-4 * change.abs().max().item())


def test_completeness_gap_is_small_on_a_small_srresnet(tiny_pair):
    generator = torch.Generator().manual_seed(3)
    lrs, hrs = torch.rand(2, 3, 16, 16, generator=generator), torch.rand(2, 3, 32, 32, generator=generator)
    result = faig_paths(networks(*tiny_pair, "cpu"), lrs, hrs, "gausslegendre", 32)
    assert torch.all(result.gap < 1e-3)


@pytest.mark.parametrize("rule, steps, lanes, vectorise", [
    ("gausslegendre", 6, 1, True), ("gausslegendre", 6, 2, True), ("riemann_left", 5, 3, True),
    ("gausslegendre", 6, 2, False)])
def test_batched_engine_equals_the_one_step_at_a_time_loop(tiny_pair, rule, steps, lanes, vectorise):
    nets = networks(*tiny_pair, "cpu")
    generator = torch.Generator().manual_seed(4)
    lrs, hrs = torch.rand(3, 3, 16, 16, generator=generator), torch.rand(3, 3, 32, 32, generator=generator)
    batched = faig_paths(nets, lrs, hrs, rule, steps, lanes, vectorise).scores
    loop = torch.stack([literal_faig(nets, lrs[i:i + 1], hrs[i:i + 1], rule, steps) for i in range(3)])
    assert torch.allclose(batched, loop, rtol=1e-4, atol=1e-6 * loop.abs().max().item())


def test_faig_scores_keeps_the_order_of_pairs_of_mixed_sizes(tiny_pair):
    generator = torch.Generator().manual_seed(5)
    sizes = [16, 16, 12, 16]
    pairs = [Pair(f"p{i}", torch.rand(1, 3, s, s, generator=generator), torch.rand(1, 3, 2 * s, 2 * s,
                                                                                generator=generator))
             for i, s in enumerate(sizes)]
    scores = faig_scores(*tiny_pair, pairs, steps=4, device="cpu")
    nets = networks(*tiny_pair, "cpu")
    one_by_one = torch.cat([faig_paths(nets, p.lr, p.hr, "gausslegendre", 4).scores for p in pairs])
    assert scores.shape == (4, nets.index.total)
    assert torch.allclose(scores, one_by_one, rtol=1e-4, atol=1e-6 * one_by_one.abs().max().item())
    assert faig_pairs(nets, pairs[:1], steps=4, memory_mb=1e-3).scores.shape == (1, nets.index.total)
