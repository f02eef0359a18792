import json
import os
import signal
import subprocess
import sys
from dataclasses import replace

import pytest
import torch

import torch.nn.functional as F

import faig.training.trainer as trainer_module
from faig.data.patches import training_batch
from faig.data.splits import folder_images
from faig.models.checkpoints import load_model
from faig.models.registry import build_model
from faig.data.degradations import DegradationSampler
from faig.cache import file_key
from faig.errors import FaigError
from faig.files import exclusive, write_json
from faig.models.checkpoints import load_state_dict, save_weights
from faig.models.registry import ArchConfig
from faig.training.config import TrainConfig, load_config, preset_config
from faig.training.trainer import (TrainingInterrupted, checkpoint_path, ema_decay, ema_update, learning_rate,
                                  stage_begun, train, train_stages)

TINY = TrainConfig(arch=ArchConfig("srresnet", 2, width=8, depth=1), steps=6, lr=1e-3, batch_size=4, gt_size=24,
                   degradations=DegradationSampler(2, 0.5, (2.0,), 0.5, (0.1,)), val_split="discover",
                   val_every=6, checkpoint_every=3, seed=3)


def test_cosine_schedule():
    config = replace(TINY, steps=100, lr=1e-3, eta_min=0.0)
    assert learning_rate(config, 0) == pytest.approx(1e-3)
    assert learning_rate(config, 50) == pytest.approx(5e-4)
    restart = replace(config, cosine_period=25)
    assert learning_rate(restart, 25) == pytest.approx(1e-3)


class TestEma:
    """The saved weights are the EMA copy: its decay ramp and its update."""

    def test_decay_ramps_up_to_the_configured_value(self):
        config = replace(TINY, ema_decay=0.999)
        assert ema_decay(config, 0) == pytest.approx(0.1)
        assert ema_decay(config, 90) == pytest.approx(91 / 100)
        assert ema_decay(config, 10**6) == 0.999

    def test_update_moves_one_minus_decay_of_the_way(self):
        ema, model = torch.nn.Linear(2, 1), torch.nn.Linear(2, 1)
        with torch.no_grad():
            ema.weight.fill_(1.0)
            model.weight.fill_(3.0)
            ema.bias.fill_(0.0)
            model.bias.fill_(-1.0)
        ema_update(ema, model, 0.75)
        assert ema.weight.tolist() == [[1.5, 1.5]] and ema.bias.tolist() == [-0.25]
        assert model.weight.tolist() == [[3.0, 3.0]]


def test_presets():
    paper = preset_config("paper", "srresnet", "target")
    assert (paper.steps, paper.lr, paper.arch.width, paper.arch.depth) == (100_000, 5e-5, 64, 16)
    assert paper.degradations.blur_prob == 0.5 and paper.degradations.noise_prob == 0.5
    baseline = preset_config("embedded", "srcnn_style", "baseline", scale=3)
    assert baseline.degradations.blur_prob == 0 and baseline.arch.scale == 3
    assert baseline.channel_shuffle and not paper.channel_shuffle
    assert not preset_config("embedded", "srresnet", "baseline").channel_shuffle
    srcnn_target = preset_config("embedded", "srcnn_style", "target")
    assert (baseline.channel_gain, baseline.gt_size) == (0.5, 48) == (srcnn_target.channel_gain, srcnn_target.gt_size)
    srresnet = preset_config("embedded", "srresnet", "target")
    assert (srresnet.channel_gain, srresnet.gt_size) == (0, 64) == (paper.channel_gain, paper.gt_size)
    assert TrainConfig.from_dict(baseline.to_dict()) == baseline
    with pytest.raises(FaigError, match="unknown preset"):
        preset_config("huge", "srresnet", "baseline")
    assert TrainConfig.from_dict(paper.to_dict()) == paper


