"""The JPEG specialist of benchmarks/jpeg_ceiling.py (issue 12): a measurement that differs from
srresnet_jpeg_r5's target by its mix and length alone, and the decision written down before it
trained."""

from dataclasses import replace

import pytest
import torch

from faig.models.checkpoints import save_weights
from faig.models.registry import ArchConfig, build_model
from faig.training.config import load_config
from faig.training.trainer import default_name


class TestSpecialist:
    def test_it_is_r5s_target_with_only_jpeg_in_its_mix(self, ceiling, regime):
        specialist = ceiling.specialist_config()
        r5 = regime.candidate_configs("srresnet_jpeg_r5")["target"]
        assert replace(specialist, steps=r5.steps, degradations=r5.degradations) == r5
        mix = specialist.degradations
        assert (mix.blur_prob, mix.noise_prob, mix.jpeg_prob, mix.jpeg_qualities) == (0.0, 0.0, 1.0, (30,))
        assert specialist.steps == 10_000

    def test_it_starts_from_the_baseline_every_wider_mix_target_shares(self, ceiling, regime):
        assert ceiling.baseline_weights() == regime.candidate_weights("srresnet_jpeg_r1")["baseline"]
        assert ceiling.baseline_weights().is_file()

    def test_its_config_on_disk_is_what_the_script_describes(self, ceiling):
        config = ceiling.specialist_config()
        assert load_config(ceiling.HERE / f"{default_name(config)}.config.json") == config


class TestVerdict:
    @pytest.mark.parametrize("gain, plateau, starts", [
        (0.5, 0.2, "at or above the mark"),  # the mark decides alone once it is reached
        (0.49, 0.049, "below the mark, plateaued"),
        (0.49, 0.05, "below the mark, not plateaued"),
        (0.1, None, "below the mark, not plateaued"),  # too few validations to judge
    ])
    def test_the_mark_and_the_plateau_decide(self, ceiling, gain, plateau, starts):
        assert ceiling.verdict(gain, plateau).startswith(starts)


def test_test_psnr_names_networks_whose_files_share_a_stem(regime, tmp_path, one_thread):
    """Two targets both called srresnet_target_jpeg (the specialist's and r5's) keep their own scores."""
    arch = ArchConfig("srresnet", 2, width=4, depth=1)
    paths = {}
    for name, fill in (("first", 0.0), ("second", 0.01)):
        model = build_model(arch)
        with torch.no_grad():
            for parameter in model.parameters():
                parameter.fill_(fill)
        paths[name] = tmp_path / name / "srresnet_target_jpeg.safetensors"
        paths[name].parent.mkdir()
        save_weights(paths[name], model, arch)
    psnr = regime.test_psnr(paths, ("clean",))
    assert list(psnr) == ["first", "second"]
    assert psnr["first"]["clean"] != psnr["second"]["clean"]
