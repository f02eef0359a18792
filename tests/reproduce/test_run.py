"""`faig reproduce` end to end on tiny networks of both architectures: every result, the report,
the index files, and a rerun that reuses every step from the cache."""

import json
import re

import pytest

import faig.reproduce.steps as steps
from faig.attribution.filters import FilterIndex, read_index_file
from faig.errors import FaigError
from faig.models.checkpoints import load_model
from faig.experiments.prediction import label_combinations
from faig.names import DEGRADATIONS, METHODS
from faig.reproduce.run import reused_sentence, run
from faig.results import Results

ARCHS = ("srresnet", "srcnn_style")


def check_results(results: Results, archs: tuple[str, ...] = ARCHS,
                  degradations: tuple[str, ...] = DEGRADATIONS) -> None:
    """Every measurement the report reads, for each architecture, through the typed accessors."""
    variants = label_combinations(degradations)
    for arch in archs:
        entry = results.arch(arch)
        assert all(isinstance(entry.psnr(stage, v), float) for stage in ("baseline", "target", "bicubic")
                   for v in variants)
        for method in METHODS:
            for d in degradations:
                for on in degradations:
                    assert entry.drop(method, d, on=on, percent=100.0)["mean"] >= 0
                    assert entry.retrained(method, d, task=on)["mean"] > 0
        for d in degradations:
            assert sum(entry.distribution[d].values()) == pytest.approx(1.0)
            assert 0 <= entry.prediction_for("reference_free", d)["accuracy"] <= 1
            assert [point["lambda"] for point in entry.modulation[d]] == [0.0, 1.0]
            assert entry.gain_over_random("faig", d, "blur")["mean"] == pytest.approx(
                entry.retrained("faig", d, "blur")["mean"] - entry.retrained("random", d, "blur")["mean"])
        assert entry.upper_bound("noise")["psnr"] > 0
        for method in METHODS:
            for d in degradations:
                assert entry.official_drop(method, d, 1.0)["mean"] >= 0
                assert entry.official_drop(method, d, 100.0) is None  # the table's percentages only
        assert sum(sum(row.values()) for row in entry.confusion("standard").values()) == 2 * len(variants)
    per_arch = 3 + 4 * len(degradations)  # 3 claims made once, 4 per degradation
    assert len(results.findings) == per_arch * len(archs)
    assert results.findings[0]["claim"].startswith("the baseline is a real SR model")
    assert {"attribution", "masking", "retrain", "prediction", "images", "report"} <= set(results.timing)


def check_report(out) -> None:
    """The report files exist, reference only files that exist, say the mode and count the findings."""
    markdown = (out / "report.md").read_text()
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", markdown)
    assert links and all((out / link).is_file() for link in links)
    html = (out / "report.html").read_text()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(sources) == len(links) and all(s.startswith("data:image/png;base64,") for s in sources)
    holding = sum(f["holds"] for f in json.loads((out / "results.json").read_text())["findings"])
    assert f"## {holding} of 22 findings hold" in markdown
    assert markdown.splitlines()[0].endswith("(quick: a smoke test, not the paper's protocol)")
    assert ("**NO**" in markdown) == (holding < 22) and ('class="fails">NO<' in html) == (holding < 22)


@pytest.mark.slow
def test_a_tiny_run_writes_everything_and_a_rerun_reuses_every_step(tmp_path, tiny_weights, tiny_config, small_tiles,
                                                                     monkeypatch, capsys):
    out = tmp_path / "run"
    results = run(tiny_config(ARCHS), out, weights=tiny_weights, progress=False)
    check_results(results)
    check_report(out)
    assert Results.from_json(json.loads((out / "results.json").read_text())).to_json() == \
        json.loads(json.dumps(results.to_json()))
    index = FilterIndex.from_module(load_model(tiny_weights / "srcnn_style_target.safetensors")[0])
    written = out / "filters" / "srcnn_style" / "faig" / "noise_index.txt"
    assert read_index_file(written, index).tolist() == results_ranking(out, "srcnn_style")

    def refuse(*args, **kwargs):
        raise AssertionError("a cached step was computed again")

    monkeypatch.setattr(steps, "attribute", refuse)
    monkeypatch.setattr(steps, "retrain", refuse)
    monkeypatch.setattr("faig.reproduce.run.write_report", lambda *args: None)  # drawn above already
    again = run(tiny_config(ARCHS), out, weights=tiny_weights, progress=True)
    assert again.to_json()["masking"] == results.to_json()["masking"]
    assert again.findings == results.findings
    assert "srcnn_style seed 0: reused attribution, models, masking, masking (official metric), ablation, " \
           "modulation, prediction, level study, images and 18 re-training runs from the cache" in capsys.readouterr().err


