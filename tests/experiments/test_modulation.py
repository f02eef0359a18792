import torch

from faig.attribution.filters import FilterIndex
from faig.experiments.common import outputs, runner, state_of
from faig.experiments.modulation import PAPER_LAMBDAS, modulated_outputs, modulated_state, modulation_curve


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
    assert all(point["gradient_energy"] > 0 for point in curve)
