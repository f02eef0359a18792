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
