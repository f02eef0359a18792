"""Filters as addresses: flat index <-> (layer, out, in), the official order and index files."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from faig.attribution.filters import FilterIndex, read_index_file, write_index_file
from faig.errors import FaigError
from faig.models.registry import PAPER_ARCHS, build_model


@pytest.mark.parametrize("arch, count", [("srresnet", 151_936), ("srcnn_style", 156_224)])
def test_official_counts_at_the_papers_widths(arch, count):
    assert FilterIndex.from_module(build_model(PAPER_ARCHS[arch])).total == count


def test_official_order_is_state_dict_order_row_major():
    index = FilterIndex.from_module(build_model(PAPER_ARCHS["srresnet"]))
    assert index.names[:3] == ["conv_first.weight", "body.0.conv1.weight", "body.0.conv2.weight"]
    assert index.names[-3:] == ["upconv1.weight", "conv_hr.weight", "conv_last.weight"]
    assert index.locate(0) == ("conv_first.weight", 0, 0)
    assert index.locate(3) == ("conv_first.weight", 1, 0)
    assert index.locate(192) == ("body.0.conv1.weight", 0, 0)
    assert index.locate(192 + 65) == ("body.0.conv1.weight", 1, 1)
    assert index.locate(index.total - 1) == ("conv_last.weight", 2, 63)


def test_grouped_convolutions_count_filters_per_group():
    module = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Conv2d(4, 6, 3, groups=2))
    index = FilterIndex.from_module(module)
    assert index.total == 3 * 4 + 6 * 2
    assert index.locate(12 + 5) == ("1.weight", 2, 1)


@settings(max_examples=50, deadline=None)
@given(flat=st.integers(0, 151_935))
def test_flat_index_round_trips(flat):
    index = FilterIndex.from_module(build_model(PAPER_ARCHS["srresnet"]))
    assert index.flat(*index.locate(flat)) == flat


def test_reduce_sums_each_filter_in_official_order():
    module = nn.Sequential(nn.Conv2d(2, 3, 3), nn.Conv2d(3, 1, 1))
    index = FilterIndex.from_module(module)
    values = {k: torch.rand_like(v) for k, v in module.state_dict().items()}
    reduced = index.reduce(values)
    for flat in range(index.total):
        name, out, inp = index.locate(flat)
        assert reduced[flat].item() == pytest.approx(values[name][out, inp].sum().item())


def test_index_files_round_trip(tmp_path):
    index = FilterIndex.from_module(build_model(PAPER_ARCHS["srcnn_style"]))
    ranking = torch.randperm(index.total, generator=torch.Generator().manual_seed(0))
    write_index_file(tmp_path / "blur_index.txt", ranking)
    assert torch.equal(read_index_file(tmp_path / "blur_index.txt", index), ranking)
    assert (tmp_path / "blur_index.txt").read_text().splitlines()[0] == str(int(ranking[0]))


@pytest.mark.parametrize("text", ["1\n2\nx\n", "-1\n", "999999999\n", ""])
def test_bad_index_files_are_refused(tmp_path, text):
    index = FilterIndex.from_module(nn.Conv2d(3, 3, 3))
    (tmp_path / "noise_index.txt").write_text(text)
    with pytest.raises(FaigError):
        read_index_file(tmp_path / "noise_index.txt", index)
    with pytest.raises(FaigError):
        index.locate(index.total)