def results_ranking(out, arch: str) -> list[int]:
    return [int(line) for line in (out / "filters" / arch / "faig" / "noise_index.txt").read_text().split()]


def test_the_reused_steps_are_listed_in_a_sentence():
    assert reused_sentence("srresnet seed 1", ["models"]) == "srresnet seed 1: reused models from the cache"
    steps_reused = ["attribution", "re-training (a)", "re-training (b)", "images"]
    assert reused_sentence("x", steps_reused) == "x: reused attribution, images and 2 re-training runs from the cache"


@pytest.mark.slow
def test_two_seeds_spread_over_seeds_and_judge_on_them(tmp_path, tiny_weights, tiny_config, small_tiles, monkeypatch):
    """Over seeds, with re-training on the first seed only (its step is stubbed). Eq. 8 runs on both
    seeds: the report's figure draws the first seed's overlap scores, so against that seed's own
    thresholds, not the mean over seeds."""
    from dataclasses import replace

    monkeypatch.setattr("faig.reproduce.run.run_retrain", lambda setup, rankings, cache: fake_retrain())
    drawn = {}
    monkeypatch.setattr("faig.reproduce.run.write_report", lambda results, artifacts, out: drawn.update(artifacts))
    results = run(replace(tiny_config(("srresnet",), seeds=2), prediction_seeds=2), tmp_path, weights=tiny_weights,
                  progress=False)
    assert results.spread == {"masking": "seeds", "ablation": "seeds", "retrain": "images", "models": "seeds"}
    assert results.findings[1]["spread"].endswith("over 2 seeds")
    assert results.arch("srresnet").gain_over_random("faig", "blur", "blur") == {"mean": 1.0, "std": 0.0}
    first_seed = json.loads(next(tmp_path.glob("cache/srresnet-*/seed0/prediction-*.json")).read_text())["data"]
    for mode in ("standard", "reference_free"):
        own = {d: first_seed[mode]["degradations"][d]["threshold"] for d in DEGRADATIONS}
        assert drawn["srresnet"].thresholds[mode] == own
        assert own != {d: results.arch("srresnet").prediction_for(mode, d)["threshold"] for d in DEGRADATIONS}


def fake_retrain() -> dict:
    runs = {"upper_bound": {t: [30.0, 30.0] for t in DEGRADATIONS}}
    runs.update({m: {d: {t: [28.0 + (m == "faig"), 29.0 + (m == "faig")] for t in DEGRADATIONS}
                     for d in DEGRADATIONS} for m in METHODS})
    return runs


@pytest.mark.slow
def test_the_papers_protocol_runs_on_user_folders(tmp_path, tiny_weights, tiny_config, monkeypatch):
    """--train-dir/--discover-dir/--calibrate-dir/--test-dir replace the embedded splits, image for
    image (re-training reads the train folder), and the folders are part of the step cache's keys."""
    import torch
    from dataclasses import replace

    from faig.data.images import write_image

    monkeypatch.setattr("faig.reproduce.run.write_report", lambda *args: None)
    generator = torch.Generator().manual_seed(0)
    folders = {}
    for split in ("train", "discover", "calibrate", "test"):
        folders[split] = tmp_path / split
        for index in range(2):
            smooth = torch.nn.functional.interpolate(torch.rand(1, 3, 6, 6, generator=generator), size=(48, 48),
                                                     mode="bicubic", align_corners=False).clamp(0, 1)
            write_image(folders[split] / f"{split}{index}.png", smooth)
    loaded = []
    real_load = steps.load_images
    monkeypatch.setattr(steps, "load_images", lambda split, folder, scale: loaded.append((split, folder)) or
                        real_load(split, folder, scale))
    trained_on = []
    real_retrain = steps.retrain
    monkeypatch.setattr(steps, "retrain", lambda *args, **kwargs: trained_on.append(kwargs["hr_dir"]) or
                        real_retrain(*args, **kwargs))
    config = replace(tiny_config(("srresnet",)), folders=tuple(sorted((k, str(v)) for k, v in folders.items())))
    results = run(config, tmp_path / "out", weights=tiny_weights, progress=False)
    assert {split: folder for split, folder in loaded} == {s: str(f) for s, f in folders.items() if s != "train"}
    assert set(trained_on) == {str(folders["train"])}
    assert results.arch("srresnet").psnr("target", "clean") > 0
    assert "--test-dir" in json.loads((tmp_path / "out" / "results.json").read_text())["config"]["command"]


