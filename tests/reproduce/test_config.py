import pytest
import torch

from faig.data.images import write_image
from faig.errors import FaigError
from faig.reproduce.config import check_folders, make_config, rerun_command


def test_overrides_are_applied_and_seed_counts_capped():
    config = make_config(quick=True, seeds=2, retrain_steps=50, retrain_seeds=5)
    assert (config.seeds, config.retrain.steps, config.retrain_seeds, config.prediction_seeds) == (2, 50, 2, 1)
    assert config.archs == ("srresnet", "srcnn_style", "swinir")  # the pairs the preset ships


@pytest.mark.parametrize("options,message", [
    (dict(seeds=0), "--seeds must be at least 1"), (dict(retrain_steps=0), "--retrain-steps must be at least 1"),
    (dict(archs=("vgg",)), "unknown architecture 'vgg'"), (dict(archs=()), "no architecture named"),
    (dict(preset="huge"), "unknown preset 'huge'"),
    (dict(folders={"test": "/nonexistent"}), "^--test-dir '/nonexistent' is not a folder$"),
    (dict(folders={"test": ""}), "^--test-dir '' is not a folder$")])
def test_bad_settings_are_refused_in_one_line(options, message):
    with pytest.raises(FaigError, match=message):
        make_config(**options)


def test_the_rerun_command_names_only_what_differs_from_the_defaults():
    assert rerun_command(make_config()) == "faig reproduce --preset embedded --arch srresnet,srcnn_style,swinir"
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


def _folder(path, *sizes):
    """A folder of random images of the given sizes (none: an empty folder)."""
    path.mkdir()
    for index, size in enumerate(sizes):
        write_image(path / f"{index}.png", torch.rand(1, 3, size, size))
    return path


@pytest.mark.parametrize("split, sizes, message", [
    ("calibrate", (), "no images in {folder}"),
    ("test", (24, 1), "image too small: {folder}/1.png is 1x1; at least 4 pixels a side are needed (it is "
                      "cropped to multiples of 2)"),
    ("test", (3,), "image too small: {folder}/0.png is 3x3; at least 4 pixels"),
    ("discover", (24,), "cannot read image {folder}/bad.png: not an image file, or a damaged one"),
    ("train", (32, 20), "training image 1 (20x20) is smaller than the 32px patch"),
])
def test_a_folder_the_run_cannot_use_is_refused_with_the_runs_own_error(tmp_path, split, sizes, message):
    folder = _folder(tmp_path / split, *sizes)
    if split == "discover":
        (folder / "bad.png").write_text("not an image")
    config = make_config(archs=("srresnet",), quick=True, folders={split: str(folder)})
    with pytest.raises(FaigError) as error:
        check_folders(config, scale=2)
    assert message.format(folder=folder) in str(error.value)


def test_two_roles_on_one_folder_are_refused(tmp_path):
    folder = _folder(tmp_path / "set", 32)
    with pytest.raises(FaigError, match="^--calibrate-dir and --test-dir name the same folder"):
        make_config(archs=("srresnet",), quick=True, folders={"calibrate": str(folder), "test": f"{folder}/."})


def test_folders_of_usable_images_pass_at_the_networks_scale(tmp_path):
    folders = {"train": _folder(tmp_path / "train", 32), "test": _folder(tmp_path / "test", 5, 4)}
    config = make_config(archs=("srresnet",), quick=True, folders={k: str(v) for k, v in folders.items()})
    check_folders(config, scale=2)
    with pytest.raises(FaigError, match=f"image too small: {folders['test']}/0.png is 5x5; at least 6 pixels"):
        check_folders(config, scale=3)
