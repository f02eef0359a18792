"""The paper-regime search's selection machinery (benchmarks/paper_regime.py, issue 10): the plateau
test, the rule, the candidates' configurations on disk, and what adoption copies."""

import json

import pytest

from faig.training.config import load_config
from faig.training.trainer import default_name


def history(values: list[float]) -> list[dict]:
    return [{"step": 1000 * (k + 1), "val_psnr": {"clean": value}} for k, value in enumerate(values)]


def stage(state: str, gain: float | None) -> dict:
    return {"state": state, "plateau_gain_db": {"clean": gain}}


class TestPlateau:
    def test_the_gain_is_over_the_last_fifth_of_the_validations(self, regime):
        values = [30.0 + 0.1 * k for k in range(10)]  # 10 validations: the last fifth spans the last 2 steps
        assert regime.plateau_gain(history(values), "clean") == pytest.approx(0.2)

    def test_fewer_than_five_validations_are_not_judged(self, regime):
        assert regime.plateau_gain(history([30.0, 31.0, 32.0, 33.0]), "clean") is None

    @pytest.mark.parametrize("stages, verdict", [
        ({"baseline": stage("finished", 0.02), "target": stage("finished", 0.049)}, True),
        ({"baseline": stage("finished", 0.02), "target": stage("finished", 0.05)}, False),
        ({"baseline": stage("finished", 0.06), "target": stage("at step 10", 0.0)}, False),  # no later than that
        ({"baseline": stage("finished", 0.02), "target": stage("at step 10", 0.3)}, None),  # a running stage
        ({"baseline": stage("finished", None), "target": stage("finished", 0.0)}, False),  # too few validations
    ])
    def test_the_rule_needs_every_finished_stage_under_the_bar(self, regime, stages, verdict):
        assert regime.passes_rule(stages) is verdict


@pytest.mark.parametrize("name", [
    "srresnet_r1", "srcnn_style_r1", "srcnn_style_r2", "srcnn_style_r3", "swinir_r1", "swinir_r2",
    "srresnet_jpeg_r1", "srresnet_jpeg_r2", "srcnn_style_r4", "srcnn_style_r5", "srresnet_jpeg_r3",
    "srresnet_jpeg_r4", "srresnet_jpeg_r5"])
def test_each_candidates_configs_on_disk_are_its_recipe(regime, name):
    """`faig train --config` trains what the script describes (the files were written once, then trained)."""
    assert name in regime.CANDIDATES
    for config in regime.candidate_configs(name).values():
        assert load_config(regime.HERE / name / f"{default_name(config)}.config.json") == config


def test_warm_restarts_continue_their_source_in_the_same_stage(regime):
    assert regime.warm_start_chain("srcnn_style_r3") == ["srcnn_style_r2"]
    assert regime.warm_start_chain("swinir_r2") == ["swinir_r1"]
    assert regime.warm_start_chain("srresnet_r1") == []
    # r4 continues r3's target and shares r3's baseline, itself a restart of r2's
    assert regime.earlier_cycles("srcnn_style_r4", "target") == ["srcnn_style_r3"]
    assert regime.earlier_cycles("srcnn_style_r4", "baseline") == ["srcnn_style_r2"]
    assert regime.earlier_cycles("swinir_r2", "baseline") == []
    # r5 restarts r3's baseline (so r2's and r3's are its earlier cycles) and fine-tunes its own target
    assert regime.earlier_cycles("srcnn_style_r5", "baseline") == ["srcnn_style_r2", "srcnn_style_r3"]
    assert regime.earlier_cycles("srcnn_style_r5", "target") == []
    assert {config.synthetic_share for config in regime.candidate_configs("srcnn_style_r5").values()} == {0.25}
    assert regime.candidate_configs("srcnn_style_r4")["target"].synthetic_share == 0.0
    # the wider mix's r3 continues r2's target with dead leaves on the target alone (its baseline is shared)
    assert regime.earlier_cycles("srresnet_jpeg_r3", "target") == ["srresnet_jpeg_r2"]
    jpeg = regime.candidate_configs("srresnet_jpeg_r3")
    assert (jpeg["baseline"].synthetic_share, jpeg["target"].synthetic_share, jpeg["target"].lr) == (0.0, 0.25, 5e-5)
    # r4 fine-tunes the shared baseline afresh, half its target's patches dead leaves
    jpeg = regime.candidate_configs("srresnet_jpeg_r4")
    assert regime.earlier_cycles("srresnet_jpeg_r4", "target") == []
    assert jpeg["baseline"] == regime.candidate_configs("srresnet_r1")["baseline"]
    assert (jpeg["target"].synthetic_share, jpeg["target"].lr, jpeg["target"].degradations.jpeg_prob) == (0.5, 1e-4, 0.5)
    r1, r2 = (regime.candidate_configs(name) for name in ("swinir_r1", "swinir_r2"))
    assert r2["baseline"] == r1["baseline"]  # shared
    assert (r2["target"].lr, r2["target"].channel_shuffle, r1["target"].channel_shuffle) == (5e-5, True, False)


