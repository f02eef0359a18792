"""Outputs on disk, resuming from the per-image cache, `faig attribute`'s function, and bad input."""

import csv

import pytest
import torch

import faig.attribution.api as api
import faig.models.registry as registry
from faig.attribution import attribute, load_attribution, run_attribute, save_attribution
from faig.attribution.filters import FilterIndex, read_index_file
from faig.data.images import write_image
from faig.errors import FaigError
from faig.models.checkpoints import save_weights
from faig.models.registry import ArchConfig, build_model



@pytest.fixture()
def checkpoints(tmp_path, tiny_arch, tiny_pair, tiny_images):
    """Tiny baseline and target checkpoints and a folder of HR PNGs."""
    save_weights(tmp_path / "baseline.safetensors", tiny_pair[0], tiny_arch)
    save_weights(tmp_path / "target.safetensors", tiny_pair[1], tiny_arch)
    for image in tiny_images:
        write_image(tmp_path / "hr" / f"{image.name}.png", image.hr)
    return tmp_path


def test_results_round_trip_with_csv_and_official_index_files(tmp_path, tiny_pair, tiny_images):
    result = attribute("faig", *tiny_pair, tiny_images[:2], steps=2, device="cpu", progress=False)
    files = save_attribution(result, tmp_path / "faig")
    loaded = load_attribution(tmp_path / "faig")
    assert loaded.metadata == result.metadata and loaded.degradations == ("blur", "noise")
    for table in ("scores", "rankings", "per_image", "completeness_gaps"):
        for name in ("blur", "noise"):
            assert torch.equal(getattr(loaded, table)[name], getattr(result, table)[name])
    assert loaded.index == result.index
    rows = list(csv.DictReader(files["top"].open()))
    top = round(result.index.total / 100)
    assert len(rows) == 2 * top
    first = rows[0]
    assert result.index.flat(first["layer"], int(first["out"]), int(first["in"])) == int(result.rankings["blur"][0])
    assert torch.equal(read_index_file(files["noise"], result.index), result.rankings["noise"])


def test_resume_after_an_interruption_gives_identical_scores(tmp_path, tiny_pair, tiny_images, monkeypatch):
    options = dict(steps=3, device="cpu", progress=False, memory_mb=1e-3)  # one image per group
    fresh = attribute("faig", *tiny_pair, tiny_images, **options)
    calls = []
    real = api.faig_paths

    def interrupted(*args, **kwargs):
        if len(calls) == 1:
            raise KeyboardInterrupt
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(api, "faig_paths", interrupted)
    with pytest.raises(KeyboardInterrupt):
        attribute("faig", *tiny_pair, tiny_images, cache_dir=tmp_path, **options)
    calls.clear()
    monkeypatch.setattr(api, "faig_paths", lambda *a, **k: (calls.append(1), real(*a, **k))[1])
    resumed = attribute("faig", *tiny_pair, tiny_images, cache_dir=tmp_path, **options)
    assert len(calls) == len(tiny_images) - 1
    for name in ("blur", "noise"):
        assert torch.equal(resumed.scores[name], fresh.scores[name])
        assert torch.equal(resumed.per_image[name], fresh.per_image[name])


def test_cached_rows_of_other_contents_are_recomputed(tmp_path, tiny_pair, tiny_images, monkeypatch):
    """A cache entry that loads but is no row of this run (another version's names or shapes) is
    computed again, never read as one."""
    from safetensors.torch import save_file

    options = dict(steps=3, device="cpu", progress=False, memory_mb=1e-3)
    fresh = attribute("faig", *tiny_pair, tiny_images, cache_dir=tmp_path, **options)
    entries = sorted(tmp_path.rglob("*.safetensors"))
    assert len(entries) == len(tiny_images)
    save_file({"x": torch.zeros(1)}, str(entries[0]))
    save_file({"scores": torch.zeros(1, 1), "attribution_sum": torch.zeros(1)}, str(entries[1]))
    calls = []
    real = api.faig_paths
    monkeypatch.setattr(api, "faig_paths", lambda *a, **k: (calls.append(1), real(*a, **k))[1])
    again = attribute("faig", *tiny_pair, tiny_images, cache_dir=tmp_path, **options)
    assert len(calls) == 2
    assert torch.equal(again.scores["blur"], fresh.scores["blur"])