@pytest.mark.slow
@pytest.mark.parametrize("arch", ["rrdbnet", "swinir"])
def test_any_registered_architecture_runs_from_a_checkpoint_pair(tmp_path, tiny_other_weights, tiny_config,
                                                                 small_tiles, monkeypatch, arch):
    """`faig reproduce --baseline B --target T` on an ESRGAN body and on an attention network: every
    step runs, the architecture comes from the checkpoints, and the rerun command names the pair."""
    from faig.reproduce.run import pair_arch

    pair = (tiny_other_weights / f"{arch}_baseline.safetensors", tiny_other_weights / f"{arch}_target.safetensors")
    assert pair_arch(pair, None) == arch
    with pytest.raises(FaigError, match=f"does not match the checkpoints, which are {arch}"):
        pair_arch(pair, ("srresnet",))
    monkeypatch.setattr("faig.reproduce.run.write_report", lambda *args: None)
    results = run(tiny_config((arch,)), tmp_path, weights=pair, progress=False)
    check_results(results, (arch,))
    index = FilterIndex.from_module(load_model(pair[1])[0])
    assert sorted(results_ranking(tmp_path, arch)) == list(range(index.total))
    assert f"--baseline {pair[0]} --target {pair[1]}" in results.config["command"]
    heads = results.arch(arch).heads["blur"]  # issue 12: an attention network's filters by head
    if arch == "swinir":
        assert list(heads)[0] == "layers.0.blocks.0.attn[head 0]" and 0 <= sum(heads.values()) <= 1
    else:
        assert heads == {}


def test_the_report_names_where_the_networks_came_from(tmp_path):
    from faig.reproduce.run import models_source

    assert models_source(None) == "the preset's committed weights"
    assert models_source(tmp_path) == f"<arch>_baseline.safetensors and <arch>_target.safetensors in {tmp_path}"
    assert models_source(None, ("jpeg",)) == "the preset's committed weights (the target: <arch>_target_jpeg)"
    assert models_source(("b.pth", "t.pth")) == "the pair b.pth (baseline) and t.pth (target)"