def judged(target_gain: float) -> dict:
    return {"baseline": dict(stage("finished", 0.005), history=[]),
            "target": dict(stage("finished", target_gain), history=[{"val_psnr": {"clean": 33.0}}])}


@pytest.mark.parametrize("name, out, sources", [
    # swinir_r2: the baseline is swinir_r1's (shared), r1's target becomes r2's first cycle
    ("swinir_r2", ["swinir_r1"], {"swinir_baseline": "swinir_r1/swinir_baseline",
                                  "swinir_target": "swinir_r2/swinir_target",
                                  "swinir_target_cycle1": "swinir_r1/swinir_target"}),
    # srcnn_style_r4: both stages have an earlier cycle, the shared baseline's coming from its owner's chain
    ("srcnn_style_r4", ["srcnn_style_r1", "srcnn_style_r2", "srcnn_style_r3"],
     {"srcnn_style_baseline": "srcnn_style_r3/srcnn_style_baseline",
      "srcnn_style_baseline_cycle1": "srcnn_style_r2/srcnn_style_baseline",
      "srcnn_style_target": "srcnn_style_r4/srcnn_style_target",
      "srcnn_style_target_cycle1": "srcnn_style_r3/srcnn_style_target"}),
    # srcnn_style_r6: the baseline shared from r5, itself a restart of r3's (a restart of r2's); the target r5's continued
    ("srcnn_style_r6", ["srcnn_style_r1", "srcnn_style_r2", "srcnn_style_r3", "srcnn_style_r4", "srcnn_style_r5"],
     {"srcnn_style_baseline": "srcnn_style_r5/srcnn_style_baseline",
      "srcnn_style_baseline_cycle1": "srcnn_style_r2/srcnn_style_baseline",
      "srcnn_style_baseline_cycle2": "srcnn_style_r3/srcnn_style_baseline",
      "srcnn_style_target": "srcnn_style_r6/srcnn_style_target",
      "srcnn_style_target_cycle1": "srcnn_style_r5/srcnn_style_target"}),
])
def test_adopting_a_restarted_stage_ships_its_earlier_cycles(regime, tmp_path, monkeypatch, name, out, sources):
    """Adoption copies each stage from the folder that trained it, and a warm restart's earlier cosine
    cycles as ``<stem>_cycle<i>``; the evaluation is rewritten."""
    here, embedded = tmp_path / "paper_regime", tmp_path / "embedded"
    for source in sources.values():
        (here / source).parent.mkdir(parents=True, exist_ok=True)
        for suffix in (".safetensors", ".json"):
            (here / f"{source}{suffix}").write_text(source)
    monkeypatch.setattr(regime, "HERE", here)
    monkeypatch.setattr("faig.models.registry.EMBEDDED_WEIGHTS", embedded)
    monkeypatch.setattr("faig.evaluate.evaluate_models", lambda preset, split: {"split": split})
    monkeypatch.setattr(regime, "candidate_test_psnr", lambda candidate: CLEARING)
    monkeypatch.setattr(regime, "bicubic_clean_psnr", lambda: 30.0)
    report = {"candidates": {other: judged(0.067 if other in out else 0.01) for other in regime.CANDIDATES}}
    regime.adopt(name, report)
    shipped = {path.name: path.read_text() for path in embedded.iterdir()}
    assert shipped == {**{f"{stem}{suffix}": source for stem, source in sources.items()
                          for suffix in (".safetensors", ".json")},
                       "eval_test.json": json.dumps({"split": "test"}, indent=2) + "\n"}


