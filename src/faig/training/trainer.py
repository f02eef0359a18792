"""The training loop for both stages of Sec. 4.1: Adam, L1, cosine schedule, EMA, resume, progress."""

from __future__ import annotations

import copy
import json
import math
import os
import time
from dataclasses import replace
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from faig.data.patches import check_patchable, training_batch
from faig.data.splits import NamedImage, load_images
from faig.errors import FaigError
from faig.evaluate import resolve_device, score_variants
from faig.files import atomic_path, write_json
from faig.models.checkpoints import check_same_structure, load_state_dict, save_weights
from faig.models.registry import build_model
from faig.training.config import TrainConfig


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
    for averaged, current in zip(ema.parameters(), model.parameters()):
        averaged.lerp_(current, 1 - decay)


def default_name(config: TrainConfig) -> str:
    return f"{config.arch.arch}_{config.stage}"


@torch.no_grad()
def apply_gradient_mask(model: nn.Module, gradient_mask: dict[str, torch.Tensor]) -> None:
    """Multiply each parameter's gradient by its mask; parameters without a mask get none."""
    for key, parameter in model.named_parameters():
        if key in gradient_mask:
            parameter.grad.mul_(gradient_mask[key].to(parameter.grad))
        else:
            parameter.grad = None


def validation_variants(config: TrainConfig) -> tuple[str, ...]:
    return ("clean",) if config.stage == "baseline" else ("clean", "blur", "noise")


def validate(model: nn.Module, images: list[NamedImage], config: TrainConfig) -> dict[str, float]:
    scores = score_variants(model, images, config.arch.scale, validation_variants(config), with_ssim=False)
    return {name: round(value["psnr"], 4) for name, value in scores.items()}


def _save_checkpoint(path: Path, step: int, model: nn.Module, ema: nn.Module, optimizer: torch.optim.Optimizer,
                     generator: torch.Generator, history: list[dict], config: TrainConfig) -> None:
    state = {"step": step, "model": model.state_dict(), "ema": ema.state_dict(),
             "optimizer": optimizer.state_dict(), "generator": generator.get_state(),
             "history": json.dumps(history), "config": config.to_json()}
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def _load_checkpoint(path: Path, config: TrainConfig) -> dict:
    state = torch.load(path, map_location="cpu", weights_only=True)
    if state["config"] != config.to_json():
        raise FaigError(f"cannot resume from {path}: it was made with a different configuration")
    return state


