"""The training loop for both stages of Sec. 4.1: Adam, L1, cosine schedule, EMA, exact resume, progress.

A run survives interruption: SIGINT and SIGTERM save a checkpoint (network, EMA, optimiser, data
generator, history, step) before it stops, and so does a timer every few minutes of wall time, so
``resume`` continues bit-identically to an uninterrupted run wherever it was stopped (even by SIGKILL,
from the last timed checkpoint).
"""

from __future__ import annotations

import copy
import json
import math
import os
import signal
import threading
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterator

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from faig.cache import file_key
from faig.checks import check_number
from faig.data.degradations import VARIANTS
from faig.data.patches import check_patchable, training_batch
from faig.data.splits import NamedImage, centre_crops, images_key, load_images
from faig.errors import FaigError
from faig.devices import resolve_device
from faig.evaluate import score_variants
from faig.files import atomic_path, check_writable_dir, exclusive, write_json
from faig.models.checkpoints import check_same_structure, checkpoint_config, load_state_dict, save_weights
from faig.models.registry import build_model, weights_stem
from faig.training.config import TrainConfig

CHECKPOINT_MINUTES = 10.0


class TrainingInterrupted(FaigError):
    """A run stopped by SIGINT or SIGTERM after saving its checkpoint."""


def learning_rate(config: TrainConfig, step: int) -> float:
    """Cosine annealing from ``lr`` to ``eta_min``, restarting every ``cosine_period`` steps."""
    period = config.cosine_period or config.steps
    phase = (step % period) / period
    return config.eta_min + 0.5 * (config.lr - config.eta_min) * (1 + math.cos(math.pi * phase))


def ema_decay(config: TrainConfig, step: int) -> float:
    """The EMA decay, ramped up over the first steps so that short runs forget the initial weights."""
    return min(config.ema_decay, (1 + step) / (10 + step))


@torch.no_grad()
def ema_update(ema: nn.Module, model: nn.Module, decay: float) -> None:
    """Move each EMA parameter towards the model's: ema = decay · ema + (1 − decay) · model, in place."""
    for averaged, current in zip(ema.parameters(), model.parameters()):
        averaged.lerp_(current, 1 - decay)


def scores(psnrs: dict[str, float]) -> str:
    """PSNRs per variant as the console writes them.

    Example:
        >>> scores({"clean": 30.123, "blur": 27.1})
        'clean 30.12, blur 27.10 dB'
    """
    return ", ".join(f"{variant} {value:.2f}" for variant, value in psnrs.items()) + " dB"


def default_name(config: TrainConfig) -> str:
    """``<arch>_<stage>``, plus the extra kinds of a wider training mix (``srresnet_target_jpeg``)."""
    return weights_stem(config.arch.arch, config.stage, config.degradations.extra_kinds)


def checkpoint_path(out_dir: str | os.PathLike, name: str) -> Path:
    """Where ``train`` keeps the resumable checkpoint of run ``name``."""
    return Path(out_dir) / "checkpoints" / f"{name}.pt"


@torch.no_grad()
def apply_gradient_mask(model: nn.Module, gradient_mask: dict[str, torch.Tensor]) -> None:
    """Multiply each parameter's gradient by its mask; parameters without a mask get none."""
    for key, parameter in model.named_parameters():
        if key in gradient_mask:
            parameter.grad.mul_(gradient_mask[key].to(parameter.grad))
        else:
            parameter.grad = None


def validation_variants(config: TrainConfig) -> tuple[str, ...]:
    """What a stage is validated on: clean inputs for a baseline; the paper's four variants for a
    target, and JPEG at each of its qualities when its mix has JPEG."""
    if config.stage == "baseline":
        return ("clean",)
    sampler = config.degradations
    return VARIANTS + (tuple(f"jpeg{q}" for q in sampler.jpeg_qualities) if sampler.jpeg_prob > 0 else ())


