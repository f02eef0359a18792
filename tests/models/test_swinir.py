"""The SwinIR-style attention network: shapes, windows, the shift mask, and its registry entry."""

from __future__ import annotations

import pytest
import torch

from faig.models.registry import ArchConfig, build_model, infer_config
from faig.models.swinir import relative_position_index, shift_mask, window_merge, window_partition


class TestSwinIRLite:
    @pytest.mark.parametrize("scale", [2, 3, 4])
    @pytest.mark.parametrize("size", [(8, 8), (13, 21)])
    def test_any_input_size_and_scale(self, scale, size):
        model = build_model(ArchConfig("swinir", scale, width=8, depth=1)).eval()
        with torch.no_grad():
            out = model(torch.rand(2, 3, *size))
        assert out.shape == (2, 3, size[0] * scale, size[1] * scale)

    def test_starts_as_bilinear_upsampling(self):
        """conv_up starts at zero, so the untrained network is the bilinear skip alone."""
        model = build_model(ArchConfig("swinir", 2, width=8, depth=1)).eval()
        x = torch.rand(1, 3, 9, 10)
        expected = torch.nn.functional.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
        with torch.no_grad():
            torch.testing.assert_close(model(x), expected)

    def test_state_dict_gives_back_its_config(self):
        config = ArchConfig("swinir", 3, width=16, depth=3)
        assert infer_config(build_model(config).state_dict()) == config

    def test_attention_projections_are_linear_weights(self):
        state = build_model(ArchConfig("swinir", 2, width=8, depth=1)).state_dict()
        assert state["layers.0.blocks.0.attn.qkv.weight"].shape == (24, 8)
        assert state["layers.0.blocks.1.mlp.fc2.weight"].shape == (8, 16)
        assert state["layers.0.blocks.0.attn.relative_position_bias_table"].shape == (15 * 15, 4)


class TestWindows:
    def test_partition_and_merge_are_inverse(self):
        x = torch.arange(2 * 16 * 8 * 3, dtype=torch.float32).view(2, 16, 8, 3)
        windows = window_partition(x, 4)
        assert windows.shape == (2 * 4 * 2, 16, 3)
        assert torch.equal(windows[0, 5], x[0, 1, 1])
        assert torch.equal(window_merge(windows, 4, 16, 8), x)

    def test_relative_position_index(self):
        index = relative_position_index(2)
        assert index.shape == (4, 4)
        assert index.diagonal().unique().tolist() == [4]  # offset (0, 0) sits in the table's centre
        assert int(index.max()) == 8

    def test_shift_mask_separates_wrapped_regions(self):
        mask = shift_mask(8, 8, 4, 2)
        assert mask.shape == (4, 16, 16)
        assert not bool(mask[0].any())  # the top-left window holds one region only
        last = mask[3]  # the bottom-right window holds four regions of 2x2 tokens
        assert int((last == 0).sum()) == 4 * 4 * 4
        assert set(last.unique().tolist()) == {-100.0, 0.0}


def test_a_width_the_heads_do_not_divide_is_refused():
    from faig.errors import FaigError

    with pytest.raises(FaigError, match="divisible by its 4 heads"):
        build_model(ArchConfig("swinir", 2, width=10, depth=1))