CLEARING = {"baseline": {"clean": 32.0, "blur": 26.0, "noise": 20.0}, "target": {"clean": 31.0, "blur": 28.0, "noise": 24.0}}
MISSING = {"baseline": CLEARING["baseline"], "target": dict(CLEARING["target"], clean=30.46)}  # clean -1.54


def test_a_candidate_that_misses_a_mark_is_not_adopted(regime, monkeypatch):
    """srcnn_style_r4's case: chosen by the rule, but its target lost 1.54 dB on clean test inputs."""
    monkeypatch.setattr(regime, "candidate_test_psnr", lambda candidate: MISSING)
    monkeypatch.setattr(regime, "bicubic_clean_psnr", lambda: 30.0)
    report = {"candidates": {other: judged(0.01 if other == "srcnn_style_r4" else 0.067) for other in regime.CANDIDATES}}
    with pytest.raises(SystemExit, match="misses the blind-SR marks on the test split: clean -1.54 < -1.5"):
        regime.adopt("srcnn_style_r4", report)


class Adopted(Exception):
    """Raised where adoption starts copying: the rule let the candidate through."""


def start_copying(*paths):
    raise Adopted()


@pytest.mark.parametrize("name, means, missing, message", [
    # srresnet_jpeg_r5 draws noise and JPEG as one choice, r4 independently: both restore JPEG, so they compete
    ("srresnet_jpeg_r5", {"srresnet_jpeg_r4": 30.1, "srresnet_jpeg_r5": 30.0}, (),
     r"srresnet_jpeg_r4 has the better mean target validation PSNR \(30.100 against 30.000 dB\) and clears"),
    # ... but not with the blur and noise target, which restores no JPEG
    ("srresnet_jpeg_r5", {"srresnet_r1": 31.0, "srresnet_jpeg_r5": 30.0}, (), None),
    # a better one that misses a mark is out, as one that has not plateaued (srcnn_style_r4's case)
    ("srcnn_style_r5", {"srcnn_style_r4": 30.003, "srcnn_style_r5": 30.0}, ("srcnn_style_r4",), None),
    ("srcnn_style_r5", {"srcnn_style_r4": 30.003, "srcnn_style_r5": 30.0}, (), "srcnn_style_r4 has the better"),
])
def test_the_rule_compares_the_candidates_that_plateaued_and_clear_the_marks(regime, monkeypatch, name, means,
                                                                              missing, message):
    """Rivals are the candidates of the same architecture whose targets restore the same kinds, that
    passed the plateau test and clear the blind-SR marks; the best mean target validation PSNR wins."""
    monkeypatch.setattr(regime, "candidate_test_psnr",
                        lambda candidate: MISSING if candidate in missing else CLEARING)
    monkeypatch.setattr(regime, "bicubic_clean_psnr", lambda: 30.0)
    monkeypatch.setattr(regime, "copy_file", start_copying)
    report = {"candidates": {other: judged(0.01 if other in means else 0.067) for other in regime.CANDIDATES}}
    for candidate, mean in means.items():
        report["candidates"][candidate]["target"]["history"] = [{"val_psnr": {"clean": mean}}]
    with pytest.raises(Adopted if message is None else SystemExit, **({} if message is None else {"match": message})):
        regime.adopt(name, report)


