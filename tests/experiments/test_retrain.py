import pytest
import torch

from faig.attribution.filters import FilterIndex, state_of
from faig.errors import FaigError
from faig.experiments.retrain import RetrainConfig, gradient_mask, retrain, task_config
from faig.models.checkpoints import save_weights
from faig.models.registry import build_model

SHORT = RetrainConfig(steps=3, lr=1e-2, batch_size=2, gt_size=16)


@pytest.fixture
def baseline_file(tmp_path, tiny_arch):
    torch.manual_seed(0)
    model = build_model(tiny_arch)
    path = tmp_path / "baseline.safetensors"
    save_weights(path, model, tiny_arch)
    return path, state_of(model)


def test_tasks_draw_only_their_degradation(tiny_arch):
    blur = task_config(tiny_arch, "blur", SHORT, seed=1).degradations
    noise = task_config(tiny_arch, "noise", SHORT, seed=1).degradations
    assert (blur.blur_prob, blur.noise_prob, noise.blur_prob, noise.noise_prob) == (1.0, 0.0, 0.0, 1.0)
    with pytest.raises(FaigError):
        task_config(tiny_arch, "fog", SHORT, seed=1)


def test_mask_covers_only_layers_with_selected_filters(tiny_arch):
    index = FilterIndex.from_module(build_model(tiny_arch))
    selection = torch.zeros(index.total)
    selection[index.flat(index.layers[1].name, 0, 0)] = 1
    mask = gradient_mask(index, selection)
    assert list(mask) == [index.layers[1].name]
    assert mask[index.layers[1].name].sum() == 1


def test_unselected_weights_and_all_biases_stay_bit_identical(tmp_path, tiny_arch, baseline_file):
    path, before = baseline_file
    index = FilterIndex.from_module(build_model(tiny_arch))
    selection = index.selection(torch.randperm(index.total, generator=torch.Generator().manual_seed(0)), 10)
    model = retrain(path, tiny_arch, "blur", selection, SHORT, seed=0, out_dir=tmp_path / "runs", name="faig")
    after = state_of(model)
    chosen = index.expand(selection)
    changed = 0
    for key, value in after.items():
        if key in chosen:
            mask = chosen[key].bool().expand_as(value)
            assert torch.equal(value[~mask], before[key][~mask]), key
            changed += int((value[mask] != before[key][mask]).any())
        else:
            assert torch.equal(value, before[key]), key
    assert changed > 0


def test_upper_bound_trains_everything(tmp_path, tiny_arch, baseline_file):
    path, before = baseline_file
    model = retrain(path, tiny_arch, "noise", None, SHORT, seed=0, out_dir=tmp_path, name="upper")
    after = state_of(model)
    assert all(not torch.equal(after[k], before[k]) for k in after)
