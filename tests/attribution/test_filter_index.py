"""Filters as addresses: flat index <-> (layer, out, in), the official order and index files."""

import json

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from faig.attribution.filters import FilterIndex, index_sidecar, read_index_file, write_index_file
from faig.errors import FaigError
from faig.models.registry import build_model, preset_arch


@pytest.mark.parametrize("arch, count", [("srresnet", 151_936), ("srcnn_style", 156_224)])
def test_official_counts_at_the_papers_widths(arch, count):
    assert FilterIndex.from_module(build_model(preset_arch("paper", arch))).total == count


def test_official_order_is_state_dict_order_row_major():
    index = FilterIndex.from_module(build_model(preset_arch("paper", "srresnet")))
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
    index = FilterIndex.from_module(build_model(preset_arch("paper", "srresnet")))
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
    index = FilterIndex.from_module(build_model(preset_arch("paper", "srcnn_style")))
    ranking = torch.randperm(index.total, generator=torch.Generator().manual_seed(0))
    write_index_file(tmp_path / "blur_index.txt", ranking, index)
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


def _pair_of_layouts() -> tuple[FilterIndex, FilterIndex]:
    """Two networks with 24 filters each, laid out differently."""
    first = FilterIndex.from_module(nn.Sequential(nn.Conv2d(2, 6, 3), nn.Conv2d(6, 2, 3)))
    second = FilterIndex.from_module(nn.Sequential(nn.Conv2d(4, 3, 3), nn.Conv2d(3, 4, 3)))
    return first, second


def test_the_layout_hash_tells_networks_apart():
    first, second = _pair_of_layouts()
    assert first.total == second.total == 24 and first.layout != second.layout
    again = FilterIndex.from_module(nn.Sequential(nn.Conv2d(2, 6, 5), nn.Conv2d(6, 2, 1)))
    assert again.layout == first.layout  # kernel sizes do not change what a flat index means
    assert FilterIndex.from_json(first.to_json()) == first
    assert first.tie() == {"filters": 24, "layout": first.layout} and len(first.layout) == 16


def test_index_files_carry_their_network_in_a_sidecar(tmp_path):
    index, _ = _pair_of_layouts()
    ranking = torch.randperm(index.total)
    write_index_file(tmp_path / "blur_index.txt", ranking, index)
    assert (tmp_path / "blur_index.txt").read_text() == "".join(f"{i}\n" for i in ranking.tolist())
    assert json.loads(index_sidecar(tmp_path / "blur_index.txt").read_text()) == index.tie()
    assert index_sidecar(tmp_path / "blur_index.txt") == tmp_path / "blur_index.json"
    assert torch.equal(read_index_file(tmp_path / "blur_index.txt", index), ranking)


def test_an_index_file_of_another_network_is_refused(tmp_path):
    first, second = _pair_of_layouts()
    write_index_file(tmp_path / "noise_index.txt", torch.randperm(24), first)
    with pytest.raises(FaigError) as error:
        read_index_file(tmp_path / "noise_index.txt", second)
    assert str(error.value) == (f"{tmp_path / 'noise_index.txt'} ranks 24 filters of another network (layout "
                                f"{first.layout}); this network has 24 (layout {second.layout})")
    big = FilterIndex.from_module(build_model(preset_arch("paper", "srcnn_style")))
    write_index_file(tmp_path / "blur_index.txt", torch.randperm(big.total), big)
    with pytest.raises(FaigError, match=r"ranks 156,224 filters of another network \(layout .*\); this network "
                                        r"has 24 \(layout"):
        read_index_file(tmp_path / "blur_index.txt", first)


def test_official_files_without_a_sidecar_are_read(tmp_path):
    first, second = _pair_of_layouts()
    ranking = torch.randperm(24)
    (tmp_path / "blur_index.txt").write_text("".join(f"{i}\n" for i in ranking.tolist()))
    assert torch.equal(read_index_file(tmp_path / "blur_index.txt", first), ranking)
    assert torch.equal(read_index_file(tmp_path / "blur_index.txt", second), ranking)  # nothing tells them apart


@pytest.mark.parametrize("text, message", [
    ("".join(f"{i}\n" for i in range(8)), "ranks 8 filters; this network has 9"),
    ("".join(f"{i}\n" for i in range(1, 10)), "holds filter index 9, outside this network's 0..8"),
    ("".join(f"{i}\n" for i in [0, 0, 1, 2, 3, 4, 5, 6, 7]), "lists a filter more than once"),
])
def test_official_files_without_a_sidecar_are_checked_against_the_network(tmp_path, text, message):
    index = FilterIndex.from_module(nn.Conv2d(3, 3, 3))
    (tmp_path / "blur_index.txt").write_text(text)
    with pytest.raises(FaigError, match=message):
        read_index_file(tmp_path / "blur_index.txt", index)