def test_the_candidate_row_shows_luma_chroma_and_detail(regime):
    """Each row shows the luma / chroma gains and the detail its stages keep on clean inputs, a wider
    mix's row those on JPEG inputs too; a candidate without test scores, or a stage without plateau
    gains yet, shows n/a."""
    entry = {"steps": 10, "lr": 1e-4, "state": "finished", "plateau_gain_db": {"clean": 0.01}}
    colour = {"baseline": {"Y": 33.0, "Cb": 40.0, "Cr": 41.0}, "target": {"Y": 32.0, "Cb": 37.5, "Cr": 38.0}}
    jpeg_colour = {"baseline": {"Y": 30.0, "Cb": 35.0, "Cr": 36.0}, "target": {"Y": 30.25, "Cb": 34.5, "Cr": 35.0}}
    table = {"srresnet_jpeg_r3": {"eligible": True, "stages": {"baseline": entry, "target": entry},
                                  "test_psnr": {"baseline": dict(CLEARING["baseline"], jpeg=28.0),
                                                "target": dict(CLEARING["target"], jpeg=28.1)},
                                  "test_colour_psnr": colour, "test_jpeg_colour_psnr": jpeg_colour,
                                  "test_detail_kept": {"baseline": 0.4372, "target": 0.286},
                                  "test_jpeg_detail_kept": {"baseline": 0.871, "target": 0.707},
                                  "missed_marks": ["jpeg +0.10 < +0.5"]},
             "srcnn_style_r5": {"eligible": None, "stages": {"baseline": entry, "target": dict(
                 entry, state="not started", plateau_gain_db={"clean": None})}}}
    rows = regime.candidate_markdown(table).splitlines()[-2:]
    assert ("| -1.00 / +2.00 / +4.00 / +0.10 | -1.00 / -2.50; JPEG +0.25 / -0.50 | 0.437 → 0.286; JPEG 0.871 → 0.707 | "
            "misses jpeg +0.10 < +0.5 |") in rows[0]
    assert "| baseline clean +0.010; target n/a | not yet | n/a | n/a | n/a | n/a | n/a |" in rows[1]


def test_the_table_keeps_logged_quick_findings_unless_given_new_ones(regime, tmp_path, monkeypatch):
    """A rerun of `table` for a new candidate keeps the quick findings logged for earlier ones (their
    results files may be long gone); a results file given with --quick replaces them."""
    monkeypatch.setattr(regime, "bicubic_clean_psnr", lambda: 30.0)
    monkeypatch.setattr(regime, "candidate_weights", lambda name: {"target": tmp_path / "absent.safetensors"})
    entry = {"steps": 10, "lr": 1e-4, "state": "finished", "plateau_gain_db": {"clean": 0.01},
             "history": [{"val_psnr": {"clean": 33.0}}]}
    report = {"selection_rule": "the rule", "candidates": {name: {"baseline": entry, "target": entry}
                                                           for name in ("srresnet_r1", "swinir_r2")}}
    out_json, out_md = tmp_path / "candidates.json", tmp_path / "candidates.md"
    logged = {"holding": 7, "total": 11, "failing": ["a claim"]}
    out_json.write_text(json.dumps({"candidates": {"srresnet_r1": {"quick_findings": logged}}}))
    quick = tmp_path / "results.json"
    quick.write_text(json.dumps({"findings": [{"arch": "swinir", "holds": True, "claim": "x"},
                                              {"arch": "srresnet", "holds": False, "claim": "y"}]}))
    table = regime.candidate_table(report, {"swinir_r2": quick}, out_json, out_md)
    assert table["srresnet_r1"]["quick_findings"] == logged
    assert table["swinir_r2"]["quick_findings"] == {"holding": 1, "total": 1, "failing": []}
    assert json.loads(out_json.read_text())["candidates"]["srresnet_r1"]["quick_findings"] == logged
    logged_again = regime.candidate_table(report, {"srresnet_r1": quick}, out_json, out_md)["srresnet_r1"]
    assert logged_again["quick_findings"] == {"holding": 0, "total": 1, "failing": ["y"]}


def test_the_wider_mix_preset_is_the_rules_pick(regime):
    """`faig train --preset embedded --arch srresnet --stage target --mix jpeg` trains what candidate
    srresnet_jpeg_r5 trained: the selection rule's pick among the wider mix's targets (plateaued, the
    best mean target validation PSNR), though it misses the JPEG mark and so does not ship."""
    from faig.training.config import preset_config

    assert preset_config("embedded", "srresnet", "target", mix=("jpeg",)) == regime.candidate_configs(
        "srresnet_jpeg_r5")["target"]