def test_run_attribute_writes_every_method(checkpoints):
    results = run_attribute(checkpoints / "out", "faig,ig,abs,random", baseline=checkpoints / "baseline.safetensors",
                            target=checkpoints / "target.safetensors", hr_dir=checkpoints / "hr", steps=2,
                            progress=False)
    assert set(results) == {"faig", "ig", "abs", "random"}
    for method in results:
        folder = checkpoints / "out" / method
        for name in ("attribution.safetensors", "top1.csv", "config.json", "blur_index.txt", "noise_index.txt"):
            assert (folder / name).is_file()
    loaded_abs = load_attribution(checkpoints / "out" / "abs" / "attribution.safetensors")
    assert loaded_abs.per_image is None and torch.equal(loaded_abs.rankings["blur"], results["abs"].rankings["blur"])
    metadata = load_attribution(checkpoints / "out" / "faig").metadata
    assert metadata["images"] == ["img0", "img1", "img2"] and metadata["quadrature"] == "gausslegendre"
    assert metadata["steps"] == 2 and len(metadata["baseline_hash"]) == 16 and "completeness_gap" in metadata


def test_run_attribute_ranks_output_channels_and_refuses_heads_on_a_cnn(checkpoints):
    """`faig attribute --group output_channel` also ranks whole channels, each the sum of its filters'
    scores; `--group head` needs attention modules, which a CNN lacks (refused before any work)."""
    options = dict(baseline=checkpoints / "baseline.safetensors", target=checkpoints / "target.safetensors",
                   hr_dir=checkpoints / "hr", steps=2, progress=False)
    result = run_attribute(checkpoints / "out", "faig", groups="output_channel", **options)["faig"]
    rows = list(csv.DictReader((checkpoints / "out" / "faig" / "units_output_channel.csv").open()))
    first = next(row for row in rows if row["degradation"] == "noise" and row["rank"] == "1")
    layer, channel = first["unit"].removesuffix("]").split("[out ")
    offset = next(entry.offset for entry in result.index.layers if entry.module == layer)
    width = int(first["filters"])
    channel_scores = result.scores["noise"][offset + int(channel) * width:offset + (int(channel) + 1) * width]
    assert float(first["score"]) == pytest.approx(float(channel_scores.sum()), rel=1e-6)
    with pytest.raises(FaigError, match="grouping by head needs attention modules"):
        run_attribute(checkpoints / "out2", "faig", groups="head", **options)
    assert not (checkpoints / "out2" / "faig").exists()


def test_mismatched_networks_are_refused_naming_the_tensor(tiny_pair, tiny_images):
    narrower = build_model(ArchConfig("srresnet", 2, width=4, depth=2))
    with pytest.raises(FaigError, match="conv_first.weight"):
        attribute("faig", tiny_pair[0], narrower, tiny_images)


@pytest.mark.parametrize("kwargs, message", [
    (dict(degradations="blur,sharpen"), "sharpen"),
    (dict(degradations="blur"), "two degradations"),
    (dict(degradations="blur,blur"), "twice"),
    (dict(degradations=""), "no degradations"),
    (dict(quadrature="simpson"), "simpson"),
    (dict(steps=0), "step"),
    (dict(method="gradcam"), "gradcam"),
])
def test_bad_options_get_one_line_errors(tiny_pair, tiny_images, kwargs, message):
    kwargs = {"method": "faig", **kwargs}
    with pytest.raises(FaigError, match=message) as error:
        attribute(kwargs.pop("method"), *tiny_pair, tiny_images, progress=False, **kwargs)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("method", ["abs", "random"])
@pytest.mark.parametrize("kwargs, message", [
    (dict(quadrature="bogus"),
     "unknown quadrature 'bogus'; choose from gausslegendre, riemann_left, riemann_trapezoid"),
    (dict(steps=0), "--steps (with gausslegendre) must be an integer >= 1, got 0"),
    (dict(quadrature="riemann_trapezoid", steps=1), "--steps (with riemann_trapezoid) must be an integer >= 2, got 1"),
])
def test_a_bad_quadrature_is_refused_even_where_no_path_is_integrated(tiny_pair, method, kwargs, message):
    with pytest.raises(FaigError) as error:
        attribute(method, *tiny_pair, [], progress=False, **kwargs)
    assert str(error.value) == message


