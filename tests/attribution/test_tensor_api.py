"""The tensor-level API (faig.FAIG & co.): shapes, completeness, agreement with the literal loops, selections."""

from __future__ import annotations

import copy
import importlib.metadata
import importlib.util
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import faig
from faig import FAIG, AbsoluteChange, FaigError, ModifiedIG, RandomFilters, discriminative, filter_mask
from faig.attribution.filters import FilterIndex
from faig.attribution.literal import literal_faig
from faig.models.registry import build_model


def _inputs(seed: int, n: int = 2):
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, 12, 12, generator=generator), torch.rand(n, 3, 24, 24, generator=generator)


def _ig_loop():
    """``ig_loop`` of test_methods.py (the official modified IG, one step at a time), loaded from its
    file: under ``--import-mode=importlib`` test modules are not importable by name."""
    spec = importlib.util.spec_from_file_location("_faig_test_methods", Path(__file__).with_name("test_methods.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ig_loop


class TestFAIG:
    def test_shapes_and_agreement_with_the_literal_algorithm(self, tiny_pair):
        """Each row equals the paper-literal loop (literal.py: one image, one node, one backward pass
        at a time through an ordinary module) at the same 8-node Gauss-Legendre rule."""
        baseline, target = tiny_pair
        lr, hr = _inputs(0)
        method = FAIG(baseline, target, device="cpu")
        scores = method.attribute(lr, hr, n_steps=8)
        assert scores.shape == (2, 624) and scores.dtype == torch.float32  # 8x3 + 4x8x8 + 32x8 + 8x8 + 3x8
        literal = torch.stack([literal_faig(method.nets, lr[i:i + 1], hr[i:i + 1], "gausslegendre", 8)
                               for i in range(2)])
        assert not torch.equal(literal[0], literal[1])  # two inputs, two different rows to match
        torch.testing.assert_close(scores, literal, rtol=1e-4, atol=1e-6 * float(literal.abs().max()))

    @settings(max_examples=6, deadline=None)
    @given(seed=st.integers(0, 10_000))
    def test_completeness_sum_equals_the_loss_change(self, tiny_pair, seed):
        """Σ_i FAIG_i = L(θ̄, x) − L(θ, x) up to the quadrature error: the convergence delta is small
        against the attribution's own size Σ_i |FAIG_i| (the loss change itself can nearly cancel)."""
        baseline, target = tiny_pair
        lr, hr = _inputs(seed, 1)
        scores, delta = FAIG(baseline, target, device="cpu").attribute(lr, hr, n_steps=32,
                                                                       return_convergence_delta=True)
        assert float(delta.abs().max()) <= 2e-3 * float(scores.sum())

    def test_more_nodes_shrink_the_delta(self, tiny_pair):
        baseline, target = tiny_pair
        lr, hr = _inputs(3, 1)
        method = FAIG(baseline, target, device="cpu")
        coarse = method.attribute(lr, hr, method="riemann_left", n_steps=4, return_convergence_delta=True)[1]
        fine = method.attribute(lr, hr, method="riemann_left", n_steps=64, return_convergence_delta=True)[1]
        assert abs(float(fine)) < abs(float(coarse))

    def test_bad_inputs(self, tiny_pair):
        method = FAIG(*tiny_pair, device="cpu")
        lr, hr = _inputs(0)
        with pytest.raises(FaigError, match="NCHW"):
            method.attribute(lr[0], hr)
        with pytest.raises(FaigError, match="float tensor"):
            method.attribute((lr * 255).byte(), hr)
        with pytest.raises(FaigError, match="as many images"):
            method.attribute(lr, hr[:1])
        with pytest.raises(FaigError, match="internal_batch_size"):
            method.attribute(lr, hr, internal_batch_size=0)


class TestBaselines:
    def test_modified_ig_matches_the_official_loop(self, tiny_pair):
        """The official modified IG (test_methods.ig_loop): the target's summed output differentiated
        at each node of the clean -> degraded input path, one image and one node at a time. Left
        Riemann nodes (0, 1/4, 1/2, 3/4) are not symmetric, so swapped inputs would not match."""
        baseline, target = tiny_pair
        lr, _ = _inputs(1)
        clean = lr.clamp(0.1, 0.9)
        ig = ModifiedIG(baseline, target, device="cpu").attribute(lr, clean, method="riemann_left", n_steps=4)
        index = FilterIndex.from_module(target)
        ig_loop = _ig_loop()
        loop = torch.stack([ig_loop(copy.deepcopy(target), index, clean[i:i + 1], lr[i:i + 1], "riemann_left", 4)
                            for i in range(2)])
        assert ig.shape == (2, 624)
        torch.testing.assert_close(ig, loop, rtol=1e-4, atol=1e-6 * float(loop.abs().max()))

    def test_abs_change_of_single_filters_by_hand(self, tiny_pair):
        """Σ_{KxK} |θ − θ̄| of one filter, over Σ_{KxK} |θ̄| when normalised, from the two state dicts;
        filters addressed by hand: flat = layer offset + out * in_channels + in (official row-major)."""
        baseline, target = tiny_pair
        theta_bar, theta = baseline.state_dict(), target.state_dict()
        method = AbsoluteChange(baseline, target, device="cpu")
        lr, _ = _inputs(1)
        normalised, plain = method.attribute(lr), method.attribute(normalise=False)
        assert normalised.shape == (2, 624) and plain.shape == (1, 624)
        # conv_first (8 x 3, offset 0): out 2, in 1; conv_last (3 x 8, the last 24): out 1, in 5
        for flat, name, out, inp in ((2 * 3 + 1, "conv_first.weight", 2, 1),
                                     (624 - 24 + 1 * 8 + 5, "conv_last.weight", 1, 5)):
            after, before = theta[name][out, inp].flatten().tolist(), theta_bar[name][out, inp].flatten().tolist()
            assert len(after) == 9  # one 3x3 kernel
            change = sum(abs(a - b) for a, b in zip(after, before))
            size = sum(abs(b) for b in before)
            assert float(plain[0, flat]) == pytest.approx(change, rel=1e-5)
            for row in range(2):
                assert float(normalised[row, flat]) == pytest.approx(change / size, rel=1e-5)

    def test_random_filters_are_a_seeded_permutation(self, tiny_pair):
        baseline, target = tiny_pair
        total = FilterIndex.from_module(baseline).total
        first = RandomFilters(baseline, target).attribute(seed=1, degradation="blur")
        assert sorted(first[0].tolist()) == list(range(1, total + 1))
        assert torch.equal(first, RandomFilters(baseline, target).attribute(seed=1, degradation="blur"))


class TestDiscriminative:
    def test_eq7_one_against_the_rest(self):
        scores = {"blur": torch.tensor([[3.0, 1.0, 0.0], [1.0, 1.0, 0.0]]),
                  "noise": torch.tensor([[0.0, 1.0, 2.0]]),
                  "jpeg": torch.tensor([0.0, 3.0, 0.0])}
        result = discriminative(scores)
        torch.testing.assert_close(result["blur"], torch.tensor([2.0, -1.0, -1.0]))
        torch.testing.assert_close(result["noise"], torch.tensor([-1.0, -1.0, 2.0]))
        plain = discriminative(scores, eliminate=False)
        torch.testing.assert_close(plain["blur"], torch.tensor([2.0, 1.0, 0.0]))
        with pytest.raises(FaigError, match="at least two"):
            discriminative({"blur": scores["blur"]})
        with pytest.raises(FaigError, match="different filters"):
            discriminative({"blur": torch.zeros(3), "noise": torch.zeros(4)})


class TestSelections:
    def test_masked_and_modulated_networks(self, tiny_pair):
        baseline, target = tiny_pair
        index = FilterIndex.from_module(target)
        chosen = torch.tensor([0, 5, index.total - 1])
        mask = filter_mask(chosen, index.total)
        assert mask.sum() == 3 and mask[5] == 1
        network = faig.masked(baseline, target, chosen)
        layer, out, inp = index.locate(5)
        assert torch.equal(network.state_dict()[layer][out, inp], baseline.state_dict()[layer][out, inp])
        layer, out, inp = index.locate(6)
        assert torch.equal(network.state_dict()[layer][out, inp], target.state_dict()[layer][out, inp])
        at_one = faig.modulated(baseline, target, mask.bool(), 1.0)
        for key, value in target.state_dict().items():
            torch.testing.assert_close(at_one.state_dict()[key], value)
        at_zero = faig.modulated(baseline, target, torch.ones(index.total), 0.0)
        assert torch.equal(at_zero.state_dict()[layer], baseline.state_dict()[layer])
        with pytest.raises(FaigError, match="one entry per filter"):
            filter_mask(torch.ones(4, dtype=torch.bool), index.total)
        with pytest.raises(FaigError, match=r"values in \[0"):
            filter_mask(torch.tensor([index.total]), index.total)


def test_public_names_are_exported_and_resolve():
    """Every name in ``faig.__all__`` resolves (most are imported lazily on first use) to the object
    its home module defines."""
    from faig.attribution import groups, methods
    from faig.models import checkpoints

    assert set(faig.__all__) >= {"FAIG", "ModifiedIG", "AbsoluteChange", "RandomFilters", "discriminative", "masked",
                                 "modulated", "load_model", "FaigError"}
    resolved = {name: getattr(faig, name) for name in faig.__all__}
    homes = {"attention_heads": groups, "filter_groups": groups, "group_scores": groups, "load_model": checkpoints}
    for name, value in resolved.items():
        if name == "__version__":
            assert value == importlib.metadata.version("faig")
        elif name == "FaigError":
            assert issubclass(value, Exception)
        else:
            assert value is getattr(homes.get(name, methods), name), name
    with pytest.raises(AttributeError, match="no attribute 'not_a_name'"):
        getattr(faig, "not_a_name")


class TestAttentionNetwork:
    def test_faig_on_windowed_attention_is_complete(self):
        """Completeness holds through attention, LayerNorm and Linear layers (SwinIR-style)."""
        import copy

        from faig.models.registry import ArchConfig

        torch.manual_seed(0)
        baseline = build_model(ArchConfig("swinir", 2, width=8, depth=1)).eval()
        target = copy.deepcopy(baseline)
        generator = torch.Generator().manual_seed(5)
        with torch.no_grad():
            for tensor in target.parameters():
                tensor.add_(0.05 * torch.randn(tensor.shape, generator=generator))
        lr, hr = torch.rand(1, 3, 8, 8, generator=generator), torch.rand(1, 3, 16, 16, generator=generator)
        method = FAIG(baseline, target, device="cpu")
        scores, delta = method.attribute(lr, hr, n_steps=32, return_convergence_delta=True)
        linear = [layer for layer in method.index.layers if layer.kernel_dims == 0]
        assert {layer.module.rsplit(".", 1)[-1] for layer in linear} == {"qkv", "proj", "fc1", "fc2"}
        qkv = method.index.layer("layers.0.blocks.0.attn.qkv")
        assert float(scores[0, qkv.offset:qkv.offset + qkv.count].sum()) > 0
        assert float(delta.abs()) <= 2e-3 * float(scores.sum())
