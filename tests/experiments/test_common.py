import pytest
import torch

from faig.attribution.filters import state_of
from faig.experiments.common import mean_std, outputs, runner


def test_batched_outputs_equal_one_at_a_time_and_keep_the_order(pair_models):
    _, target = pair_models
    generator = torch.Generator().manual_seed(0)
    lrs = [torch.rand(1, 3, 10 + 2 * (i % 2), 12, generator=generator) for i in range(5)]
    model = runner(target)
    batched = outputs(model, lrs, batch_size=2)
    single = [outputs(model, [lr])[0] for lr in lrs]
    assert [o.shape[-2] for o in batched] == [20, 24, 20, 24, 20]
    assert all(torch.allclose(a, b, atol=1 / 255) for a, b in zip(batched, single))
    assert all(torch.equal(o, (o * 255).round() / 255) for o in batched)


def test_loading_a_state_leaves_the_original_model_alone(pair_models, lrs):
    baseline, target = pair_models
    before = state_of(target)
    outputs(runner(target), lrs, state_of(baseline))
    assert all(torch.equal(before[k], v) for k, v in state_of(target).items())


def test_mean_std():
    assert mean_std([1.0, 3.0]) == {"mean": 2.0, "std": pytest.approx(2 ** 0.5)}
    assert mean_std([4.0]) == {"mean": 4.0, "std": 0.0}
    with pytest.raises(ValueError):
        mean_std([])
