"""Two-branch training (Sec. 3): the same batches for every network of a comparison, DASR's encoder
warm-up, and interruption-proof runs that continue bit-identically."""

import os
import signal

import pytest
import torch
from torch import nn

import faig.training.two_branch as two_branch
from faig.data.degradations import DegradationSampler
from faig.data.splits import NamedImage
from faig.models.dan import DAN, DANConfig
from faig.models.dasr import DASR, DASRConfig
from faig.models.registry import ArchConfig, build_model
from faig.training.config import TrainConfig
from faig.training.trainer import TrainingInterrupted
from faig.training.two_branch import TwoBranchLosses, dan_objective, dasr_objective, l1_objective, train_network

DAN_CONFIG = DANConfig(width=8, blocks=1, estimator_width=4, estimator_blocks=1, iterations=2)
DASR_CONFIG = DASRConfig(width=8, groups=1, blocks=1, encoder_width=4, queue_size=8)


def images(count: int = 2, size: int = 40) -> list[NamedImage]:
    generator = torch.Generator().manual_seed(0)
    return [NamedImage(f"img{i}", torch.rand(1, 3, size, size, generator=generator)) for i in range(count)]


def test_networks_of_a_comparison_see_the_same_batches():
    config = TrainConfig(arch=ArchConfig("srresnet", 2, width=4, depth=1), steps=3, batch_size=2, gt_size=24,
                         degradations=DegradationSampler(2, 1.0, (1.0,), 1.0, (0.05,)), val_every=0)
    seen: dict[str, list[torch.Tensor]] = {"dan": [], "srresnet": []}

    def recording(name, objective):
        def wrapped(model, batch, step):
            seen[name].append(batch.lr.clone())
            return objective(model, batch, step)
        return wrapped

    train_network(DAN(DAN_CONFIG), recording("dan", dan_objective(TwoBranchLosses())), config, images(),
                  torch.device("cpu"))
    ema, run = train_network(build_model(config.arch), recording("srresnet", l1_objective), config, images(),
                             torch.device("cpu"))
    assert len(seen["dan"]) == 3 and all(torch.equal(a, b) for a, b in zip(seen["dan"], seen["srresnet"]))
    assert not ema.training and [(s["first_step"], s["last_step"]) for s in run["segments"]] == [(0, 3)]


def test_dasr_trains_its_encoder_alone_during_the_warm_up():
    config = TrainConfig(arch=ArchConfig("srresnet", 2, width=4, depth=1), steps=2, batch_size=4, gt_size=24,
                         degradations=DegradationSampler(2, 1.0, (1.0, 2.0)), val_every=0)
    net = DASR(DASR_CONFIG)
    restorer_before = net.conv_first.weight.clone()
    encoder_before = next(net.encoder.parameters()).clone()
    objective = dasr_objective(TwoBranchLosses(encoder_warmup=1.0), 2, 0, images())
    ema, _ = train_network(net, objective, config, images(), torch.device("cpu"))
    assert torch.equal(net.conv_first.weight, restorer_before)
    assert not torch.equal(next(net.encoder.parameters()), encoder_before)
    bn = [m for m in net.encoder.modules() if isinstance(m, nn.BatchNorm2d)][0]
    ema_bn = [m for m in ema.encoder.modules() if isinstance(m, nn.BatchNorm2d)][0]
    assert torch.equal(bn.running_mean, ema_bn.running_mean) and int(bn.num_batches_tracked) == 2


def _dasr_training(checkpoint, tag):
    """A 4-step DASR training (encoder alone for the first step), from the same initial weights."""
    config = TrainConfig(arch=ArchConfig("srresnet", 2, width=4, depth=1), steps=4, batch_size=2, gt_size=24,
                         degradations=DegradationSampler(2, 1.0, (1.0, 2.0)), val_every=0, checkpoint_every=4)
    torch.manual_seed(0)
    objective = dasr_objective(TwoBranchLosses(encoder_warmup=0.25), 4, 0, images())
    return train_network(DASR(DASR_CONFIG), objective, config, images(), torch.device("cpu"), checkpoint=checkpoint,
                         tag=tag)


def test_an_interrupted_training_continues_bit_identically_from_its_checkpoint(tmp_path, monkeypatch):
    """SIGTERM (a lent GPU's time limit, the end of a session) saves the run; the same call continues
    it to the weights of an uninterrupted run (DASR: its queue, momentum encoder and key patches too)."""
    straight, _ = _dasr_training(None, {"run": 1})
    calls, real_batch = [], two_branch.training_batch

    def batch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            os.kill(os.getpid(), signal.SIGTERM)
        return real_batch(*args, **kwargs)

    monkeypatch.setattr(two_branch, "training_batch", batch)
    checkpoint, handler = tmp_path / "checkpoints" / "dasr_blur_two_branch_seed0.pt", signal.getsignal(signal.SIGTERM)
    with pytest.raises(TrainingInterrupted, match="SIGTERM at step 3 of 4.*the same command continues it"):
        _dasr_training(checkpoint, {"run": 1})
    monkeypatch.undo()
    assert checkpoint.is_file() and signal.getsignal(signal.SIGTERM) is handler
    resumed, run = _dasr_training(checkpoint, {"run": 1})
    assert [(s["first_step"], s["last_step"]) for s in run["segments"]] == [(0, 3), (3, 4)]
    assert straight.state_dict().keys() == resumed.state_dict().keys()
    for key, value in straight.state_dict().items():
        assert torch.equal(value, resumed.state_dict()[key]), key


def test_a_checkpoint_of_another_run_is_not_resumed(tmp_path, monkeypatch):
    checkpoint, real_batch = tmp_path / "run.pt", two_branch.training_batch

    def batch(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGTERM)
        return real_batch(*args, **kwargs)

    monkeypatch.setattr(two_branch, "training_batch", batch)
    with pytest.raises(TrainingInterrupted):
        _dasr_training(checkpoint, {"lr": 1e-3})
    monkeypatch.undo()
    _, run = _dasr_training(checkpoint, {"lr": 5e-4})
    assert [(s["first_step"], s["last_step"]) for s in run["segments"]] == [(0, 4)]


def test_dasr_keys_are_other_patches_of_each_samples_image_degraded_alike():
    """DASR's positive key of a sample comes from the image the sample was cropped from (a flat grey
    0.2 or 0.8 here, so the key's mean names its image) under the sample's degradation (its noise
    level shows as the key's spread; the blurred-only key stays flat)."""
    from faig.data.degradations import Degradation
    from faig.data.patches import TrainingBatch

    flat = [NamedImage(f"grey{i}", torch.full((1, 3, 40, 40), value)) for i, value in enumerate((0.2, 0.8))]
    degradations = [Degradation(2, 1.0), Degradation(2, None, 0.1), Degradation(2, 2.0, 0.05)]
    batch = TrainingBatch(torch.zeros(3, 3, 12, 12), torch.zeros(3, 3, 24, 24), degradations, [1, 0, 1])
    keys = two_branch.key_patches(flat, batch, torch.Generator().manual_seed(0))
    assert keys.shape == (3, 3, 12, 12)
    assert [round(float(key.mean()), 1) for key in keys] == [0.8, 0.2, 0.8]
    assert float(keys[0].std()) < 1e-6
    assert float(keys[1].std()) == pytest.approx(0.1, rel=0.2) and float(keys[2].std()) == pytest.approx(0.05, rel=0.2)