def validate(model: nn.Module, images: list[NamedImage], config: TrainConfig) -> dict[str, float]:
    """Mean PSNR (dB, 4 decimals) of ``model`` on ``images`` for each of :func:`validation_variants`."""
    scores = score_variants(model, images, config.arch.scale, validation_variants(config), with_ssim=False)
    return {name: round(value["psnr"], 4) for name, value in scores.items()}


@dataclass
class RunState:
    """Everything a checkpoint holds: what makes a resumed run continue bit-identically."""

    model: nn.Module
    ema: nn.Module
    optimizer: torch.optim.Optimizer
    generator: torch.Generator
    step: int = 0
    running_loss: float | None = None
    history: list[dict] = field(default_factory=list)
    segments: list[dict] = field(default_factory=list)  # one per invocation: device, steps, seconds
    tag: dict | None = None  # what else the run depends on (a Table 1 run's networks and losses)
    init: dict | None = None  # the weights the run started from: {"path", "key"} (None: from scratch)
    data: dict | None = None  # the images it trains and validates on: {"train", "validation"}, each images_key's

    def __post_init__(self) -> None:
        self.tag = json.loads(json.dumps(self.tag))  # as a checkpoint stores it, so that the two compare equal

    def save(self, path: Path, config: TrainConfig) -> None:
        state = {"step": self.step, "model": self.model.state_dict(), "ema": self.ema.state_dict(),
                 "optimizer": self.optimizer.state_dict(), "generator": self.generator.get_state(),
                 "running_loss": torch.tensor(float("nan") if self.running_loss is None else self.running_loss,
                                              dtype=torch.float64),
                 "history": json.dumps(self.history), "segments": json.dumps(self.segments),
                 "config": config.to_json(), "tag": json.dumps(self.tag), "init": json.dumps(self.init),
                 "data": json.dumps(self.data)}
        with atomic_path(path, durable=True) as tmp:
            torch.save(state, tmp)

    def restore(self, path: Path, config: TrainConfig) -> None:
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception:  # torch raises many types for damaged files
            raise FaigError(f"cannot resume from {path}: not a faig training checkpoint, or a damaged one") from None
        if _saved_config(state.get("config")) != config or json.loads(state.get("tag", "null")) != self.tag:
            raise FaigError(f"cannot resume from {path}: it was made with a different configuration")
        if "init" in state:  # checkpoints written before runs kept their starting weights take the given ones
            started = json.loads(state["init"])
            if (started and started["key"]) != (self.init and self.init["key"]):
                raise FaigError(f"cannot resume from {path}: it started from "
                                f"{started['path'] if started else 'scratch'}, not "
                                f"{self.init['path'] if self.init else 'scratch'} (--init)")
            self.init = started
        if "data" in state and json.loads(state["data"]) != self.data:  # older checkpoints: the images given
            raise FaigError(f"cannot resume from {path}: it trained or validated on other images "
                            "(give the --hr-dir and --val-dir it was started with)")
        self.model.load_state_dict(state["model"])
        self.ema.load_state_dict(state["ema"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.generator.set_state(state["generator"])
        self.history = json.loads(state["history"])
        self.segments = json.loads(state.get("segments", "[]"))  # checkpoints written before segments were kept
        self.step = state["step"]
        running = float(state.get("running_loss", torch.tensor(float("nan"))))
        self.running_loss = None if math.isnan(running) else running


def _saved_config(text: str | None) -> TrainConfig | None:
    """The configuration a checkpoint was made with, compared by value: a field added to
    ``TrainConfig`` since (at its default) does not orphan older checkpoints."""
    try:
        return TrainConfig.from_dict(json.loads(text)) if text else None
    except (FaigError, ValueError, TypeError, KeyError):
        return None


@contextmanager
def stop_requests() -> Iterator[list[str]]:
    """While the block runs, SIGINT and SIGTERM only record their name in the yielded list (the loop
    checks it between steps, saves and stops); the previous handlers come back afterwards. Outside the
    main thread (where signals cannot be caught) the list just stays empty."""
    requests: list[str] = []
    if threading.current_thread() is not threading.main_thread():
        yield requests
        return
    previous = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    for number in previous:
        signal.signal(number, lambda received, frame: requests.append(signal.Signals(received).name))
    try:
        yield requests
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _probe_images(images: list[NamedImage], scale: int) -> list[NamedImage]:
    """A fixed centre crop of each training image, scored beside the validation split to show over-fitting."""
    return centre_crops(images, 144, scale)


def initial_state(model: nn.Module, path: str | os.PathLike, scale: int) -> dict[str, torch.Tensor]:
    """The weights at ``path`` that ``model`` (a x``scale`` network) starts from, read and refused
    unless they fit it, so that a bad ``--init`` is one line naming the file (and its scale, or the
    first tensor that differs).

    Raises:
        FaigError: a missing or unreadable checkpoint, one of another scale or of another network.
    """
    initial = load_state_dict(path)
    try:
        found = checkpoint_config(path, initial).scale
    except FaigError:  # no network faig knows: the tensors' comparison names what differs
        found = scale
    if found != scale:
        raise FaigError(f"{path} is a x{found} network; x{scale} was asked for")
    check_same_structure(model.state_dict(), initial, ("network", str(path)))
    return initial


def placed(model: nn.Module, device: torch.device) -> nn.Module:
    """``model`` moved to ``device`` for training; on a CPU in channels-last memory, where oneDNN's
    convolutions train 15-25% faster (SRResNet, 2 cores; Table 1's DAN-style 36%)."""
    model.to(device)
    return model.to(memory_format=torch.channels_last) if device.type == "cpu" else model


def train(config: TrainConfig, out_dir: str | os.PathLike, init_weights: str | os.PathLike | None = None,
          resume: bool = False, device: str | None = None, hr_dir: str | os.PathLike | None = None,
          progress: bool = True, gradient_mask: dict[str, torch.Tensor] | None = None,
          name: str | None = None, checkpoint_minutes: float = CHECKPOINT_MINUTES,
          val_dir: str | os.PathLike | None = None, to_continue: str = "continue with --resume") -> dict:
    """Train one stage (Sec. 4.1) and write ``<name>.safetensors`` (the EMA weights; name defaults to
    ``<arch>_<stage>``) and ``<name>.json`` (config and metrics) into ``out_dir``.

    A checkpoint is written every ``checkpoint_every`` steps, every ``checkpoint_minutes`` of wall
    time, and on SIGINT/SIGTERM (then the run raises ``TrainingInterrupted``), and removed once the
    results are written; ``resume`` continues from it bit-identically (refused for another
    configuration, other starting weights or other images), returns the stored metrics of a stage
    that finished, and is an error when there is neither. The history records, at each
    validation, the PSNR on the validation split (``val_dir`` or ``config.val_split``) and on a fixed
    centre crop of each training image (``train_psnr``: the two curves together show over-fitting).
    ``to_continue`` ends the interruption's message: how the caller's user continues the run.

    ``init_weights`` are the starting weights: a target's baseline, or a baseline's own earlier
    weights for a warm restart (a new cosine cycle with a fresh optimiser, as the paper's baseline
    schedule restarts every 250,000 steps). The checkpoint and the metrics record the file and its
    key (``faig.cache.file_key``: the first 16 hex digits of its SHA-256); a resume from other
    starting weights is refused.

    ``gradient_mask`` re-trains only part of the network (Sec. 5.2.2): each parameter's gradient is
    multiplied by its mask (a parameter without one is frozen), so unselected weights stay
    bit-identical. Returns the metrics.

    Raises:
        FaigError: unusable images or output folder, a target without ``init_weights``, ``resume``
            with neither a checkpoint nor a finished stage, or with one from another configuration,
            other starting weights or other images.
        TrainingInterrupted: SIGINT or SIGTERM arrived (the checkpoint is saved; or, as the run
            finished, its results are written).
    """
    check_writable_dir(out_dir)  # before Path(), which makes an empty path the current folder
    out_dir = Path(out_dir)
    name = name or default_name(config)
    checkpoint = checkpoint_path(out_dir, name)
    with exclusive(checkpoint, "training"):  # a second run of this stage would overwrite its checkpoints
        if resume and not checkpoint.is_file():
            finished = finished_metrics(out_dir, name, config)
            if finished is None:
                raise FaigError(f"nothing to resume: no checkpoint at {checkpoint}")
            if progress:
                tqdm.write(f"{name}: finished earlier ({out_dir / name}.safetensors); nothing to resume")
            return finished
        if config.stage == "target" and init_weights is None:
            raise FaigError("the target stage is fine-tuned from a baseline: give its weights (--init)")
        torch_device = resolve_device(device)
        torch.manual_seed(config.seed)
        images = load_images(config.train_split, hr_dir, config.arch.scale)
        check_patchable(images, config.gt_size)
        val_images = load_images(config.val_split, val_dir, config.arch.scale)
        validation_source = str(val_dir) if val_dir is not None else f"embedded {config.val_split} split"
        if progress and config.val_every and hr_dir is not None and val_dir is None:
            tqdm.write(f"training on {hr_dir}, validating on the {validation_source} (give --val-dir to use your own)")
        probe_images = _probe_images(images, config.arch.scale)

        model = build_model(config.arch)
        if init_weights is not None:
            model.load_state_dict(initial_state(model, init_weights, config.arch.scale))
        placed(model, torch_device)
        run = RunState(model, copy.deepcopy(model).eval(),
                       torch.optim.Adam(model.parameters(), lr=config.lr, betas=config.betas),
                       torch.Generator().manual_seed(config.seed),
                       init=None if init_weights is None else {"path": str(init_weights),
                                                               "key": file_key(init_weights)},
                       data={"train": images_key(images), "validation": images_key(val_images)})
        if resume:
            run.restore(checkpoint, config)

        def one_step() -> None:
            _train_step(run, config, images, torch_device, gradient_mask)
            bar.update(1)
            bar.set_postfix(loss=f"{run.running_loss:.4f}", lr=f"{learning_rate(config, run.step - 1):.1e}")
            if config.val_every and (run.step % config.val_every == 0 or run.step == config.steps):
                run.history.append({"step": run.step, "loss": round(run.running_loss, 6),
                                    "val_psnr": validate(run.ema, val_images, config),
                                    "train_psnr": validate(run.ema, probe_images, config)})
                entry = run.history[-1]
                bar.write(f"step {run.step}: loss {run.running_loss:.4f}; validation PSNR {scores(entry['val_psnr'])}; "
                          f"training crops {scores(entry['train_psnr'])}")

        with tqdm(total=config.steps, initial=run.step, disable=not progress, dynamic_ncols=True, mininterval=2.0,
                  desc=f"{config.arch.arch} {config.stage}") as bar:
            timing = run_steps(run, config, one_step, torch_device, checkpoint, checkpoint_minutes, to_continue)

        metrics = {"history": run.history, "final_val_psnr": run.history[-1]["val_psnr"] if run.history else {},
                   **timing, "init_weights": run.init, "validation": validation_source,
                   "training_images": str(hr_dir) if hr_dir is not None else f"embedded {config.train_split} split",
                   "device": str(torch_device), "torch": torch.__version__}
        with stop_requests() as requests:  # both results, then no checkpoint: a signal cannot split them
            save_weights(out_dir / f"{name}.safetensors", run.ema, config.arch,
                         {"train_config": config.to_dict(), "metrics": metrics})
            write_json(out_dir / f"{name}.json", {"config": config.to_dict(), "metrics": metrics})
            checkpoint.unlink(missing_ok=True)
        if requests:
            raise TrainingInterrupted(f"{requests[0]} as {name} finished: its results are written to {out_dir}; "
                                      "a later stage continues with --resume")
        return metrics


def finished_metrics(out_dir: Path, name: str, config: TrainConfig) -> dict | None:
    """The metrics of a stage that finished in ``out_dir`` (its weights and record written, its
    checkpoint removed), or None; refused when it finished with another configuration.

    Raises:
        FaigError: the stage finished with another configuration.
    """
    record = out_dir / f"{name}.json"
    if checkpoint_path(out_dir, name).is_file() or not (out_dir / f"{name}.safetensors").is_file() \
            or not record.is_file():
        return None
    saved = json.loads(record.read_text())
    if _saved_config(json.dumps(saved.get("config"))) != config:
        raise FaigError(f"{record} finished with a different configuration; give another --out")
    return saved["metrics"]


def run_steps(run: RunState, config: TrainConfig, one_step: Callable[[], None], device: torch.device,
              checkpoint: Path | None, checkpoint_minutes: float = CHECKPOINT_MINUTES,
              to_continue: str = "continue with --resume") -> dict:
    """Make a run's remaining steps on ``device`` with ``one_step`` (which advances ``run.step``),
    recorded as a new entry of ``run.segments``, interruption-proof:
    between steps the checkpoint is saved every ``config.checkpoint_every`` steps, every
    ``checkpoint_minutes`` of wall time and on SIGINT/SIGTERM, after which the run stops (even after
    the last step, so that a signal is never lost: resuming that checkpoint goes straight to the
    finished result). Otherwise the last step is not checkpointed: the caller writes the finished
    result. Every faig training loop runs on it;
    with ``checkpoint`` None nothing is saved and signals act as usual. ``to_continue`` ends the
    interruption's message (how the user continues). On CUDA it puts cuDNN in its deterministic mode,
    so that a resumed run repeats the convolutions' arithmetic (operations that accumulate with
    atomic adds on a GPU, such as an attention network's position-bias lookup, can still differ in
    the last bits: bit-identical resume is the CPU's).

    Returns:
        ``{"train_seconds"`` (every invocation's), ``"seconds_per_step"`` (this one's), ``"segments"}``.

    Raises:
        TrainingInterrupted: SIGINT or SIGTERM arrived (the checkpoint is saved).

    Example:
        >>> from faig.models.registry import ArchConfig
        >>> model = nn.Linear(1, 1)
        >>> run = RunState(model, copy.deepcopy(model), torch.optim.Adam(model.parameters()), torch.Generator())
        >>> def one_step() -> None:
        ...     run.step += 1
        >>> timing = run_steps(run, TrainConfig(ArchConfig("srresnet", 2), steps=3, val_every=0), one_step,
        ...                    torch.device("cpu"), None)
        >>> run.step, [(segment["first_step"], segment["last_step"]) for segment in timing["segments"]]
        (3, [(0, 3)])
    """
    start = run.step
    if device.type == "cuda":  # cuDNN's autotuned kernels would make a resumed run's arithmetic differ
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = True, False
    run.segments.append({"device": str(device), "torch": torch.__version__, "threads": torch.get_num_threads(),
                         "first_step": start, "last_step": start, "seconds": 0.0})
    began = last_save = time.time()
    with stop_requests() if checkpoint is not None else nullcontext([]) as requests:
        while run.step < config.steps:
            one_step()
            if checkpoint is None or (run.step == config.steps and not requests):
                continue
            timed = time.time() - last_save >= 60 * checkpoint_minutes
            if requests or timed or run.step % config.checkpoint_every == 0:
                run.segments[-1].update(last_step=run.step, seconds=round(time.time() - began, 1))
                run.save(checkpoint, config)
                last_save = time.time()
            if requests:
                raise TrainingInterrupted(f"{requests[0]} at step {run.step} of {config.steps}: checkpoint saved to "
                                          f"{checkpoint}; {to_continue}")
    seconds = time.time() - began
    run.segments[-1].update(last_step=run.step, seconds=round(seconds, 1))
    return {"train_seconds": round(sum(segment["seconds"] for segment in run.segments), 1),
            "seconds_per_step": round(seconds / max(config.steps - start, 1), 4), "segments": run.segments}


def _train_step(run: RunState, config: TrainConfig, images: list[NamedImage], device: torch.device,
                gradient_mask: dict[str, torch.Tensor] | None) -> None:
    """One Adam step on a fresh batch, then the EMA update; advances ``run.step``."""
    batch = training_batch(images, config.batch_size, config.gt_size, config.degradations, run.generator,
                           config.channel_shuffle, config.channel_gain, device, config.synthetic_share)
    loss = F.l1_loss(run.model(batch.lr), batch.gt)
    value = optimiser_step(run.model, run.ema, run.optimizer, config, run.step, loss, gradient_mask)
    run.running_loss = smoothed(run.running_loss, value)
    run.step += 1


def optimiser_step(model: nn.Module, ema: nn.Module, optimizer: torch.optim.Optimizer, config: TrainConfig,
                   step: int, loss: torch.Tensor, gradient_mask: dict[str, torch.Tensor] | None = None) -> float:
    """What every faig training does with one step's loss: the cosine learning rate of ``step``,
    back-propagation, the optional gradient mask (Sec. 5.2.2's selective re-training), one Adam step
    and the EMA update. Returns the loss's value."""
    for group in optimizer.param_groups:
        group["lr"] = learning_rate(config, step)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if gradient_mask is not None:
        apply_gradient_mask(model, gradient_mask)
    optimizer.step()
    ema_update(ema, model, ema_decay(config, step))
    return loss.item()


def smoothed(running: float | None, value: float) -> float:
    """The running loss shown and logged: an exponential average with weight 0.02 on the newest step."""
    return value if running is None else 0.98 * running + 0.02 * value


def run_names(configs: list[TrainConfig]) -> list[str]:
    """The name each of a list of runs is written under: a stage's last cosine cycle by its stage
    (:func:`default_name`), an earlier cycle ``i`` of it as ``<name>_cycle<i>``.

    Example:
        >>> from faig.training.config import preset_config
        >>> baseline, target = (preset_config("embedded", "srresnet", stage) for stage in ("baseline", "target"))
        >>> run_names([baseline, target, target])
        ['srresnet_baseline', 'srresnet_target_cycle1', 'srresnet_target']
    """
    names = []
    for position, config in enumerate(configs):
        cycle = sum(other.stage == config.stage for other in configs[:position]) + 1
        last = cycle == sum(other.stage == config.stage for other in configs)
        names.append(default_name(config) if last else f"{default_name(config)}_cycle{cycle}")
    return names


def stage_begun(preset: str, arch: str, stage: str, out_dir: str | os.PathLike, scale: int = 2, seed: int = 0,
                mix: tuple[str, ...] = ()) -> bool:
    """Whether a preset stage has a run in ``out_dir`` to go on from: a checkpoint of any of its
    cosine cycles, or an earlier cycle finished (so :func:`train_stages` with ``resume`` continues
    it instead of starting over)."""
    from faig.training.config import stage_cycles

    names = run_names(stage_cycles(preset, arch, stage, scale, seed, mix))
    return (any(checkpoint_path(out_dir, name).is_file() for name in names)
            or any((Path(out_dir) / f"{name}.safetensors").is_file() for name in names[:-1]))


def train_stages(preset: str, arch: str, out_dir: str | os.PathLike, stages: tuple[str, ...] = ("baseline", "target"),
                 scale: int = 2, seed: int = 0, init_weights: str | os.PathLike | None = None,
                 device: str | None = None, hr_dir: str | os.PathLike | None = None, resume: bool = False,
                 progress: bool = True, steps: int | None = None, config_file: str | os.PathLike | None = None,
                 val_dir: str | os.PathLike | None = None,
                 checkpoint_minutes: float = CHECKPOINT_MINUTES, mix: tuple[str, ...] = (),
                 to_continue: str = "continue with --resume") -> dict[str, dict]:
    """Train a preset's stages in order (``steps`` overrides the preset's count), or the one stage a
    saved configuration describes (``config_file``: a ``TrainConfig`` JSON, such as the ``config``
    of any ``<name>.json`` that ``train`` wrote). A stage the preset trains in several cosine cycles
    (:func:`~faig.training.config.stage_cycles`) trains them in turn, the earlier ones as
    ``<name>_cycle<i>``, each restarting from the one before. The target starts from
    ``init_weights`` or, by default, from the baseline just written to ``out_dir``; a baseline trained
    alone starts from ``init_weights`` when given (a warm restart of an earlier baseline: its last
    cycle only), else from scratch. ``mix`` adds kinds to the target's blind mix (``("jpeg",)``:
    issue 12's wider mix, written as ``<arch>_target_jpeg``). With ``resume``, a finished stage is
    skipped and a stage after one that was found (finished or checkpointed) but never started itself
    starts afresh.

    Returns:
        Each trained run's metrics by name (``srcnn_style_baseline_cycle1``, ``srcnn_style_baseline``, ...).

    Example:
        >>> train_stages("embedded", "srresnet", "runs/train", ("baseline",))  # doctest: +SKIP
    """
    from faig.training.config import load_config, stage_cycles

    if steps is not None and steps < 1:
        raise FaigError(f"--steps must be at least 1, got {steps}")
    if mix and config_file is None and "target" not in stages:
        raise FaigError(f"--mix {','.join(mix)} changes the target's blind mix, and no target stage is trained")
    check_number("--checkpoint-minutes", checkpoint_minutes, 0)
    check_writable_dir(out_dir)
    if config_file is not None:
        configs = [load_config(config_file)]
        arch = configs[0].arch.arch
    else:
        configs = [config for stage in stages for config in stage_cycles(preset, arch, stage, scale, seed, mix)]
    warm_start = init_weights is not None and all(config.stage == "baseline" for config in configs)
    if warm_start:
        configs = configs[-1:]  # the given weights stand for the baseline's earlier cycles
    for config in configs:  # a bad --init is refused before the first stage trains, not after the baseline
        if init_weights is not None and (config.stage == "target" or warm_start):
            initial_state(build_model(config.arch), init_weights, config.arch.scale)
    results: dict[str, dict] = {}
    earlier = False  # a stage before this one was resumed or had finished: a later one may start afresh
    previous: Path | None = Path(init_weights) if warm_start else None  # what the next run starts from
    for position, (config, name) in enumerate(zip(configs, run_names(configs))):
        if steps is not None:
            config = replace(config, steps=steps, val_every=min(config.val_every, steps),
                             checkpoint_every=min(config.checkpoint_every, steps))
        init = previous
        if config.stage == "target" and all(other.stage != "target" for other in configs[:position]):
            init = Path(init_weights) if init_weights is not None else Path(out_dir) / f"{arch}_baseline.safetensors"
            if not init.is_file():
                raise FaigError(f"no baseline at {init}: train the baseline stage first or give --init")
        found = resume and (checkpoint_path(out_dir, name).is_file()
                            or finished_metrics(Path(out_dir), name, config) is not None)
        results[name] = train(config, out_dir, init, found or (resume and not earlier), device, hr_dir,
                              progress, name=name, checkpoint_minutes=checkpoint_minutes, val_dir=val_dir,
                              to_continue=to_continue)
        earlier = earlier or found
        previous = Path(out_dir) / f"{name}.safetensors"
    return results
