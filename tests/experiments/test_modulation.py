import copy
import statistics

import pytest
import torch
from safetensors.torch import save_file

import faig.experiments.modulation as modulation
import faig.models.registry as registry
from faig.attribution.filters import FilterIndex, modulated_state, state_of, write_index_file
from faig.data.images import read_image, write_image
from faig.data.splits import NamedImage
from faig.errors import FaigError
from faig.experiments.common import outputs, runner
from faig.experiments.metrics import gradient_energy
from faig.experiments.modulation import PAPER_LAMBDAS, modulate_image, modulated_outputs, modulation_curve
from faig.models.checkpoints import save_weights
from faig.metrics import psnr
from faig.models.registry import ArchConfig, build_model


def half_selection(index: FilterIndex) -> torch.Tensor:
    return (torch.arange(index.total) % 2).float()


def test_lambdas_run_from_zero_to_one_and_a_half():
    assert PAPER_LAMBDAS[0] == 0.0 and PAPER_LAMBDAS[10] == 1.0 and PAPER_LAMBDAS[-1] == 1.5


def test_lambda_one_is_the_target(pair_models, lrs):
    baseline, target = pair_models
    index = FilterIndex.from_module(target)
    state = modulated_state(state_of(baseline), state_of(target), index, half_selection(index), 1.0)
    assert all(torch.equal(state[k], v) for k, v in state_of(target).items())
    images = modulated_outputs(baseline, target, half_selection(index), lrs, (1.0,))
    assert all(torch.equal(a, b) for a, b in zip(images[1.0], outputs(runner(target), lrs)))


def test_lambda_zero_is_the_baseline_on_the_selected_filters(pair_models):
    baseline, target = pair_models
    index = FilterIndex.from_module(target)
    selection = half_selection(index)
    state = modulated_state(state_of(baseline), state_of(target), index, selection, 0.0)
    chosen = index.expand(selection)
    for key, value in state.items():
        if key in chosen:
            mask = chosen[key].bool().expand_as(value)
            assert torch.equal(value[mask], state_of(baseline)[key][mask]), key
            assert torch.equal(value[~mask], state_of(target)[key][~mask]), key
        else:
            assert torch.equal(value, state_of(target)[key]), key


def test_lambda_half_lies_midway(pair_models):
    baseline, target = pair_models
    index = FilterIndex.from_module(target)
    state = modulated_state(state_of(baseline), state_of(target), index, torch.ones(index.total), 0.5)
    name = index.names[0]
    midway = (state_of(baseline)[name] + state_of(target)[name]) / 2
    assert torch.allclose(state[name], midway, atol=1e-6)


def test_curve_has_one_point_per_lambda(pair_models, pairs):
    baseline, target = pair_models
    index = FilterIndex.from_module(target)
    curve = modulation_curve(baseline, target, half_selection(index), pairs, (0.0, 1.0, 1.5), scale=2)
    assert [point["lambda"] for point in curve] == [0.0, 1.0, 1.5]
    assert all(set(point) == {"lambda", "psnr", "gradient_energy"} for point in curve)


def test_curve_ends_are_the_baseline_filters_and_the_target(pair_models, pairs):
    baseline, target = pair_models
    index = FilterIndex.from_module(target)
    curve = modulation_curve(baseline, target, torch.ones(index.total), pairs, (0.0, 1.0), scale=2)
    lrs = [pair.lr for pair in pairs]
    baseline_filters = copy.deepcopy(target)  # λ = 0 on every filter: the baseline's filters, the target's biases
    baseline_filters.load_state_dict({**state_of(target), **{name: state_of(baseline)[name] for name in index.names}})
    for point, network in zip(curve, (baseline_filters, target)):
        images = outputs(runner(network), lrs)
        assert point["psnr"] == pytest.approx(statistics.fmean(psnr(o, p.hr, 2) for o, p in zip(images, pairs)),
                                              abs=1e-4)
        assert point["gradient_energy"] == pytest.approx(
            statistics.fmean(float(gradient_energy(o)) for o in images), rel=1e-5)
    assert curve[0]["psnr"] != pytest.approx(curve[1]["psnr"], abs=1e-3)


@pytest.fixture
def model_files(tmp_path, pair_models, tiny_arch):
    baseline, target = pair_models
    paths = tmp_path / "baseline.safetensors", tmp_path / "target.safetensors"
    save_weights(paths[0], baseline, tiny_arch)
    save_weights(paths[1], target, tiny_arch)
    return dict(baseline=paths[0], target=paths[1])


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "photo.png"
    write_image(path, torch.rand(1, 3, 16, 20, generator=torch.Generator().manual_seed(4)))
    return path


def test_modulate_with_an_index_file_writes_the_modulated_output(tmp_path, model_files, photo, pair_models):
    index = FilterIndex.from_module(pair_models[1])
    ranking = tmp_path / "noise_index.txt"
    write_index_file(ranking, torch.arange(index.total), index)
    out = modulate_image(photo, "noise", 0.6, tmp_path / "out.png", filters=ranking, **model_files)
    assert read_image(out).shape == (1, 3, 32, 40)
    for degradation, strength, message in (("fog", 0.6, "unknown degradation 'fog'"),
                                           ("noise", float("nan"), "λ must be a finite number")):
        with pytest.raises(FaigError, match=message):
            modulate_image(photo, degradation, strength, tmp_path / "x.png", filters=ranking, **model_files)


