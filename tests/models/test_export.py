"""faig export: a BasicSR .pth in the network's own key order."""

from __future__ import annotations

import pytest
import torch

from faig.attribution.filters import FilterIndex
from faig.errors import FaigError
from faig.models.checkpoints import load_model, load_state_dict, save_weights
from faig.models.export import export_basicsr
from faig.models.registry import ArchConfig, build_model


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
