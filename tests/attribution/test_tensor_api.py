"""The tensor-level API (faig.FAIG & co.): shapes, completeness, agreement with the engine, selections."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import faig
from faig import FAIG, AbsoluteChange, FaigError, ModifiedIG, RandomFilters, discriminative, filter_mask
from faig.attribution.faig import faig_scores
from faig.attribution.filters import FilterIndex
from faig.data.layout import Pair
from faig.models.registry import build_model

from faig.models.registry import ArchConfig

TINY = ArchConfig("srresnet", 2, width=8, depth=2)


def _inputs(seed: int, n: int = 2):
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, 12, 12, generator=generator), torch.rand(n, 3, 24, 24, generator=generator)


class TestFAIG:
    def test_shapes_and_agreement_with_the_engine(self, tiny_pair):
        baseline, target = tiny_pair
        lr, hr = _inputs(0)
        scores = FAIG(baseline, target, device="cpu").attribute(lr, hr, n_steps=8)
        total = FilterIndex.from_module(baseline).total
        assert scores.shape == (2, total) and scores.dtype == torch.float32
        pairs = [Pair(f"p{i}", lr[i:i + 1], hr[i:i + 1]) for i in range(2)]
        engine = faig_scores(baseline, target, pairs, "gausslegendre", 8, "cpu")
        torch.testing.assert_close(scores, engine)

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
    def test_modified_ig_abs_and_random(self, tiny_pair):
        baseline, target = tiny_pair
        lr, _ = _inputs(1)
        total = FilterIndex.from_module(baseline).total
        ig = ModifiedIG(baseline, target, device="cpu").attribute(lr, lr.clamp(0.1, 0.9), n_steps=4)
        assert ig.shape == (2, total) and bool((ig >= 0).all())
        change = AbsoluteChange(baseline, target, device="cpu").attribute(lr)
        assert change.shape == (2, total) and torch.equal(change[0], change[1])
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


def test_public_names_are_exported():
    assert set(faig.__all__) >= {"FAIG", "ModifiedIG", "AbsoluteChange", "RandomFilters", "discriminative", "masked",
                                 "modulated", "load_model", "FaigError"}
    assert build_model(TINY) is not None


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
