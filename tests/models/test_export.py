"""faig export: a BasicSR .pth in the network's own key order."""

from __future__ import annotations

from collections import OrderedDict

import pytest
import torch

from faig.attribution.filters import FilterIndex
from faig.errors import FaigError
from faig.models.checkpoints import load_model, load_state_dict, save_weights
from faig.models.export import basicsr_checkpoint, export_basicsr
from faig.models.registry import ArchConfig, build_model


class TestBasicSRCheckpoint:
    def test_both_entries_keep_the_given_key_order_and_values(self):
        # An order that sorting would change (body.10 < body.2 < conv_first as strings).
        state = {"conv_first.weight": torch.tensor([[1.0, 2.0]]), "body.2.weight": torch.tensor([3.0]),
                 "body.10.weight": torch.tensor([4.0, 5.0])}
        checkpoint = basicsr_checkpoint(state)
        assert list(checkpoint) == ["params_ema", "params"]
        for name in ("params_ema", "params"):
            entry = checkpoint[name]
            assert isinstance(entry, OrderedDict)
            assert list(entry) == ["conv_first.weight", "body.2.weight", "body.10.weight"]
            assert entry["conv_first.weight"].tolist() == [[1.0, 2.0]]
            assert entry["body.2.weight"].tolist() == [3.0]
            assert entry["body.10.weight"].tolist() == [4.0, 5.0]

    def test_tensors_are_detached_and_contiguous_and_the_two_dicts_are_separate(self):
        weight = torch.arange(6.0).view(2, 3).t().requires_grad_()  # a transposed view: not contiguous
        assert not weight.is_contiguous()
        checkpoint = basicsr_checkpoint({"w": weight})
        saved = checkpoint["params_ema"]["w"]
        assert saved.is_contiguous() and not saved.requires_grad and saved.grad_fn is None
        assert saved.tolist() == [[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]]
        assert checkpoint["params"] is not checkpoint["params_ema"]
        checkpoint["params"]["extra"] = torch.zeros(1)
        assert list(checkpoint["params_ema"]) == ["w"]


@pytest.fixture
def deep_weights(tmp_path):
    """An srresnet with 11 blocks: sorted keys put body.10 before body.2."""
    config = ArchConfig("srresnet", 2, width=4, depth=11)
    model = build_model(config)
    path = tmp_path / "deep.safetensors"
    save_weights(path, model, config)
    return path, model


class TestExportBasicSR:
    def test_keys_in_network_order_and_values_unchanged(self, deep_weights, tmp_path):
        path, model = deep_weights
        assert list(load_state_dict(path)) != list(model.state_dict())  # the file's order is sorted
        out = export_basicsr(path, tmp_path / "deep.pth")
        checkpoint = torch.load(out, weights_only=True)
        assert set(checkpoint) == {"params_ema", "params"}
        assert list(checkpoint["params_ema"]) == list(model.state_dict())
        for key, value in model.state_dict().items():
            assert torch.equal(checkpoint["params_ema"][key], value)
            assert torch.equal(checkpoint["params"][key], value)
        assert FilterIndex.from_state(checkpoint["params_ema"]) == FilterIndex.from_module(model)
        again, config = load_model(out)
        assert config == ArchConfig("srresnet", 2, width=4, depth=11)

    def test_bad_outputs(self, deep_weights, tmp_path):
        path, _ = deep_weights
        with pytest.raises(FaigError, match="ends in .pth"):
            export_basicsr(path, tmp_path / "x.safetensors")
        (tmp_path / "dir.pth").mkdir()
        with pytest.raises(FaigError):
            export_basicsr(path, tmp_path / "dir.pth")
        with pytest.raises(FaigError, match="not found"):
            export_basicsr(tmp_path / "missing.safetensors", tmp_path / "y.pth")
        assert not (tmp_path / "y.pth").exists()
