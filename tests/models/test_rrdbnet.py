"""ESRGAN's RRDBNet with BasicSR's keys: shapes at x1/x2/x4, and checkpoints read back by shape."""

from __future__ import annotations

import pytest
import torch

from faig.models.registry import ArchConfig, build_model, infer_config


class TestRRDBNet:
    @pytest.mark.parametrize("scale", [1, 2, 4])
    def test_output_size_for_any_input(self, scale):
        model = build_model(ArchConfig("rrdbnet", scale, width=8, depth=1, first_width=4)).eval()
        with torch.no_grad():
            assert model(torch.rand(1, 3, 9, 14)).shape == (1, 3, 9 * scale, 14 * scale)

    @pytest.mark.parametrize("scale", [1, 2, 4])
    def test_state_dict_gives_back_its_config(self, scale):
        config = ArchConfig("rrdbnet", scale, width=8, depth=2, first_width=4)
        assert infer_config(build_model(config).state_dict()) == config

    def test_basicsr_key_names(self):
        keys = list(build_model(ArchConfig("rrdbnet", 4, width=8, depth=2, first_width=4)).state_dict())
        assert keys[:3] == ["conv_first.weight", "conv_first.bias", "body.0.rdb1.conv1.weight"]
        assert "body.1.rdb3.conv5.bias" in keys
        assert keys[-10:] == ["conv_body.weight", "conv_body.bias", "conv_up1.weight", "conv_up1.bias",
                              "conv_up2.weight", "conv_up2.bias", "conv_hr.weight", "conv_hr.bias",
                              "conv_last.weight", "conv_last.bias"]

    def test_dense_block_widths(self):
        state = build_model(ArchConfig("rrdbnet", 4, width=8, depth=1, first_width=4)).state_dict()
        assert [tuple(state[f"body.0.rdb1.conv{i}.weight"].shape[:2]) for i in range(1, 6)] == [
            (4, 8), (4, 12), (4, 16), (4, 20), (8, 24)]
        assert state["conv_first.weight"].shape[1] == 3
        assert build_model(ArchConfig("rrdbnet", 2, width=8, depth=1, first_width=4)).conv_first.weight.shape[1] == 12
