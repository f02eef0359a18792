"""`faig reproduce`: the results' keys, the report's files, the cache; and `faig modulate`."""

import copy
import json
import re

import pytest
import torch

from faig.attribution.filters import FilterIndex
from faig.data.degradations import VARIANTS
from faig.data.images import read_image, write_image
from faig.errors import FaigError
from faig.experiments.masking import percent_key
from faig.models.checkpoints import save_weights
from faig.models.registry import ArchConfig, build_model
from faig.pipeline import make_config, modulate_image, reproduce

METHODS = ("faig", "ig", "abs", "random")
DEGRADATIONS = ("blur", "noise")
INPUTS = ("blur_input", "noise_input")


def check_results(results: dict, archs: tuple[str, ...]) -> None:
    """Every key the issue lists, for each architecture."""
    percents = [percent_key(p) for p in results["config"]["percents"]]
    for arch in archs:
        for stage in ("baseline", "target", "bicubic"):
            for name in VARIANTS:
                assert isinstance(results["models"][arch][stage][name]["psnr"], float)
        assert results["findings"][0]["claim"].startswith("the baseline is a real SR model")
        for method in METHODS:
            for d in DEGRADATIONS:
                for percent in percents:
                    for kind in INPUTS:
                        assert set(results["masking"][arch][method][d][percent][kind]) >= {"mean", "std"}
                for task in DEGRADATIONS:
                    assert set(results["retrain"][arch][method][d][task]) >= {"mean", "std"}
        for task in DEGRADATIONS:
            assert isinstance(results["retrain"][arch]["upper_bound"][task]["psnr"], float)
        for d in DEGRADATIONS:
            assert results["distribution"][arch][d] and sum(results["distribution"][arch][d].values()) == \
                pytest.approx(1.0)
            for key in ("prediction", "prediction_reference_free"):
                assert set(results[key][arch][d]) >= {"threshold", "accuracy", "n"}
            assert all(set(point) == {"lambda", "psnr", "gradient_energy"} for point in results["modulation"][arch][d])
        for name in ("with_elimination", "without_elimination"):
            for kind in INPUTS:
                assert set(results["ablation"][arch][name][kind]) >= {"mean", "std"}
    assert {"attribution", "masking", "retrain", "prediction", "report"} <= set(results["timing"])
    assert results["config"]["command"].startswith("faig reproduce")


def check_report(out) -> None:
    """The report files exist and reference only files that exist."""
    markdown = (out / "report.md").read_text()
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", markdown)
    assert links and all((out / link).is_file() for link in links)
    html = (out / "report.html").read_text()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(sources) == len(links) and all(s.startswith("data:image/png;base64,") for s in sources)
    assert json.loads((out / "results.json").read_text())["config"]["archs"]


@pytest.fixture
def tiny_weights(tmp_path):
    folder = tmp_path / "weights"
    config = ArchConfig("srresnet", 2, width=8, depth=1)
    baseline = build_model(config)
    target = copy.deepcopy(baseline)
    with torch.no_grad():
        for parameter in target.parameters():
            parameter.add_(0.02 * torch.randn_like(parameter))
    save_weights(folder / "srresnet_baseline.safetensors", baseline, config)
    save_weights(folder / "srresnet_target.safetensors", target, config)
    return folder


def test_config_overrides_and_refusals():
    config = make_config(quick=True, seeds=2, retrain_steps=50, retrain_seeds=5)
    assert (config.seeds, config.retrain.steps, config.retrain_seeds) == (2, 50, 2)
    with pytest.raises(FaigError):
        make_config(seeds=0)
    with pytest.raises(FaigError):
        make_config(archs=("vgg",))


def test_quick_run_on_tiny_models_writes_everything_and_resumes(tmp_path, tiny_weights):
    out = tmp_path / "run"
    results = reproduce(archs=("srresnet",), out_dir=out, quick=True, weights=tiny_weights, progress=False)
    check_results(results, ("srresnet",))
    check_report(out)
    assert (out / "filters" / "srresnet" / "faig" / "blur_index.txt").is_file()
    again = reproduce(archs=("srresnet",), out_dir=out, quick=True, weights=tiny_weights, progress=False)
    assert again["masking"] == results["masking"] and again["retrain"] == results["retrain"]
    assert again["timing"]["wall_this_invocation"] < results["timing"]["wall_this_invocation"]


def test_modulate_writes_the_modulated_output(tmp_path, tiny_weights):
    image = tmp_path / "photo.png"
    write_image(image, torch.rand(1, 3, 16, 20))
    index = tmp_path / "noise_index.txt"
    total = FilterIndex.from_module(build_model(ArchConfig("srresnet", 2, width=8, depth=1))).total
    index.write_text("".join(f"{i}\n" for i in range(total)))
    pair = dict(baseline=tiny_weights / "srresnet_baseline.safetensors",
                target=tiny_weights / "srresnet_target.safetensors")
    out = modulate_image(image, "noise", 0.6, tmp_path / "out.png", filters=index, **pair)
    assert read_image(out).shape == (1, 3, 32, 40)
    with pytest.raises(FaigError):
        modulate_image(image, "fog", 0.6, tmp_path / "x.png", filters=index, **pair)
    with pytest.raises(FaigError):
        modulate_image(image, "noise", float("nan"), tmp_path / "x.png", filters=index, **pair)


def test_reproduce_quick_end_to_end(tmp_path):
    """`faig reproduce --quick` on the embedded models writes every result key and a whole report
    (its time is measured by the run itself, in results.json's timing, not asserted here)."""
    out = tmp_path / "quick"
    results = reproduce(out_dir=out, quick=True, progress=False)
    check_results(results, ("srresnet", "srcnn_style"))
    check_report(out)
