"""TrainConfig refuses what the training loop cannot use, before any training; saved configs load."""

import json
from dataclasses import replace
from pathlib import Path

import pytest

from faig.data.degradations import DegradationSampler
from faig.errors import FaigError
from faig.models.registry import ArchConfig
from faig.training.config import TrainConfig, load_config, preset_config
from faig.training.trainer import train_stages

BASE = TrainConfig(arch=ArchConfig("srresnet", 2, width=8, depth=1), steps=4, gt_size=24)
EMBEDDED = Path(__file__).resolve().parents[2] / "src" / "faig" / "models" / "weights" / "embedded"


@pytest.mark.parametrize("changes, message", [
    (dict(steps=0), "steps must be an integer >= 1, got 0"),
    (dict(steps=2.5), "steps must be an integer >= 1, got 2.5"),
    (dict(lr=0.0), "lr must be a finite number > 0, got 0.0"),
    (dict(lr=float("nan")), "lr must be a finite number > 0, got nan"),
    (dict(betas=(0.9, 1.0)), r"betas must be a finite number in \[0, 1\), got 1.0"),
    (dict(betas=(0.9,)), r"betas must be two numbers in \[0, 1\), got \[0.9\]"),
    (dict(batch_size=0), "batch_size must be an integer >= 1, got 0"),
    (dict(gt_size=2), "gt_size must be an integer >= 4, got 2"),
    (dict(gt_size=25), "gt_size must be a multiple of the scale 2, got 25"),
    (dict(val_every=-1), "val_every must be an integer >= 0, got -1"),
    (dict(checkpoint_every=0), "checkpoint_every must be an integer >= 1, got 0"),
    (dict(channel_gain=1.0), r"channel_gain must be a finite number in \[0, 1\), got 1.0"),
    (dict(ema_decay=float("inf")), r"ema_decay must be a finite number in \[0, 1\], got inf"),
    (dict(stage="final"), "stage must be one of baseline, target, got 'final'"),
    (dict(seed=-1), r"seed must be an integer in \[0, 4294967295\], got -1"),
    (dict(seed=99999999999999999999), r"seed must be an integer in \[0, 4294967295\], got 99999999999999999999"),
    (dict(degradations=DegradationSampler(scale=3)), "degradations.scale must equal the network's scale 2, got 3"),
])
def test_bad_values_are_refused_naming_the_field(changes, message):
    with pytest.raises(FaigError, match=f"^{message}$"):
        replace(BASE, **changes)


def test_the_preset_and_a_saved_configuration_refuse_a_seed_torch_cannot_take(tmp_path):
    message = r"seed must be an integer in \[0, 4294967295\], got 2000000000000000000000"
    with pytest.raises(FaigError, match=f"^{message}$"):
        preset_config("embedded", "srresnet", "baseline", seed=2 * 10**21)
    (tmp_path / "config.json").write_text(json.dumps({**BASE.to_dict(), "seed": 2 * 10**21}))
    with pytest.raises(FaigError, match=f"config.json: {message}$"):
        load_config(tmp_path / "config.json")
    assert replace(BASE, seed=2**32 - 1).seed == 2**32 - 1


def test_never_validating_is_allowed():
    assert replace(BASE, val_every=0).val_every == 0


@pytest.mark.parametrize("name", ["srresnet_baseline", "srresnet_target", "srcnn_style_baseline",
                                  "srcnn_style_target"])
def test_the_shipped_weights_configs_still_load(name):
    saved = json.loads((EMBEDDED / f"{name}.json").read_text())["config"]
    config = TrainConfig.from_dict(saved)
    assert TrainConfig.from_dict(config.to_dict()) == config
    assert load_config(EMBEDDED / f"{name}.json") == config


@pytest.mark.parametrize("scale, srresnet, srcnn_style", [(2, 64, 48), (3, 66, 48), (4, 64, 48)])
def test_preset_patches_are_whole_lr_pixels(scale, srresnet, srcnn_style):
    assert preset_config("embedded", "srresnet", "target", scale).gt_size == srresnet
    assert preset_config("embedded", "srcnn_style", "target", scale).gt_size == srcnn_style
    assert preset_config("paper", "srresnet", "baseline", scale).gt_size == srresnet