def test_short_training_lowers_the_loss(hr_folder, tmp_path):
    arch = ArchConfig("srcnn_style", 2, width=8, depth=1, first_width=8)
    config = replace(TINY, arch=arch, steps=40, val_every=40, checkpoint_every=40, degradations=DegradationSampler(2))
    metrics = train(config, tmp_path, hr_dir=hr_folder, progress=False)
    assert metrics["history"][-1]["step"] == 40
    assert (tmp_path / "srcnn_style_baseline.json").is_file()

    images = folder_images(hr_folder, 2)
    lr, gt = training_batch(images, 16, 24, config.degradations, torch.Generator().manual_seed(9))[:2]
    torch.manual_seed(config.seed)
    initial = build_model(arch)
    trained, _ = load_model(tmp_path / "srcnn_style_baseline.safetensors")
    with torch.no_grad():
        assert F.l1_loss(trained(lr), gt) < 0.5 * F.l1_loss(initial(lr), gt)


def test_resume_continues_like_an_uninterrupted_run(hr_folder, tmp_path, monkeypatch):
    train(TINY, tmp_path / "straight", hr_dir=hr_folder, progress=False, init_weights=None)
    calls = {"n": 0}
    real_batch = trainer_module.training_batch

    def interrupted(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 5:
            raise KeyboardInterrupt
        return real_batch(*args, **kwargs)

    monkeypatch.setattr(trainer_module, "training_batch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        train(TINY, tmp_path / "resumed", hr_dir=hr_folder, progress=False)
    assert not (tmp_path / "resumed" / "srresnet_baseline.safetensors").exists()
    monkeypatch.setattr(trainer_module, "training_batch", real_batch)
    train(TINY, tmp_path / "resumed", hr_dir=hr_folder, progress=False, resume=True)
    straight = load_state_dict(tmp_path / "straight" / "srresnet_baseline.safetensors")
    resumed = load_state_dict(tmp_path / "resumed" / "srresnet_baseline.safetensors")
    for key in straight:
        assert torch.equal(straight[key], resumed[key]), key


def _killing_batches(monkeypatch, at_call: int, signal_number: int) -> None:
    """Make the ``at_call``-th training batch send this process ``signal_number``."""
    calls = {"n": 0}
    real_batch = trainer_module.training_batch

    def batch(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == at_call:
            os.kill(os.getpid(), signal_number)
        return real_batch(*args, **kwargs)

    monkeypatch.setattr(trainer_module, "training_batch", batch)


def _assert_same_weights(first, second):
    a, b = load_state_dict(first), load_state_dict(second)
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_saves_a_checkpoint_and_resume_is_exact(hr_folder, tmp_path, monkeypatch, signal_number):
    config = replace(TINY, checkpoint_every=1000)
    straight = train(config, tmp_path / "straight", hr_dir=hr_folder, progress=False)
    _killing_batches(monkeypatch, 2, signal_number)
    handler = signal.getsignal(signal_number)  # a background job's SIGINT is ignored: not always the default
    with pytest.raises(TrainingInterrupted, match=f"{signal.Signals(signal_number).name} at step 2 of 6: .*; "
                                                  "continue with --resume"):
        train(config, tmp_path / "resumed", hr_dir=hr_folder, progress=False)
    assert checkpoint_path(tmp_path / "resumed", "srresnet_baseline").is_file()
    assert not (tmp_path / "resumed" / "srresnet_baseline.safetensors").exists()
    assert signal.getsignal(signal_number) is handler
    monkeypatch.undo()
    resumed = train(config, tmp_path / "resumed", hr_dir=hr_folder, progress=False, resume=True)
    _assert_same_weights(tmp_path / "straight" / "srresnet_baseline.safetensors",
                         tmp_path / "resumed" / "srresnet_baseline.safetensors")
    assert resumed["history"] == straight["history"]
    assert [(s["first_step"], s["last_step"], s["device"]) for s in resumed["segments"]] == [(0, 2, "cpu"), (2, 6, "cpu")]
    assert resumed["train_seconds"] == pytest.approx(sum(s["seconds"] for s in resumed["segments"]), abs=0.11)


def test_a_signal_in_the_last_step_is_not_lost(hr_folder, tmp_path, monkeypatch):
    """SIGTERM during the last step still stops the run (a caller with more work, such as the next
    Table 1 training, must not go on); resuming its checkpoint writes the finished weights at once."""
    config = replace(TINY, checkpoint_every=1000)
    train(config, tmp_path / "straight", hr_dir=hr_folder, progress=False)
    _killing_batches(monkeypatch, 6, signal.SIGTERM)
    with pytest.raises(TrainingInterrupted, match="SIGTERM at step 6 of 6: .*; the same faig reproduce command"):
        train(config, tmp_path / "resumed", hr_dir=hr_folder, progress=False,
              to_continue="the same faig reproduce command continues it")  # a caller without --resume says how
    monkeypatch.undo()
    resumed = train(config, tmp_path / "resumed", hr_dir=hr_folder, progress=False, resume=True)
    assert [(s["first_step"], s["last_step"]) for s in resumed["segments"]] == [(0, 6), (6, 6)]
    _assert_same_weights(tmp_path / "straight" / "srresnet_baseline.safetensors",
                         tmp_path / "resumed" / "srresnet_baseline.safetensors")


KILLED_RUN = """
import os, signal, sys
import faig.training.trainer as trainer
from faig.data.degradations import DegradationSampler
from faig.models.registry import ArchConfig
from faig.training.config import TrainConfig

config = TrainConfig.from_dict(__import__("json").loads(sys.argv[1]))
real_batch, calls = trainer.training_batch, []
def batch(*args, **kwargs):
    calls.append(1)
    if len(calls) == 5:
        os.kill(os.getpid(), signal.SIGKILL)
    return real_batch(*args, **kwargs)
trainer.training_batch = batch
trainer.train(config, sys.argv[2], hr_dir=sys.argv[3], progress=False, checkpoint_minutes=0)
"""


def test_a_killed_run_resumes_from_its_timed_checkpoint(hr_folder, tmp_path):
    config = replace(TINY, checkpoint_every=1000)
    killed = subprocess.run([sys.executable, "-c", KILLED_RUN, config.to_json(), str(tmp_path / "killed"),
                             str(hr_folder)], capture_output=True)
    assert killed.returncode == -signal.SIGKILL
    state = torch.load(checkpoint_path(tmp_path / "killed", "srresnet_baseline"), weights_only=True)
    assert state["step"] == 4
    train(config, tmp_path / "straight", hr_dir=hr_folder, progress=False)
    train(config, tmp_path / "killed", hr_dir=hr_folder, progress=False, resume=True)
    _assert_same_weights(tmp_path / "straight" / "srresnet_baseline.safetensors",
                         tmp_path / "killed" / "srresnet_baseline.safetensors")


def test_resume_without_a_checkpoint_is_an_error(hr_folder, tmp_path):
    with pytest.raises(FaigError, match="nothing to resume: no checkpoint at"):
        train(TINY, tmp_path, hr_dir=hr_folder, progress=False, resume=True)
    other = replace(TINY, steps=8)
    train(TINY, tmp_path, hr_dir=hr_folder, progress=False)
    with pytest.raises(FaigError, match="different configuration"):
        train(other, tmp_path, hr_dir=hr_folder, progress=False, resume=True)


def test_a_finished_stage_leaves_no_checkpoint_and_resume_returns_its_metrics(hr_folder, tmp_path):
    """The checkpoint of step 3 goes once the results are written, so a later --resume cannot take
    the run back to it and rewrite the weights (another file key: a target fine-tuned from them
    would refuse its own resume)."""
    first = train(TINY, tmp_path, hr_dir=hr_folder, progress=False)
    weights = tmp_path / "srresnet_baseline.safetensors"
    key = file_key(weights)
    assert not checkpoint_path(tmp_path, "srresnet_baseline").exists()
    again = train(TINY, tmp_path, hr_dir=hr_folder, progress=False, resume=True)
    assert again == json.loads(json.dumps(first)) and file_key(weights) == key


def test_resume_of_both_stages_skips_the_finished_baseline_and_continues_the_target(hr_folder, tmp_path,
                                                                                     monkeypatch):
    """`faig train --resume` after an interrupted target: the baseline is left as it is, the target
    continues bit-identically; a target never started starts afresh after a finished baseline."""
    import faig.training.config as config_module

    monkeypatch.setattr(config_module, "preset_config", lambda preset, arch, stage, *rest: replace(TINY, stage=stage))
    stages = dict(stages=("baseline", "target"), steps=2, hr_dir=hr_folder, progress=False)
    train_stages("embedded", "srresnet", tmp_path / "straight", **stages)
    real_batch = trainer_module.training_batch
    _killing_batches(monkeypatch, 3, signal.SIGTERM)  # the target's first step
    with pytest.raises(TrainingInterrupted, match="at step 1 of 2"):
        train_stages("embedded", "srresnet", tmp_path / "resumed", **stages)
    monkeypatch.setattr(trainer_module, "training_batch", real_batch)
    baseline = tmp_path / "resumed" / "srresnet_baseline.safetensors"
    key = file_key(baseline)
    train_stages("embedded", "srresnet", tmp_path / "resumed", resume=True, **stages)
    assert file_key(baseline) == key
    _assert_same_weights(tmp_path / "straight" / "srresnet_target.safetensors",
                         tmp_path / "resumed" / "srresnet_target.safetensors")
    (tmp_path / "resumed" / "srresnet_target.safetensors").unlink()
    metrics = train_stages("embedded", "srresnet", tmp_path / "resumed", resume=True, **stages)
    assert [s["first_step"] for s in metrics["srresnet_target"]["segments"]] == [0]
    with pytest.raises(FaigError, match="nothing to resume"):
        train_stages("embedded", "srresnet", tmp_path / "empty", resume=True, **stages)


def test_resume_on_other_images_is_refused(hr_folder, tmp_path, monkeypatch):
    fewer = tmp_path / "fewer"
    fewer.mkdir()
    for image in sorted(hr_folder.iterdir())[:2]:
        (fewer / image.name).write_bytes(image.read_bytes())
    _killing_batches(monkeypatch, 2, signal.SIGTERM)
    with pytest.raises(TrainingInterrupted):
        train(TINY, tmp_path / "run", hr_dir=hr_folder, progress=False)
    monkeypatch.undo()
    with pytest.raises(FaigError, match="trained or validated on other images"):
        train(TINY, tmp_path / "run", hr_dir=fewer, progress=False, resume=True)
    with pytest.raises(FaigError, match="trained or validated on other images"):
        train(TINY, tmp_path / "run", hr_dir=hr_folder, val_dir=fewer, progress=False, resume=True)
    train(TINY, tmp_path / "run", hr_dir=hr_folder, progress=False, resume=True)


def test_a_signal_while_the_results_are_written_leaves_them_whole(hr_folder, tmp_path, monkeypatch):
    """SIGTERM between the weights and their record waits for both (and the checkpoint's removal),
    then stops the caller."""
    real_save = trainer_module.save_weights

    def save_and_signal(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGTERM)
        real_save(*args, **kwargs)

    monkeypatch.setattr(trainer_module, "save_weights", save_and_signal)
    with pytest.raises(TrainingInterrupted, match="SIGTERM as srresnet_baseline finished"):
        train(TINY, tmp_path, hr_dir=hr_folder, progress=False)
    assert json.loads((tmp_path / "srresnet_baseline.json").read_text())["metrics"]["history"][-1]["step"] == 6
    assert (tmp_path / "srresnet_baseline.safetensors").is_file()
    assert not checkpoint_path(tmp_path, "srresnet_baseline").exists()


def test_on_cuda_the_steps_run_with_deterministic_convolutions(monkeypatch):
    monkeypatch.setattr(torch.backends.cudnn, "deterministic", False)
    monkeypatch.setattr(torch.backends.cudnn, "benchmark", True)
    model = torch.nn.Linear(1, 1)
    run = trainer_module.RunState(model, model, torch.optim.Adam(model.parameters()), torch.Generator(), step=1)
    trainer_module.run_steps(run, replace(TINY, steps=1), lambda: None, torch.device("cuda"), None)
    assert torch.backends.cudnn.deterministic and not torch.backends.cudnn.benchmark


def test_an_unwritable_output_is_refused_before_training(hr_folder, tmp_path, monkeypatch):
    (tmp_path / "file").write_text("x")
    monkeypatch.setattr(trainer_module, "training_batch", lambda *a, **k: pytest.fail("trained"))
    with pytest.raises(FaigError, match="is a file"):
        train(TINY, tmp_path / "file", hr_dir=hr_folder, progress=False)
    with pytest.raises(FaigError, match="is a file"):
        train(TINY, tmp_path / "file" / "below", hr_dir=hr_folder, progress=False)


def test_a_bad_init_is_refused_before_the_baseline_trains(tmp_path, monkeypatch):
    monkeypatch.setattr(trainer_module, "train", lambda *a, **k: pytest.fail("trained before --init was read"))
    (tmp_path / "text.safetensors").write_text("not a checkpoint")
    small = ArchConfig("srresnet", 2, width=8, depth=1)
    save_weights(tmp_path / "small.safetensors", build_model(small), small)
    x3 = preset_config("embedded", "srresnet", "baseline", scale=3).arch
    save_weights(tmp_path / "x3.safetensors", build_model(x3), x3)
    for init, message in [(tmp_path / "nope.safetensors", f"checkpoint not found: {tmp_path / 'nope.safetensors'}"),
                          (tmp_path / "text.safetensors", "not a safetensors file, or a damaged one"),
                          (tmp_path / "small.safetensors", "network and .*small.safetensors differ at 'conv_first"),
                          (tmp_path / "x3.safetensors", "x3.safetensors is a x3 network; x2 was asked for")]:
        with pytest.raises(FaigError, match=message):
            train_stages("embedded", "srresnet", tmp_path / "out", ("baseline", "target"), init_weights=init,
                         steps=1, progress=False)
        with pytest.raises(FaigError, match=message):  # a baseline alone restarts from --init: read first too
            train_stages("embedded", "srresnet", tmp_path / "out", ("baseline",), init_weights=init, steps=1,
                         progress=False)
    assert not (tmp_path / "out").exists()


def test_a_baseline_alone_restarts_from_init_and_records_it(hr_folder, tmp_path):
    """A warm restart: step 0 is the given weights (one step at a learning rate of ~0 keeps them),
    and the record names the file and its key; a baseline without --init starts from scratch."""
    earlier = _tiny_baseline(hr_folder, tmp_path)
    config = replace(TINY, steps=1, lr=1e-30, eta_min=0.0, val_every=0, ema_decay=0.0)
    write_json(tmp_path / "restart.json", config.to_dict())
    metrics = train_stages("embedded", "srresnet", tmp_path / "again", config_file=tmp_path / "restart.json",
                           init_weights=earlier, hr_dir=hr_folder, progress=False)["srresnet_baseline"]
    assert metrics["init_weights"] == {"path": str(earlier), "key": file_key(earlier)}
    restarted, start = load_state_dict(tmp_path / "again" / "srresnet_baseline.safetensors"), load_state_dict(earlier)
    assert all(torch.allclose(restarted[key], start[key], atol=1e-6) for key in start)
    scratch = train_stages("embedded", "srresnet", tmp_path / "scratch", config_file=tmp_path / "restart.json",
                           hr_dir=hr_folder, progress=False)["srresnet_baseline"]
    assert scratch["init_weights"] is None
    fresh = load_state_dict(tmp_path / "scratch" / "srresnet_baseline.safetensors")
    assert not torch.allclose(fresh["conv_first.weight"], start["conv_first.weight"])


def test_history_has_validation_and_training_crop_psnr(hr_folder, tmp_path):
    metrics = train(replace(TINY, stage="target", val_every=3), tmp_path, hr_dir=hr_folder, progress=False,
                    init_weights=_tiny_baseline(hr_folder, tmp_path))
    assert [entry["step"] for entry in metrics["history"]] == [3, 6]
    entry = metrics["history"][-1]
    assert set(entry["val_psnr"]) == set(entry["train_psnr"]) == {"clean", "blur", "noise", "blur+noise"}
    assert all(10 < value < 60 for value in entry["train_psnr"].values())


@pytest.mark.parametrize("arch", [ArchConfig("rrdbnet", 2, width=8, depth=1, first_width=4),
                                  ArchConfig("swinir", 2, width=8, depth=1)])
def test_any_registered_architecture_trains_a_baseline_and_fine_tunes_a_target(hr_folder, tmp_path, arch):
    """Issue 15: `faig train` is not limited to the paper's two networks."""
    baseline = replace(TINY, arch=arch, steps=2, val_every=0, checkpoint_every=2, gt_size=32)
    train(baseline, tmp_path, hr_dir=hr_folder, progress=False)
    first = tmp_path / f"{arch.arch}_baseline.safetensors"
    train(replace(baseline, stage="target"), tmp_path, init_weights=first, hr_dir=hr_folder, progress=False)
    base_model, base_config = load_model(first)
    target_model, target_config = load_model(tmp_path / f"{arch.arch}_target.safetensors")
    assert base_config == target_config == arch
    moved = [not torch.equal(a, b) for a, b in zip(base_model.state_dict().values(), target_model.state_dict().values())]
    assert any(moved)


def test_a_target_with_jpeg_in_its_mix_is_validated_on_jpeg_too():
    from faig.training.trainer import validation_variants

    mix = DegradationSampler(scale=2, blur_prob=0.5, noise_prob=0.5, jpeg_prob=0.5, jpeg_qualities=(30, 60))
    assert validation_variants(replace(TINY, stage="target", degradations=mix)) == (
        "clean", "blur", "noise", "blur+noise", "jpeg30", "jpeg60")
    assert validation_variants(replace(TINY, stage="target")) == ("clean", "blur", "noise", "blur+noise")
    assert validation_variants(TINY) == ("clean",)


def test_a_resume_keeps_the_starting_weights_it_began_from(hr_folder, tmp_path, monkeypatch):
    """The checkpoint knows what the run started from: its record keeps it across a resume, and a
    resume from other starting weights (or from scratch) is refused."""
    earlier = _tiny_baseline(hr_folder, tmp_path)
    other = tmp_path / "other.safetensors"
    other.write_bytes(earlier.read_bytes().replace(b"baseline", b"Baseline"))  # same tensors, another file key
    config = replace(TINY, steps=4, val_every=0, checkpoint_every=4)
    _killing_batches(monkeypatch, 3, signal.SIGTERM)
    with pytest.raises(TrainingInterrupted):
        train(config, tmp_path / "run", init_weights=earlier, hr_dir=hr_folder, progress=False)
    monkeypatch.undo()
    for init, started in ((other, str(earlier)), (None, str(earlier))):
        with pytest.raises(FaigError, match=f"it started from {started}, not {other if init else 'scratch'}"):
            train(config, tmp_path / "run", init_weights=init, hr_dir=hr_folder, progress=False, resume=True)
    metrics = train(config, tmp_path / "run", init_weights=earlier, hr_dir=hr_folder, progress=False, resume=True)
    assert metrics["init_weights"] == {"path": str(earlier), "key": file_key(earlier)}


def _tiny_baseline(hr_folder, tmp_path):
    train(replace(TINY, steps=2), tmp_path / "base", hr_dir=hr_folder, progress=False)
    return tmp_path / "base" / "srresnet_baseline.safetensors"


def test_a_saved_config_trains_again(hr_folder, tmp_path):
    train(replace(TINY, steps=2), tmp_path / "first", hr_dir=hr_folder, progress=False)
    again = load_config(tmp_path / "first" / "srresnet_baseline.json")
    assert again == replace(TINY, steps=2)
    (tmp_path / "bad.json").write_text('{"arch": 3}')
    with pytest.raises(FaigError, match=r"bad\.json: an architecture must be an object with an arch .* got 3"):
        load_config(tmp_path / "bad.json")


def test_gradient_mask_leaves_unselected_weights_bit_identical(hr_folder, tmp_path):
    base = replace(TINY, steps=3, val_every=3, checkpoint_every=3)
    train(base, tmp_path, hr_dir=hr_folder, progress=False)
    start = load_state_dict(tmp_path / "srresnet_baseline.safetensors")
    mask = torch.zeros_like(start["body.0.conv1.weight"])
    mask[2, 5] = 1.0
    config = replace(base, stage="target")
    train(config, tmp_path, init_weights=tmp_path / "srresnet_baseline.safetensors", hr_dir=hr_folder,
          progress=False, gradient_mask={"body.0.conv1.weight": mask}, name="retrained")
    after = load_state_dict(tmp_path / "retrained.safetensors")
    for key in start:
        if key != "body.0.conv1.weight":
            assert torch.equal(start[key], after[key]), key
    changed = (after["body.0.conv1.weight"] != start["body.0.conv1.weight"]).flatten(2).any(-1)
    assert changed.nonzero().tolist() == [[2, 5]]


def test_bad_training_input(tmp_path, hr_folder):
    with pytest.raises(FaigError, match="smaller than the 64px patch"):
        train(replace(TINY, gt_size=64), tmp_path, hr_dir=hr_folder, progress=False)
    with pytest.raises(FaigError, match="fine-tuned from a baseline"):
        train(replace(TINY, stage="target"), tmp_path, hr_dir=hr_folder, progress=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FaigError, match="no images"):
        train(TINY, tmp_path, hr_dir=tmp_path / "empty", progress=False)


def test_validation_follows_val_dir_and_says_where(hr_folder, tmp_path):
    config = replace(TINY, steps=2, val_every=2)
    own = train(config, tmp_path / "own", hr_dir=hr_folder, val_dir=hr_folder, progress=False)
    assert own["validation"] == str(hr_folder) and own["training_images"] == str(hr_folder)
    embedded = train(config, tmp_path / "embedded", hr_dir=hr_folder, progress=False)
    assert embedded["validation"] == "embedded discover split"
    assert own["final_val_psnr"] != embedded["final_val_psnr"]


def test_without_resume_a_finished_stage_of_another_configuration_is_trained_over(hr_folder, tmp_path):
    train(TINY, tmp_path, hr_dir=hr_folder, progress=False)
    config = replace(TINY, steps=2, val_every=2)
    write_json(tmp_path / "two.json", config.to_dict())
    metrics = train_stages("embedded", "srresnet", tmp_path, config_file=tmp_path / "two.json", hr_dir=hr_folder,
                           progress=False)["srresnet_baseline"]
    assert metrics["history"][-1]["step"] == 2


def test_a_second_training_of_the_same_stage_is_refused_while_the_first_runs(hr_folder, tmp_path):
    """Two `faig train --resume` of one folder would each overwrite the other's checkpoint."""
    with exclusive(checkpoint_path(tmp_path, "srresnet_baseline"), "training"):
        with pytest.raises(FaigError, match="another training is using .*srresnet_baseline.pt"):
            train(TINY, tmp_path, hr_dir=hr_folder, progress=False)
    train(TINY, tmp_path, hr_dir=hr_folder, progress=False)
    assert not (tmp_path / "checkpoints").exists()


def test_a_baseline_in_two_cycles_restarts_the_second_from_the_first(hr_folder, tmp_path, monkeypatch):
    """A preset baseline of two cosine cycles (the embedded srcnn_style's): the first is kept as
    ``<arch>_baseline_cycle1``, the second starts from its weights and records them; a resume after
    both skips both; with --init the given weights stand for the first cycle."""
    import faig.training.config as config_module

    cycles = [replace(TINY, steps=3, lr=1e-3), replace(TINY, steps=2, lr=5e-4)]
    monkeypatch.setattr(config_module, "stage_cycles", lambda preset, arch, stage, *rest: cycles)
    metrics = train_stages("embedded", "srresnet", tmp_path / "out", ("baseline",), hr_dir=hr_folder, progress=False)
    first = tmp_path / "out" / "srresnet_baseline_cycle1.safetensors"
    assert list(metrics) == ["srresnet_baseline_cycle1", "srresnet_baseline"]
    assert metrics["srresnet_baseline_cycle1"]["init_weights"] is None
    assert metrics["srresnet_baseline"]["init_weights"] == {"path": str(first), "key": file_key(first)}
    saved = json.loads((tmp_path / "out" / "srresnet_baseline_cycle1.json").read_text())["config"]
    assert TrainConfig.from_dict(saved) == cycles[0]
    again = train_stages("embedded", "srresnet", tmp_path / "out", ("baseline",), hr_dir=hr_folder, progress=False,
                         resume=True)
    assert again == json.loads(json.dumps(metrics))
    restarted = train_stages("embedded", "srresnet", tmp_path / "warm", ("baseline",), init_weights=first,
                             hr_dir=hr_folder, progress=False)
    assert list(restarted) == ["srresnet_baseline"] and restarted["srresnet_baseline"]["init_weights"]["path"] == str(first)
    _assert_same_weights(tmp_path / "out" / "srresnet_baseline.safetensors",
                         tmp_path / "warm" / "srresnet_baseline.safetensors")


def test_a_target_in_two_cycles_starts_from_the_baseline_then_from_its_first_cycle(hr_folder, tmp_path, monkeypatch):
    import faig.training.config as config_module

    target = replace(TINY, stage="target", steps=2)
    monkeypatch.setattr(config_module, "stage_cycles", lambda preset, arch, stage, *rest: (
        [TINY] if stage == "baseline" else [target, replace(target, lr=5e-4)]))
    metrics = train_stages("embedded", "srresnet", tmp_path, hr_dir=hr_folder, progress=False)
    assert list(metrics) == ["srresnet_baseline", "srresnet_target_cycle1", "srresnet_target"]
    starts = [metrics[name]["init_weights"] for name in metrics]
    assert starts[0] is None
    assert [start["key"] for start in starts[1:]] == [file_key(tmp_path / f"{name}.safetensors")
                                                      for name in ("srresnet_baseline", "srresnet_target_cycle1")]


def test_a_stage_is_begun_by_any_cycles_checkpoint_or_a_finished_earlier_cycle(tmp_path, monkeypatch):
    """What `faig reproduce` resumes: a checkpoint of any cosine cycle of the stage, or a finished
    earlier cycle; a folder without either starts the stage afresh."""
    import faig.training.config as config_module

    target = replace(TINY, stage="target")
    monkeypatch.setattr(config_module, "stage_cycles", lambda preset, arch, stage, *rest: [target, target])
    assert not stage_begun("embedded", "srresnet", "target", tmp_path)
    (tmp_path / "srresnet_target.safetensors").touch()  # the whole stage finished: nothing to go on from
    assert not stage_begun("embedded", "srresnet", "target", tmp_path)
    (tmp_path / "srresnet_target_cycle1.safetensors").touch()
    assert stage_begun("embedded", "srresnet", "target", tmp_path)
    (tmp_path / "srresnet_target_cycle1.safetensors").unlink()
    checkpoint_path(tmp_path, "srresnet_target_cycle1").parent.mkdir()
    checkpoint_path(tmp_path, "srresnet_target_cycle1").touch()
    assert stage_begun("embedded", "srresnet", "target", tmp_path)
