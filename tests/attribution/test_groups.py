"""Units larger than one filter: output channels and attention heads (issue 15)."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from faig import FaigError, attention_heads, filter_groups, group_scores
from faig.attribution.filters import FilterIndex
from faig.models.registry import ArchConfig, build_model
from faig.models.swinir import HEADS


def swinir():
    torch.manual_seed(0)
    return build_model(ArchConfig("swinir", 2, width=8, depth=1))


class TestAttentionHeads:
    def test_finds_every_attention_module_with_its_head_width(self):
        heads = attention_heads(swinir())
        assert heads and all(name.endswith(".attn") for name in heads)
        assert set(heads.values()) == {(HEADS, 8 // HEADS)}

    def test_a_network_without_attention_has_none(self):
        assert attention_heads(build_model(ArchConfig("srresnet", 2, width=4, depth=1))) == {}


class TestFilterGroups:
    def test_output_channels_partition_each_layer_by_rows(self):
        network = build_model(ArchConfig("srresnet", 2, width=4, depth=1))
        index = FilterIndex.from_module(network)
        grouping = filter_groups(index)
        assert len(grouping.labels) == sum(layer.out_channels for layer in index.layers)
        layer = index.layer("body.0.conv1.weight")
        out, inp = 2, 3
        assert grouping.labels[int(grouping.ids[index.flat(layer.name, out, inp)])] == "body.0.conv1[out 2]"
        assert len(set(grouping.ids[layer.offset:layer.offset + layer.count].tolist())) == layer.out_channels

    def test_a_head_holds_its_query_key_value_rows_and_its_proj_columns(self):
        network = swinir()
        index = FilterIndex.from_module(network)
        grouping = filter_groups(index, "head", attention_heads(network))
        module = "layers.0.blocks.0.attn"
        width = 8 // HEADS
        head = 1
        label = grouping.labels.index(f"{module}[head {head}]")
        members = {index.locate(int(flat)) for flat in (grouping.ids == label).nonzero().flatten()}
        qkv_rows = {part * 8 + head * width + r for part in range(3) for r in range(width)}
        expected = {(f"{module}.qkv.weight", o, i) for o in qkv_rows for i in range(8)}
        expected |= {(f"{module}.proj.weight", o, i) for o in range(8) for i in range(head * width, (head + 1) * width)}
        assert members == expected
        assert "conv_first[out 0]" in grouping.labels  # layers outside attention: by output channel

    def test_bad_requests_are_refused(self):
        index = FilterIndex.from_module(build_model(ArchConfig("srresnet", 2, width=4, depth=1)))
        with pytest.raises(FaigError, match="unknown grouping 'layer'"):
            filter_groups(index, "layer")
        with pytest.raises(FaigError, match="has none"):
            filter_groups(index, "head", {})


class TestGroupScores:
    @settings(max_examples=20, deadline=None)
    @given(st.integers(1, 3), st.sampled_from(["output_channel", "head"]))
    def test_unit_scores_sum_to_the_filter_scores(self, rows, by):
        network = swinir()
        index = FilterIndex.from_module(network)
        grouping = filter_groups(index, by, attention_heads(network))
        scores = torch.rand(rows, index.total, generator=torch.Generator().manual_seed(rows), dtype=torch.float64)
        units = group_scores(scores, grouping)
        assert units.shape == (rows, len(grouping.labels))
        assert torch.allclose(units.sum(-1), scores.sum(-1))
        assert torch.allclose(group_scores(scores[0], grouping), units[0])

    def test_scores_of_another_network_are_refused(self):
        grouping = filter_groups(FilterIndex.from_module(swinir()))
        with pytest.raises(FaigError, match="filters, the grouping"):
            group_scores(torch.zeros(5), grouping)