@pytest.mark.parametrize("text, message", [
    (json.dumps({**BASE.to_dict(), "steps": 0}), r"c\.json: steps must be an integer >= 1, got 0"),
    ("{not json", r"c\.json is not JSON \(line 1, column 2\)"),
    ('{"steps": 3}', r"c\.json is not a faig training configuration: it has no 'arch' entry"),
    (json.dumps({**BASE.to_dict(), "colour": 1}), r"c\.json: unknown entry colour \(a typo, or another version"),
    (json.dumps({**BASE.to_dict(), "degradations": {**BASE.to_dict()["degradations"], "haze_prob": 0.5}}),
     r"c\.json: unknown entry degradations\.haze_prob"),
    (json.dumps({**BASE.to_dict(), "degradations": {**BASE.to_dict()["degradations"], "exclusive_kinds": "noise"}}),
     r'c\.json: degradations\.exclusive_kinds must be a list, got "noise"'),
    (json.dumps({**BASE.to_dict(), "betas": 0.9}), r"c\.json: betas must be a list, got 0\.9"),
])
def test_a_bad_configuration_file_is_one_line_in_words(tmp_path, text, message):
    (tmp_path / "c.json").write_text(text)
    with pytest.raises(FaigError, match=message) as error:
        load_config(tmp_path / "c.json")
    assert "\n" not in str(error.value) and "Error" not in str(error.value)


@pytest.mark.parametrize("minutes", [-1.0, float("nan"), float("inf")])
def test_train_stages_refuses_bad_checkpoint_minutes_before_any_work(tmp_path, minutes):
    with pytest.raises(FaigError, match=f"^--checkpoint-minutes must be a finite number >= 0, got {minutes}$"):
        train_stages("embedded", "srresnet", tmp_path / "out", ("baseline",), checkpoint_minutes=minutes)
    assert not (tmp_path / "out").exists()


def test_a_wider_mix_adds_jpeg_to_the_targets_blind_mix_and_names_its_weights():
    """Issue 12's wider mix: `faig train --mix jpeg` fine-tunes on blur, noise and JPEG (quality 30)
    and writes <arch>_target_jpeg; the baseline is the paper's. By default each kind has probability
    0.5; srresnet's is candidate srresnet_jpeg_r5's: noise and JPEG one choice at a quarter each,
    twice the steps, random channel order and gains, half the patches dead leaves."""
    from faig.training.config import preset_config
    from faig.training.trainer import default_name

    sampler = preset_config("embedded", "srcnn_style", "target", mix=("jpeg",)).degradations
    assert (sampler.blur_prob, sampler.noise_prob, sampler.jpeg_prob, sampler.jpeg_qualities) == (0.5, 0.5, 0.5, (30,))
    target = preset_config("embedded", "srresnet", "target", mix=("jpeg",))
    sampler = target.degradations
    assert (sampler.blur_prob, sampler.noise_prob, sampler.jpeg_prob, sampler.exclusive_kinds) == (
        0.5, 0.25, 0.25, ("noise", "jpeg"))
    assert default_name(target) == "srresnet_target_jpeg"
    assert default_name(preset_config("embedded", "srresnet", "target")) == "srresnet_target"
    plain = preset_config("embedded", "srresnet", "target").to_dict()
    assert {key for key, value in target.to_dict().items() if plain[key] != value} == {
        "degradations", "steps", "channel_shuffle", "channel_gain", "synthetic_share"}
    assert preset_config("embedded", "srresnet", "baseline", mix=("jpeg",)) == preset_config("embedded", "srresnet",
                                                                                             "baseline")
    with pytest.raises(FaigError, match="--mix adds jpeg to the blind mix of blur and noise, not 'haze'"):
        preset_config("embedded", "srresnet", "target", mix=("haze",))