@pytest.mark.parametrize("kwargs, message", [
    (lambda tmp: dict(split="bogus"), "unknown split 'bogus'; choose from train, discover, calibrate, test"),
    (lambda tmp: dict(hr_dir=tmp / "trunc"),
     "cannot read image {tmp}/trunc/x.png: not an image file, or a damaged one"),
    (lambda tmp: dict(hr_dir=tmp / "nowhere"), "not a folder: {tmp}/nowhere"),
])
def test_abs_reads_the_images_named_though_it_needs_none(checkpoints, monkeypatch, kwargs, message):
    monkeypatch.setattr(api, "attribute", lambda *a, **k: pytest.fail("attributed before reading the images"))
    (checkpoints / "trunc").mkdir()
    (checkpoints / "trunc" / "x.png").write_bytes((checkpoints / "hr" / "img0.png").read_bytes()[:200])
    with pytest.raises(FaigError) as error:
        run_attribute(checkpoints / "out", "abs", baseline=checkpoints / "baseline.safetensors",
                      target=checkpoints / "target.safetensors", progress=False, **kwargs(checkpoints))
    assert str(error.value) == message.format(tmp=checkpoints)
    assert not (checkpoints / "out").exists()


def test_an_empty_image_set_is_refused(tiny_pair):
    with pytest.raises(FaigError, match="empty"):
        attribute("faig", *tiny_pair, [], progress=False)


def test_run_attribute_refuses_half_a_pair_and_missing_files(checkpoints):
    with pytest.raises(FaigError, match="--baseline and --target"):
        run_attribute(checkpoints / "out", baseline=checkpoints / "baseline.safetensors")
    with pytest.raises(FaigError, match="not found"):
        run_attribute(checkpoints / "out", baseline=checkpoints / "nope.pth", target=checkpoints / "target.safetensors")
    with pytest.raises(FaigError, match="no images|empty"):
        (checkpoints / "empty").mkdir()
        run_attribute(checkpoints / "out", baseline=checkpoints / "baseline.safetensors",
                      target=checkpoints / "target.safetensors", hr_dir=checkpoints / "empty", progress=False)


def test_saved_results_are_tied_to_their_network(tmp_path, tiny_pair, tiny_images):
    result = attribute("abs", *tiny_pair, [], device="cpu", progress=False)
    files = save_attribution(result, tmp_path / "abs")
    assert result.metadata["filters"] == result.index.total
    assert result.metadata["filter_layout"] == result.index.layout
    assert load_attribution(tmp_path / "abs", result.index).index == result.index
    assert torch.equal(read_index_file(files["blur"], result.index), result.rankings["blur"])
    other = FilterIndex.from_module(build_model(ArchConfig("srresnet", 2, width=4, depth=2)))
    with pytest.raises(FaigError, match=rf"attribution.safetensors ranks {result.index.total:,} filters of another "
                                        rf"network \(layout {result.index.layout}\); this network has {other.total:,}"):
        load_attribution(tmp_path / "abs", other)
    with pytest.raises(FaigError, match=rf"blur_index.txt ranks {result.index.total:,} filters of another network"):
        read_index_file(files["blur"], other)


def test_the_preset_path_reads_the_wider_mixs_target_for_jpeg(tmp_path, monkeypatch):
    """`faig attribute --preset embedded --degradations blur,noise,jpeg` attributes the target
    fine-tuned on JPEG too (<arch>_target_jpeg), not the blur-and-noise one."""
    asked = []

    def preset_weights(preset, arch, stage, extra_kinds=()):
        asked.append((stage, extra_kinds))
        return tmp_path / f"{stage}.safetensors"

    monkeypatch.setattr(registry, "preset_weights", preset_weights)
    with pytest.raises(FaigError, match="checkpoint not found"):
        run_attribute(tmp_path / "out", degradations="blur,noise,jpeg")
    assert asked == [("baseline", ()), ("target", ("jpeg",))]