@pytest.mark.slow
def test_a_three_way_run_finds_each_degradations_filters_against_the_rest(tmp_path, tiny_weights, tiny_config,
                                                                          small_tiles, monkeypatch):
    """Issue 12: `faig reproduce --degradations blur,noise,jpeg` on a folder holding the target of the
    wider mix (<arch>_target_jpeg): N-way Eq. 7, a 3x3 masking matrix, three re-training tasks, Eq. 8
    over the eight label combinations, and a report that names the JPEG filters."""
    import shutil
    from dataclasses import replace

    from faig.files import write_json, write_text
    from faig.reproduce.config import check_degradations

    weights = tmp_path / "weights"
    shutil.copytree(tiny_weights, weights)
    shutil.copy(weights / "srresnet_target.safetensors", weights / "srresnet_target_jpeg.safetensors")
    (weights / "srresnet_target.safetensors").unlink()  # the wider mix's target is the one read
    three = check_degradations(("blur", "noise", "jpeg"))
    config = replace(tiny_config(("srresnet",)), degradations=three)
    table1 = tmp_path / "out" / "branches"  # a `faig branches --out OUT/branches` run joins the report
    net = {"network": "DAN-style", "psnr": {"mean": 26.0, "std": 0.0}, "psnrs": [26.0], "flops": 1e9, "params": 5e4,
           "train_seconds": [1.0], "devices": ["cpu"]}
    write_json(table1 / "branches.json", {
        "config": {"seeds": 1, "steps": 2, "tolerance": 0.05}, "seconds": 1.0, "device": "cpu",
        "table": [{"method": "dan", "setting": "blur", "bicubic_psnr": 25.0, "two_branch": net, "one_branch": net,
                   "paper": {"two_branch": {"mean": 26.168}, "one_branch": {"mean": 26.182}}}]})
    write_text(table1 / "figures" / "fig1_psnr_vs_flops.png", "")
    results = run(config, tmp_path / "out", weights=weights, progress=False)
    check_results(results, ("srresnet",), three)
    entry = results.arch("srresnet")
    assert set(entry.masking["faig"]["jpeg"]["1"]) == {"blur_input", "noise_input", "jpeg_input"}
    assert list(entry.confusion("standard")) == label_combinations(three)
    assert results.arch("srresnet").retrained("faig", "jpeg", "jpeg")["mean"] > 0
    report = (tmp_path / "out" / "report.md").read_text()
    assert "FAIG, deblocking filters" in report and "Compressed input" in report
    assert "--degradations blur,noise,jpeg" in results.config["command"]
    assert (tmp_path / "out" / "filters" / "srresnet" / "faig" / "jpeg_index.txt").is_file()
    assert "## One branch against two at equal computation (Sec. 3, Table 1, Fig. 1)" in report
    assert "](branches/figures/fig1_psnr_vs_flops.png)" in report


def test_cache_keys_written_before_n_way_runs_stay_valid_for_the_papers_degradations(tmp_path):
    """A setting that joined the keys later (the degradations) is left out at the paper's value, so a
    cache computed before serves blur and noise still; any other degradations get keys of their own."""
    from dataclasses import asdict, replace

    from faig.cache import settings_key
    from faig.reproduce.config import make_config
    from faig.reproduce.run import STEP_SETTINGS, Ledger, StepCache

    config = make_config(quick=True)
    cache = StepCache(tmp_path, config, Ledger(), "x", print)
    before = {name: asdict(config)[name] for name in STEP_SETTINGS["masking"] if name != "degradations"}
    assert cache.key("masking") == f"masking-{settings_key(before)}"
    three = StepCache(tmp_path, replace(config, degradations=("blur", "noise", "jpeg")), Ledger(), "x", print)
    assert three.key("masking") != cache.key("masking")


def test_a_stage_the_preset_lacks_is_trained_here_from_the_shipped_baseline(tmp_path, monkeypatch):
    """The wider mix's target missing from the preset: only it is trained, from the committed
    baseline, on the mix, into OUT/models/seed<N>/<arch>_target_jpeg.safetensors."""
    from faig.reproduce.config import make_config
    from faig.reproduce.run import model_paths

    shipped = tmp_path / "srresnet_baseline.safetensors"

    def preset_weights(preset, arch, stage, extra_kinds=()):
        if (stage, extra_kinds) != ("baseline", ()):
            raise FaigError("embedded weights missing")
        return shipped

    calls = []

    def train_stages(preset, arch, folder, stages, **options):
        calls.append((stages, options["init_weights"], options["mix"], options["resume"]))
        (folder / "srresnet_target_jpeg.safetensors").parent.mkdir(parents=True, exist_ok=True)
        (folder / "srresnet_target_jpeg.safetensors").touch()

    monkeypatch.setattr("faig.reproduce.run.preset_weights", preset_weights)
    monkeypatch.setattr("faig.reproduce.run.train_stages", train_stages)
    config = make_config(archs=("srresnet",), degradations=("blur", "noise", "jpeg"))
    baseline, target, trained = model_paths("embedded", "srresnet", 1, tmp_path / "out", None, None, False, config)
    assert (baseline, target, trained) == (shipped, tmp_path / "out" / "models" / "seed1" /
                                           "srresnet_target_jpeg.safetensors", True)
    assert calls == [(("target",), shipped, ("jpeg",), False)]
    assert model_paths("embedded", "srresnet", 1, tmp_path / "out", None, None, False, config)[1] == target
    assert len(calls) == 1  # a target trained before is read, not trained again