@pytest.mark.parametrize("options, message", [
    (lambda tmp: dict(out=tmp / "m.txt"),
     "cannot write image {tmp}/m.txt: the suffix must be one of .png, .jpg, .jpeg, .bmp, .tif, .tiff, .webp"),
    (lambda tmp: dict(cache_dir=tmp / "afile"), "cache folder {tmp}/afile is a file"),
    (lambda tmp: dict(cache_dir=""), "cache folder '' names no folder"),
    (lambda tmp: dict(device="bogus"), "unknown device 'bogus'; use cpu, cuda or cuda:N"),
    (lambda tmp: dict(device="cuda:99"), "device 'cuda:99' asked for, but this machine has"),
])
def test_bad_options_are_refused_before_the_filters_are_found(tmp_path, model_files, photo, monkeypatch, options,
                                                               message):
    monkeypatch.setattr(modulation, "load_pair", lambda *a: pytest.fail("loaded the models before checking"))
    monkeypatch.setattr(modulation, "discovered_rankings", lambda *a: pytest.fail("attributed before checking"))
    (tmp_path / "afile").write_text("x")
    with pytest.raises(FaigError) as error:
        modulate_image(photo, "blur", 0.5, **{"out": tmp_path / "m.png", **options(tmp_path)}, **model_files)
    assert message.format(tmp=tmp_path) in str(error.value)
    assert not (tmp_path / "m.png").exists() and not (tmp_path / "m.txt").exists()


def test_a_lambda_whose_output_overflows_is_refused_naming_it(tmp_path, model_files, photo, pair_models):
    index = FilterIndex.from_module(pair_models[1])
    ranking = tmp_path / "blur_index.txt"
    write_index_file(ranking, torch.arange(index.total), index)
    with pytest.raises(FaigError, match=r"^λ = 1e\+308 makes the modulated network's output overflow \(not finite\); "
                                        r"choose a smaller \|λ\|"):
        modulate_image(photo, "blur", 1e308, tmp_path / "m.png", filters=ranking, percent=100, **model_files)
    assert not (tmp_path / "m.png").exists()
    strong = read_image(modulate_image(photo, "blur", 1.5, tmp_path / "m.png", filters=ranking, **model_files))
    assert strong.shape == (1, 3, 32, 40) and torch.isfinite(strong).all()


def test_an_index_file_of_another_network_is_refused(tmp_path, model_files, photo):
    other = FilterIndex.from_module(build_model(ArchConfig("srcnn_style", 2, width=8, depth=1, first_width=4)))
    ranking = tmp_path / "blur_index.txt"
    write_index_file(ranking, torch.arange(other.total), other)
    with pytest.raises(FaigError, match="another network"):
        modulate_image(photo, "blur", 0.5, tmp_path / "out.png", filters=ranking, **model_files)


def test_found_filters_are_cached_per_model_pair_and_settings(tmp_path, model_files, photo, monkeypatch):
    """Found on two small crops instead of the 14 discover tiles: the cache is what is tested."""
    crops = [NamedImage(f"crop{i}", torch.rand(1, 3, 24, 24, generator=torch.Generator().manual_seed(i)))
             for i in range(2)]
    monkeypatch.setattr(modulation, "load_images", lambda split, folder, scale: crops)
    calls = []
    real = modulation.attribute
    monkeypatch.setattr(modulation, "attribute", lambda *a, **k: (calls.append(1), real(*a, **k))[1])
    options = dict(steps=2, cache_dir=tmp_path / "cache", progress=False, **model_files)
    first = read_image(modulate_image(photo, "blur", 0.0, tmp_path / "a.png", **options))
    second = read_image(modulate_image(photo, "blur", 0.0, tmp_path / "b.png", **options))
    assert len(calls) == 1 and torch.equal(first, second)
    (entry,) = (tmp_path / "cache" / "rankings").glob("*.safetensors")
    save_file({"blur": torch.arange(10), "noise": torch.arange(10)}, str(entry))  # no ranking of this network
    third = read_image(modulate_image(photo, "blur", 0.0, tmp_path / "a2.png", **options))
    assert len(calls) == 2 and torch.equal(first, third)  # found again, not read
    modulate_image(photo, "noise", 1.5, tmp_path / "c.png", **options)  # the same rankings serve noise
    assert len(calls) == 2
    modulate_image(photo, "noise", 1.5, tmp_path / "d.png", **{**options, "steps": 3})
    assert len(calls) == 3
    modulate_image(photo, "jpeg", 0.5, tmp_path / "e.png", **options)  # JPEG's filters: found against both others
    assert len(calls) == 4


def test_jpeg_filters_are_found_on_the_wider_mixs_target(tmp_path, photo, monkeypatch):
    """`faig modulate --degradation jpeg` reads the preset's <arch>_target_jpeg."""
    asked = {}
    monkeypatch.setattr(registry, "preset_weights",
                        lambda preset, arch, stage, extra_kinds=(): asked.update({stage: extra_kinds}) or "x")
    monkeypatch.setattr(modulation, "load_pair", lambda *paths: (_ for _ in ()).throw(FaigError("loaded")))
    with pytest.raises(FaigError, match="loaded"):
        modulate_image(photo, "jpeg", 0.5, tmp_path / "x.png")
    assert asked == {"baseline": (), "target": ("jpeg",)}
