import torch

from faig.attribution.filters import FilterIndex, masked_state, state_of
from faig.experiments.common import outputs, runner
from faig.experiments.masking import masked_outputs, masking_drops, percent_key


def ranking_for(model: torch.nn.Module) -> torch.Tensor:
    index = FilterIndex.from_module(model)
    return torch.randperm(index.total, generator=torch.Generator().manual_seed(0))


def test_percent_keys():
    assert [percent_key(p) for p in (0.5, 1, 1.0, 100)] == ["0.5", "1", "1", "100"]


def test_masking_nothing_changes_nothing(pair_models, lrs):
    baseline, target = pair_models
    index = FilterIndex.from_module(target)
    state = masked_state(state_of(target), state_of(baseline), index, index.selection(ranking_for(target), 0))
    assert all(torch.equal(state[key], value) for key, value in state_of(target).items())
    curves = masking_drops(baseline, target, ranking_for(target), {"blur_input": lrs}, (0,))
    assert curves == {"0": {"blur_input": [0.0, 0.0, 0.0]}}


def test_masking_everything_gives_the_baseline_filters_exactly(pair_models):
    baseline, target = pair_models
    index = FilterIndex.from_module(target)
    state = masked_state(state_of(target), state_of(baseline), index, index.selection(ranking_for(target), 100))
    for key, value in state.items():
        expected = state_of(baseline)[key] if key in index.names else state_of(target)[key]
        assert torch.equal(value, expected), key


def test_masking_everything_gives_the_baseline_outputs_when_only_filters_differ(pair_models, lrs, perturb):
    baseline, _ = pair_models
    target = perturb(baseline, 5, weights_only=True)
    selections = {"all": torch.ones(FilterIndex.from_module(target).total)}
    images = masked_outputs(baseline, target, selections, lrs)
    expected = outputs(runner(baseline), lrs)
    assert all(torch.equal(a, b) for a, b in zip(images["all"], expected))
    curves = masking_drops(baseline, target, ranking_for(target), {"noise_input": lrs}, (100,),
                           references={"noise_input": expected})
    assert curves["100"]["noise_input"] == [0.0, 0.0, 0.0]


def test_drops_grow_from_nothing_and_leave_the_models_alone(pair_models, lrs):
    baseline, target = pair_models
    before = state_of(target)
    curves = masking_drops(baseline, target, ranking_for(target), {"blur_input": lrs, "noise_input": lrs[:2]},
                           (0, 50, 100))
    assert list(curves) == ["0", "50", "100"]
    assert len(curves["50"]["noise_input"]) == 2
    assert sum(curves["100"]["blur_input"]) > 0
    assert all(torch.equal(before[k], v) for k, v in state_of(target).items())


def test_a_selection_seen_before_is_not_run_again(pair_models, lrs, monkeypatch):
    import faig.experiments.masking as masking

    baseline, target = pair_models
    seen: dict = {}
    first = masking_drops(baseline, target, ranking_for(target), {"blur_input": lrs}, (1, 100), seen=seen)
    calls = []
    monkeypatch.setattr(masking, "outputs", lambda *args, **kwargs: calls.append(1) or [])
    other = torch.arange(FilterIndex.from_module(target).total)
    again = masking_drops(baseline, target, other, {"blur_input": lrs}, (100,),
                          references={"blur_input": []}, seen=seen)
    assert again["100"] == first["100"] and calls == []
