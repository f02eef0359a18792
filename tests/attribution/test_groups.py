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

    def test_a_unit_is_the_sum_of_exactly_its_filters(self):
        """One output channel's unit is the sum of that row's filters (flat offset + out * in + i, the
        official row-major order), and one head's unit the sum over its qkv rows and proj columns; both
        from the layers' offsets and widths, not from the grouping's ids."""
        network = swinir()
        index = FilterIndex.from_module(network)
        scores = torch.rand(index.total, generator=torch.Generator().manual_seed(7), dtype=torch.float64)

        by_channel = filter_groups(index)
        fc2 = index.layer("layers.0.blocks.0.mlp.fc2")  # 8 outputs x 16 inputs: rows and columns differ
        assert (fc2.offset, fc2.out_channels, fc2.in_channels) == (408, 8, 16)
        members = [fc2.offset + 3 * fc2.in_channels + i for i in range(16)]
        unit = group_scores(scores, by_channel)[by_channel.labels.index("layers.0.blocks.0.mlp.fc2[out 3]")]
        assert float(unit) == pytest.approx(float(scores[members].sum()), rel=1e-12)
        conv = index.layer("conv_up")  # a K x K convolution, 12 x 8
        members = [conv.offset + 5 * conv.in_channels + i for i in range(conv.in_channels)]
        unit = group_scores(scores, by_channel)[by_channel.labels.index("conv_up[out 5]")]
        assert float(unit) == pytest.approx(float(scores[members].sum()), rel=1e-12)

        by_head = filter_groups(index, "head", attention_heads(network))
        module, head, width = "layers.0.blocks.1.attn", 2, 8 // HEADS
        qkv, proj = index.layer(f"{module}.qkv"), index.layer(f"{module}.proj")
        members = [qkv.offset + (part * 8 + head * width + r) * qkv.in_channels + i
                   for part in range(3) for r in range(width) for i in range(qkv.in_channels)]
        members += [proj.offset + o * proj.in_channels + c
                    for o in range(proj.out_channels) for c in range(head * width, (head + 1) * width)]
        assert len(set(members)) == 3 * width * 8 + 8 * width
        unit = group_scores(scores, by_head)[by_head.labels.index(f"{module}[head {head}]")]
        assert float(unit) == pytest.approx(float(scores[members].sum()), rel=1e-12)
        unit = group_scores(scores, by_head)[by_head.labels.index("conv_up[out 5]")]  # outside attention
        assert float(unit) == pytest.approx(float(scores[[conv.offset + 5 * 8 + i for i in range(8)]].sum()),
                                            rel=1e-12)

    def test_scores_of_another_network_are_refused(self):
        grouping = filter_groups(FilterIndex.from_module(swinir()))
        with pytest.raises(FaigError, match="filters, the grouping"):
            group_scores(torch.zeros(5), grouping)