def test_a_malformed_sidecar_is_refused(tmp_path):
    index = FilterIndex.from_module(nn.Conv2d(3, 3, 3))
    write_index_file(tmp_path / "blur_index.txt", torch.randperm(9), index)
    (tmp_path / "blur_index.json").write_text("[1, 2]")
    with pytest.raises(FaigError, match="blur_index.json holds no filter count and layout; delete it"):
        read_index_file(tmp_path / "blur_index.txt", index)


def test_expand_refuses_the_wrong_number_of_values():
    index = FilterIndex.from_module(nn.Conv2d(3, 3, 3))
    with pytest.raises(FaigError, match=r"expected 9 filter values, got shape \(8,\)"):
        index.expand(torch.zeros(8))


class TestAnyLayer:
    """Beyond the paper's 2-D convolutions: 1-D/3-D, grouped, transposed convolutions and Linear."""

    def test_every_weight_kind_is_indexed_in_state_order(self):
        from torch import nn

        net = nn.Sequential(nn.Conv1d(2, 3, 3), nn.Conv3d(1, 2, 3), nn.ConvTranspose2d(4, 6, 3, groups=2),
                            nn.Linear(5, 7), nn.Conv2d(4, 4, 3, groups=4))
        index = FilterIndex.from_module(net)
        assert index.layer_shapes() == [("0.weight", 3, 2, 1), ("1.weight", 2, 1, 3), ("2.weight", 4, 3),
                                        ("3.weight", 7, 5, 0), ("4.weight", 4, 1)]
        assert index.total == 6 + 2 + 12 + 35 + 4
        assert FilterIndex.from_json(index.to_json()) == index

    def test_reduce_and_expand_fit_each_weight_shape(self):
        from torch import nn

        net = nn.Sequential(nn.Conv1d(2, 3, 3), nn.Linear(5, 7), nn.Conv3d(1, 2, 3))
        index = FilterIndex.from_module(net)
        ones = {name: torch.ones_like(net.state_dict()[name]) for name in index.names}
        sums = index.reduce(ones)
        assert sums[:6].tolist() == [3.0] * 6 and sums[6:41].tolist() == [1.0] * 35 and sums[41:].tolist() == [27.0] * 2
        expanded = index.expand(torch.arange(index.total, dtype=torch.float32))
        assert expanded["0.weight"].shape == (3, 2, 1)
        assert expanded["1.weight"].shape == (7, 5)
        assert expanded["2.weight"].shape == (2, 1, 1, 1, 1)
        assert float(expanded["1.weight"][1, 2]) == 6 + 1 * 5 + 2

    def test_2d_networks_keep_their_layout_hash(self):
        """The layout hash is stored in every index sidecar: a 2-D network's hash must not change
        (the kernel dims are left out of its layer shapes), or existing sidecars are orphaned."""
        import hashlib
        import json

        from faig.models.registry import ArchConfig, build_model

        index = FilterIndex.from_module(build_model(ArchConfig("srresnet", 2, width=4, depth=1)))
        shapes = [["conv_first.weight", 4, 3], ["body.0.conv1.weight", 4, 4], ["body.0.conv2.weight", 4, 4],
                  ["upconv1.weight", 16, 4], ["conv_hr.weight", 4, 4], ["conv_last.weight", 3, 4]]
        assert json.loads(index.to_json()) == shapes
        assert index.layout == "87fd8bce2297626a"  # pinned: what sidecars written so far hold
        assert index.layout == hashlib.sha256(json.dumps(shapes, sort_keys=True).encode()).hexdigest()[:16]
        assert index.tie() == {"filters": 136, "layout": "87fd8bce2297626a"}


def test_top_count_cuts_as_the_official_scripts():
    """int(N * p / 100): 216 of the embedded srresnet's 21,696 filters at 1% (rounding gave 217)."""
    from faig.models.registry import build_model, preset_arch

    index = FilterIndex.from_module(build_model(preset_arch("embedded", "srresnet")))
    assert index.total == 21_696
    assert [index.top_count(p) for p in (0.5, 1, 5, 100)] == [108, 216, 1084, 21_696]