def train(config: TrainConfig, out_dir: str | os.PathLike, init_weights: str | os.PathLike | None = None,
          resume: bool = False, device: str | None = None, hr_dir: str | os.PathLike | None = None,
          progress: bool = True, gradient_mask: dict[str, torch.Tensor] | None = None,
          name: str | None = None) -> dict:
    """Train one stage and write ``<name>.safetensors`` (the EMA weights; name defaults to
    ``<arch>_<stage>``) and ``<name>.json`` (config and metrics) into ``out_dir``; a checkpoint every
    ``checkpoint_every`` steps lets ``resume`` continue exactly where an interrupted run stopped.

    ``gradient_mask`` re-trains only part of the network (Sec. 5.2.2): each parameter's gradient is
    multiplied by its mask (a parameter without one is frozen), so unselected weights stay
    bit-identical. Returns the metrics."""
    out_dir = Path(out_dir)
    name = name or default_name(config)
    torch_device = resolve_device(device)
    torch.manual_seed(config.seed)
    images = load_images(config.train_split, hr_dir, config.arch.scale)
    check_patchable(images, config.gt_size)
    val_images = load_images(config.val_split, None, config.arch.scale)

    model = build_model(config.arch)
    if init_weights is not None:
        initial = load_state_dict(init_weights)
        check_same_structure(model.state_dict(), initial, ("network", str(init_weights)))
        model.load_state_dict(initial)
    elif config.stage == "target":
        raise FaigError("the target stage is fine-tuned from a baseline: give its weights (--init)")
    model.to(torch_device)
    ema = copy.deepcopy(model).eval()
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, betas=config.betas)
    generator = torch.Generator().manual_seed(config.seed)
    history: list[dict] = []
    start = 0

    checkpoint = out_dir / "checkpoints" / f"{name}.pt"
    if resume and checkpoint.is_file():
        state = _load_checkpoint(checkpoint, config)
        model.load_state_dict(state["model"])
        ema.load_state_dict(state["ema"])
        optimizer.load_state_dict(state["optimizer"])
        generator.set_state(state["generator"])
        history = json.loads(state["history"])
        start = state["step"]

    began = time.time()
    bar = tqdm(range(start, config.steps), initial=start, total=config.steps, disable=not progress,
               desc=f"{config.arch.arch} {config.stage}", dynamic_ncols=True, mininterval=2.0)
    running = None
    for step in bar:
        lr_batch, gt_batch = training_batch(images, config.batch_size, config.gt_size, config.degradations, generator,
                                            config.channel_shuffle, config.channel_gain)
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(config, step)
        loss = F.l1_loss(model(lr_batch.to(torch_device)), gt_batch.to(torch_device))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if gradient_mask is not None:
            apply_gradient_mask(model, gradient_mask)
        optimizer.step()
        ema_update(ema, model, ema_decay(config, step))
        running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
        bar.set_postfix(loss=f"{running:.4f}", lr=f"{optimizer.param_groups[0]['lr']:.1e}")
        done = step + 1
        if done % config.val_every == 0 or done == config.steps:
            history.append({"step": done, "loss": round(running, 6), "val_psnr": validate(ema, val_images, config)})
            bar.write(f"step {done}: loss {running:.4f}, {config.val_split} PSNR {history[-1]['val_psnr']}")
        if done % config.checkpoint_every == 0 and done < config.steps:
            _save_checkpoint(checkpoint, done, model, ema, optimizer, generator, history, config)
    bar.close()
    seconds = time.time() - began

    metrics = {"history": history, "final_val_psnr": history[-1]["val_psnr"] if history else {},
               "train_seconds": round(seconds, 1),
               "seconds_per_step": round(seconds / max(config.steps - start, 1), 4),
               "device": str(torch_device), "torch": torch.__version__}
    save_weights(out_dir / f"{name}.safetensors", ema, config.arch,
                 {"train_config": config.to_dict(), "metrics": metrics})
    write_json(out_dir / f"{name}.json", {"config": config.to_dict(), "metrics": metrics})
    return metrics


def train_stages(preset: str, arch: str, out_dir: str | os.PathLike, stages: tuple[str, ...] = ("baseline", "target"),
                 scale: int = 2, seed: int = 0, init_weights: str | os.PathLike | None = None,
                 device: str | None = None, hr_dir: str | os.PathLike | None = None, resume: bool = False,
                 progress: bool = True, steps: int | None = None) -> dict[str, dict]:
    """Train a preset's stages in order (``steps`` overrides the preset's count); the target starts
    from ``init_weights`` or, by default, from the baseline just written to ``out_dir``."""
    from faig.training.config import preset_config

    if steps is not None and steps < 1:
        raise FaigError("--steps must be at least 1")
    results = {}
    for stage in stages:
        config = preset_config(preset, arch, stage, scale, seed)
        if steps is not None:
            config = replace(config, steps=steps, val_every=min(config.val_every, steps),
                             checkpoint_every=min(config.checkpoint_every, steps))
        init = init_weights
        if stage == "target" and init is None:
            init = Path(out_dir) / f"{arch}_baseline.safetensors"
            if not init.is_file():
                raise FaigError(f"no baseline at {init}: train the baseline stage first or give --init")
        results[stage] = train(config, out_dir, init if stage == "target" else None, resume, device, hr_dir, progress)
    return results
