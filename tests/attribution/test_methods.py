"""Eq. 7 with its per-image reuse, Eq. 6 over a set, and the baselines of Sec. 5.2."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from faig.attribution import attribute
from faig.attribution.baselines import abs_scores, random_ranking
from faig.attribution.discriminative import discriminative_scores, set_scores
from faig.attribution.faig import networks
from faig.attribution.filters import FilterIndex
from faig.attribution.ig import ig_paths
from faig.attribution.literal import literal_discriminative
from faig.attribution.quadrature import quadrature
from faig.data.degradations import variant
from faig.data.layout import degraded_pairs


def test_eq7_subtracts_the_mean_over_the_other_degradations():
    per_image = {"blur": torch.tensor([[4.0, 0.0], [2.0, 2.0]]), "noise": torch.tensor([[1.0, 1.0], [1.0, 3.0]]),
                 "blur+noise": torch.tensor([[0.0, 2.0], [0.0, 0.0]])}
    scores = discriminative_scores(per_image)
    expected = torch.tensor([3.0, 1.0]) - (torch.tensor([1.0, 2.0]) + torch.tensor([0.0, 1.0])) / 2
    assert torch.allclose(scores["blur"], expected)
    assert torch.allclose(set_scores(per_image)["noise"], torch.tensor([1.0, 2.0]))


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 5), st.integers(1, 3), st.integers(1, 6), st.integers(0, 2**31 - 1))
def test_n_way_eq7_scores_sum_to_zero_over_the_degradations(count, images, filters, seed):
    """One against the rest (Eq. 7 for N degradations): each D's mean minus the mean of the others'
    means, so the N scores of a filter cancel: Σ_D [m_D − Σ_{O≠D} m_O / (N − 1)] = 0."""
    generator = torch.Generator().manual_seed(seed)
    per_image = {f"d{k}": torch.randn(images, filters, generator=generator, dtype=torch.float64)
                 for k in range(count)}
    total = torch.stack(list(discriminative_scores(per_image).values())).sum(0)
    assert torch.allclose(total, torch.zeros(filters, dtype=torch.float64), atol=1e-12)


def test_faig_reuses_each_images_eq6_and_matches_the_official_recomputation(tiny_pair, tiny_images):
    result = attribute("faig", *tiny_pair, tiny_images[:2], quadrature="riemann_left", steps=3, device="cpu",
                       progress=False)
    nets = networks(*tiny_pair, "cpu")
    pairs = {name: degraded_pairs(tiny_images[:2], variant(name, 2)) for name in ("blur", "noise")}
    literal = literal_discriminative(nets, pairs, "riemann_left", 3)
    for name in ("blur", "noise"):
        assert torch.allclose(result.scores[name], literal[name], atol=1e-5 * literal[name].abs().max().item())
        assert torch.equal(result.rankings[name], torch.argsort(result.scores[name], descending=True, stable=True))
    assert result.per_image["blur"].shape == (2, nets.index.total)
    assert result.completeness_gaps["noise"].shape == (2,)


def test_eq6_alone_is_the_mean_of_the_per_image_scores(tiny_pair, tiny_images):
    result = attribute("faig", *tiny_pair, tiny_images[:2], degradations="blur", steps=2, elimination=False,
                       device="cpu", progress=False)
    assert torch.allclose(result.scores["blur"], result.per_image["blur"].mean(0))


def ig_loop(target, index, clean, degraded, rule, steps):
    """The official modified IG, one step at a time."""
    target = target.eval()
    integral = {}
    for alpha, weight in zip(*(values.tolist() for values in quadrature(rule, steps))):
        target.zero_grad()
        target(clean + alpha * (degraded - clean)).sum().backward()
        for name, parameter in target.named_parameters():
            integral[name] = integral.get(name, 0) + weight * parameter.grad
    return index.reduce({layer.name: integral[layer.name].abs() for layer in index.layers})


def test_ig_matches_the_official_modified_ig(tiny_pair, tiny_images):
    result = attribute("ig", *tiny_pair, tiny_images[:2], quadrature="riemann_left", steps=4, device="cpu",
                       progress=False)
    index = FilterIndex.from_module(tiny_pair[1])
    clean = degraded_pairs(tiny_images[:2], variant("clean", 2))
    for name in ("blur", "noise"):
        degraded = degraded_pairs(tiny_images[:2], variant(name, 2))
        expected = torch.stack([ig_loop(tiny_pair[1], index, c.lr, d.lr, "riemann_left", 4)
                                for c, d in zip(clean, degraded)]).mean(0)
        assert torch.allclose(result.scores[name], expected, rtol=1e-4, atol=1e-6 * expected.abs().max().item())
    assert result.completeness_gaps is None
    nets = networks(*tiny_pair, "cpu")
    clean_lrs, lrs = torch.cat([c.lr for c in clean]), torch.cat([d.lr for d in degraded])
    vectorised = ig_paths(nets, clean_lrs, lrs, "riemann_left", 4, 2, vectorise=True)
    assert torch.allclose(vectorised, ig_paths(nets, clean_lrs, lrs, "riemann_left", 4, 2, vectorise=False), rtol=1e-4,
                          atol=1e-6 * vectorised.abs().max().item())


def test_abs_is_the_normalised_filter_change_the_same_for_every_degradation(tiny_pair):
    baseline, target = (model.state_dict() for model in tiny_pair)
    index = FilterIndex.from_module(tiny_pair[0])
    name, out, inp = index.locate(100)
    change = (target[name][out, inp] - baseline[name][out, inp]).abs().sum()
    assert abs_scores(baseline, target, index, normalise=False)[100] == pytest.approx(change.item())
    assert abs_scores(baseline, target, index)[100] == pytest.approx(
        (change / baseline[name][out, inp].abs().sum()).item(), rel=1e-5)
    result = attribute("abs", *tiny_pair, [], progress=False)
    assert torch.equal(result.rankings["blur"], result.rankings["noise"])
    assert result.per_image is None


def test_random_is_a_seeded_permutation_per_degradation(tiny_pair):
    result = attribute("random", *tiny_pair, [], degradations="blur,noise,blur+noise", seed=3)
    total = result.index.total
    assert torch.equal(result.rankings["blur"].sort().values, torch.arange(total))
    assert not torch.equal(result.rankings["blur"], result.rankings["noise"])
    assert torch.equal(result.rankings["noise"], random_ranking(total, 3, "noise"))
    assert torch.equal(attribute("random", *tiny_pair, [], degradations="noise", seed=3).rankings["noise"],
                       result.rankings["noise"])
