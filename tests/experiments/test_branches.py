import json
from dataclasses import replace

import pytest
import torch
from torch import nn

from faig.data.splits import NamedImage
from faig.errors import FaigError
from faig.experiments.branches import (QUICK, BranchesConfig, budgets, evaluation_pairs, format_branches, run_branches,
                                       setting)
from faig.experiments.flops import complexity, match_one_branch, srresnet_complexity
from faig.models.dan import DAN, DANConfig
from faig.models.dasr import DASR, DASRConfig
from faig.models.registry import ArchConfig
from faig.report.branches import write_branches_report

TINY = BranchesConfig(
    steps=2, batch_size=2, gt_size=24, seeds=1, input_size=16, test_stride=19, tests_per_image=1,
    dan=DANConfig(width=8, blocks=1, estimator_width=4, estimator_blocks=1, iterations=2),
    dasr=DASRConfig(width=8, groups=1, blocks=1, encoder_width=4, queue_size=8))


def images(count: int = 2, size: int = 40) -> list[NamedImage]:
    generator = torch.Generator().manual_seed(0)
    return [NamedImage(f"img{i}", torch.rand(1, 3, size, size, generator=generator)) for i in range(count)]


def test_flop_counter_counts_two_per_multiply_add_of_a_convolution():
    conv = nn.Conv2d(3, 7, 3, padding=1)
    assert complexity(conv, input_size=11).flops == 2 * 3 * 7 * 3 * 3 * 11 * 11  # bias not counted
    grouped = nn.Conv2d(3, 6, 3, padding=1, groups=3)
    assert complexity(grouped, input_size=10).flops == 2 * (3 // 3) * 6 * 3 * 3 * 10 * 10
    assert complexity(conv, 11).params == 3 * 7 * 9 + 7


def test_srresnet_flops_are_the_sum_over_its_convolutions():
    w, s, h = 8, 2, 12
    lr, hr = h * h, (s * h) ** 2
    expected = 2 * 9 * (3 * w * lr + 2 * 2 * w * w * lr + w * w * s * s * lr + w * w * hr + w * 3 * hr)
    assert srresnet_complexity(ArchConfig("srresnet", s, width=w, depth=2), input_size=h).flops == expected


def test_frozen_parameters_are_not_counted():
    net = DASR(TINY.dasr)
    frozen = sum(p.numel() for p in net.key_encoder.parameters())
    assert complexity(net, 16).params == sum(p.numel() for p in net.parameters()) - frozen


@pytest.mark.parametrize("method", ["dan", "dasr"])
def test_matching_picks_a_one_branch_srresnet_within_five_percent(method):
    target = complexity(DAN(TINY.dan) if method == "dan" else DASR(TINY.dasr), 16)
    match = match_one_branch(target, 2, width=8)
    assert abs(match.flop_error) <= 0.05
    assert match.arch.width == 8
    assert match.complexity == srresnet_complexity(match.arch, 16)
    neighbours = [srresnet_complexity(replace(match.arch, depth=match.arch.depth + d), 16).flops for d in (-1, 1)]
    assert all(abs(f - target.flops) >= abs(match.complexity.flops - target.flops) for f in neighbours)


def test_matching_changes_the_width_when_blocks_alone_cannot_reach_five_percent():
    target = srresnet_complexity(ArchConfig("srresnet", 2, width=24, depth=2), 16)
    match = match_one_branch(target, 2, width=8, widths=(8, 16, 24, 32), max_depth=8)
    assert match.arch.width in (16, 24, 32) and abs(match.flop_error) <= 0.05
    with pytest.raises(FaigError, match="within"):
        match_one_branch(target, 2, width=8, widths=(8,), max_depth=8)


def test_default_budgets_match_within_five_percent():
    found = budgets(QUICK)
    for method, (target, match) in found.items():
        assert abs(match.flop_error) <= 0.05, method
    assert found["dasr"][1].arch == ArchConfig("srresnet", 2, width=32, depth=6)


def test_settings_follow_each_methods_protocol():
    dan, dasr = setting("dan", "blur+noise", 4), setting("dasr", "blur", 2)
    assert dan.train.blur_sigmas[-1] == 4.0 and dan.train.noise_prob == 1.0 and dan.train.noise_sigmas[-1] == 0.1
    assert sorted({d.blur_sigma for d in dan.test}) == pytest.approx([1.8 + 0.2 * i for i in range(8)])
    assert all(d.noise_sigma is not None for d in dan.test)
    assert [d.blur_sigma for d in dasr.test] == [0.3, 0.6, 0.9, 1.2, 1.5, 1.8]
    with pytest.raises(FaigError, match="setting"):
        setting("dan", "noise", 2)


def test_evaluation_pairs_are_fixed_and_spread_over_the_degradations():
    degradations = setting("dasr", "blur+noise", 2).test
    first = evaluation_pairs(images(3, 24), degradations, 2)
    again = evaluation_pairs(images(3, 24), degradations, 2)
    assert [p.name for p in first] == ["img0/0", "img0/1", "img1/2", "img1/3", "img2/4", "img2/5"]
    assert all(torch.equal(a.lr, b.lr) for a, b in zip(first, again))
    assert first[0].lr.shape == (1, 3, 12, 12)


def test_bad_configurations_are_refused():
    with pytest.raises(FaigError, match="scale"):
        BranchesConfig(scale=3)
    with pytest.raises(FaigError, match="steps"):
        replace(TINY, steps=0)
    with pytest.raises(FaigError, match="method"):
        replace(TINY, methods=("ikc",))


def test_run_branches_writes_the_table_and_the_figure(tmp_path):
    """Eight 2-step trainings of tiny networks: about 5 s on the 2-core CPU beside two trainings."""
    result = run_branches(tmp_path / "out", config=TINY, device="cpu", progress=False)
    write_branches_report(result, tmp_path / "out")
    saved = json.loads((tmp_path / "out" / "branches.json").read_text())
    assert saved["table"] == json.loads(json.dumps(result["table"]))
    assert [(row["method"], row["setting"]) for row in saved["table"]] == [
        ("dan", "blur"), ("dan", "blur+noise"), ("dasr", "blur"), ("dasr", "blur+noise")]
    for row in saved["table"]:
        for kind in ("two_branch", "one_branch"):
            assert row[kind]["flops"] > 0 and row[kind]["params"] > 0 and len(row[kind]["psnrs"]) == 1
            assert 10 < row[kind]["psnr"]["mean"] < 50
        assert abs(row["one_branch"]["flop_error"]) <= 0.05
        assert row["test_pairs"] == 2
    assert saved["config"]["steps"] == 2
    png = (tmp_path / "out" / "figures" / "fig1_psnr_vs_flops.png").read_bytes()
    assert png.startswith(b"\x89PNG")
    text = format_branches(saved)
    assert "one seed: no spread" in text and "dasr  blur+noise" in text and "±" not in text
    assert len(list((tmp_path / "out" / "runs").glob("*_seed0.safetensors"))) == 8
    assert not list((tmp_path / "out" / "runs").glob("checkpoints/*"))
    report = (tmp_path / "out" / "report.md").read_text()
    assert "| DASR | blur+noise |" in report and "![Fig. 1: PSNR against FLOPs" in report
    assert "one seed (an interim table: no spread)" in report and " ± " not in report
    assert (tmp_path / "out" / "report.html").is_file()


def test_table1_judges_comparable_psnr_by_the_fixed_margin():
    """The paper's observation holds in a setting when one branch is at most 0.1 dB below two."""
    from faig.report.branches import branches_blocks
    from faig.report.blocks import Paragraph, Table

    def row(two: float, one: float) -> dict:
        def net(psnr: float) -> dict:
            return {"network": "DAN-style", "psnr": {"mean": psnr, "std": 0.01},
                    "psnrs": [psnr - 0.01, psnr, psnr + 0.01], "flops": 1e9, "params": 5e4,
                    "train_seconds": [900.0], "devices": ["cuda"]}
        return {"method": "dan", "setting": "blur", "bicubic_psnr": 25.0, "two_branch": net(two), "one_branch": net(one),
                "paper": {"two_branch": {"mean": 26.168}, "one_branch": {"mean": 26.182}}}

    result = {"config": {"seeds": 3, "steps": 10_000, "tolerance": 0.05}, "seconds": 600.0, "device": "cuda",
              "table": [row(26.2, 26.11), row(26.2, 26.09)]}
    blocks = branches_blocks(result)
    table = next(b for b in blocks if isinstance(b, Table))
    assert [r[-1].holds for r in table.rows] == [True, False]
    assert [r[4] for r in table.rows] == ["-0.090", "-0.110"]
    assert table.rows[0][2:4] == ["26.200 ± 0.010", "26.110 ± 0.010"]
    summary = next(b for b in blocks if isinstance(b, Paragraph)).text
    assert "it holds in 1 of 2 settings" in summary and "Compute: 1.0 hours of training on cuda." in summary
    assert "the one-branch network has 1.0x DAN-style's" in summary and "sample std (n − 1)" in summary


def test_run_branches_reuses_the_runs_it_kept(tmp_path, monkeypatch):
    import faig.experiments.branches as branches

    config = replace(TINY, methods=("dasr",), settings=("blur",))
    first = run_branches(tmp_path, config=config, device="cpu", progress=False)
    monkeypatch.setattr(branches, "train_network", lambda *args, **kwargs: pytest.fail("trained again"))
    again = run_branches(tmp_path, config=config, device="cpu", progress=False)
    assert again["table"] == first["table"]
    monkeypatch.undo()
    changed = run_branches(tmp_path, config=replace(config, lr=1e-3), device="cpu", progress=False)
    assert changed["config"]["lr"] == 1e-3


def test_trainings_run_seed_by_seed_so_fewer_seeds_come_first():
    """A shard reaches every network's first seed before any second one: the trainings of a run with
    fewer seeds (an interim Table 1) are the first ones of the full run."""
    import faig.experiments.branches as branches

    full = branches.trainings(replace(TINY, seeds=3))
    for seeds in (1, 2):
        fewer = branches.trainings(replace(TINY, seeds=seeds))
        assert full[:len(fewer)] == fewer
    assert len(full) == 3 * len(branches.trainings(replace(TINY, seeds=1))) == len(set(full))


def test_shards_train_every_network_once_and_the_table_reads_them(tmp_path, monkeypatch):
    """`faig branches --shard i/n` lets n processes share a GPU; the unsharded run then trains nothing."""
    import faig.experiments.branches as branches
    from faig.errors import FaigError

    config = replace(TINY, methods=("dan",))
    names = [run_branches(tmp_path, config=config, device="cpu", progress=False, shard=(i, 3))["trained"]
             for i in range(3)]
    assert sorted(n for shard in names for n in shard) == sorted(
        branches.run_file(tmp_path, *t).name for t in branches.trainings(config))
    assert [len(shard) for shard in names] == [2, 1, 1]
    monkeypatch.setattr(branches, "train_network", lambda *args, **kwargs: pytest.fail("trained again"))
    assert branches.kept_trainings(tmp_path, config) == 4
    result = run_branches(tmp_path, config=config, device="cpu", progress=False)
    assert len(result["table"]) == 2 and result["table"][0]["two_branch"]["devices"] == ["cpu"]
    monkeypatch.setattr(branches, "TABLE1_CODE_VERSION", branches.TABLE1_CODE_VERSION + 1)
    assert branches.kept_trainings(tmp_path, config) == 0  # runs of another version are not reused
    with pytest.raises(FaigError, match="shard 3/3"):
        run_branches(tmp_path, config=config, device="cpu", progress=False, shard=(3, 3))
