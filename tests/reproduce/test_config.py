import pytest

from faig.errors import FaigError
from faig.reproduce.config import make_config, rerun_command


def test_overrides_are_applied_and_seed_counts_capped():
    config = make_config(quick=True, seeds=2, retrain_steps=50, retrain_seeds=5)
    assert (config.seeds, config.retrain.steps, config.retrain_seeds, config.prediction_seeds) == (2, 50, 2, 1)
    assert config.archs == ("srresnet", "srcnn_style")


@pytest.mark.parametrize("options,message", [
    (dict(seeds=0), "--seeds must be at least 1"), (dict(retrain_steps=0), "--retrain-steps must be at least 1"),
    (dict(archs=("vgg",)), "unknown architecture 'vgg'"), (dict(archs=()), "no architecture named"),
    (dict(preset="huge"), "unknown preset 'huge'")])
def test_bad_settings_are_refused_in_one_line(options, message):
    with pytest.raises(FaigError, match=message):
        make_config(**options)


def test_the_rerun_command_names_only_what_differs_from_the_defaults():
    assert rerun_command(make_config()) == "faig reproduce --preset embedded --arch srresnet,srcnn_style"
    config = make_config(archs=("srcnn_style",), retrain_steps=40, prediction_seeds=2)
    assert rerun_command(config) == ("faig reproduce --preset embedded --arch srcnn_style --prediction-seeds 2 "
                                     "--retrain-steps 40")


@pytest.mark.parametrize("degradations,message", [
    (("blur",), "needs at least two"), (("blur", "clean"), "single degradations"),
    (("blur", "blur+noise"), "single degradations"), (("blur1", "blur3"), "names a kind twice"),
    (("blur", "haze"), "unknown degradation variant 'haze'")])
def test_bad_degradations_are_refused_in_one_line(degradations, message):
    with pytest.raises(FaigError, match=message):
        make_config(degradations=degradations)


def test_a_wider_mix_picks_the_architectures_that_ship_its_target(tmp_path, monkeypatch):
    """Issue 12: blur,noise,jpeg needs a target fine-tuned on JPEG too (<arch>_target_jpeg); by
    default only the architectures that ship one run, and the rerun command names the degradations."""
    for stem in ("srresnet_baseline", "srresnet_target", "srresnet_target_jpeg", "srcnn_style_baseline",
                 "srcnn_style_target"):
        (tmp_path / f"{stem}.safetensors").touch()
    monkeypatch.setattr("faig.models.registry.EMBEDDED_WEIGHTS", tmp_path)
    config = make_config(degradations=("blur", "noise", "jpeg"))
    assert config.archs == ("srresnet",) and config.mix == ("jpeg",)
    assert rerun_command(config) == "faig reproduce --preset embedded --arch srresnet --degradations blur,noise,jpeg"
    assert make_config().archs == ("srresnet", "srcnn_style")  # swinir ships no weights here
    assert make_config(degradations=("blur1", "noise0.05")).mix == ()
    assert rerun_command(make_config(level_study=False)).endswith("--no-level-study")
    (tmp_path / "srresnet_target_jpeg.safetensors").unlink()  # none ships it: the shipped pairs, fine-tuned here
    assert make_config(degradations=("blur", "noise", "jpeg")).archs == ("srresnet", "srcnn_style")
    for path in tmp_path.iterdir():
        path.unlink()
    assert make_config().archs == ("srresnet", "srcnn_style", "swinir")  # nothing shipped: all, trained here
