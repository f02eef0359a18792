"""Re-training only the discovered filters (Sec. 5.2.2, Table 3).

From the baseline, only the chosen filters are trained on one task (blur-only or noise-only data,
or any one degradation beyond the paper's);
every other weight and every bias is frozen by the trainer's gradient mask, so they stay
bit-identical. The upper bound trains every parameter. One schedule serves every row.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from faig.attribution.filters import FilterIndex
from faig.data.degradations import DegradationSampler, variant_parts, variant_sampler
from faig.errors import FaigError
from faig.models.checkpoints import load_model
from faig.models.registry import ArchConfig, build_model
from faig.names import DEGRADATIONS
from faig.training.config import TrainConfig
from faig.training.trainer import checkpoint_path, train


@dataclass(frozen=True)
class RetrainConfig:
    """The one re-training schedule of Table 3 (Adam, L1, cosine, EMA: the trainer's)."""

    steps: int = 150
    lr: float = 1e-3
    batch_size: int = 8
    gt_size: int = 48
    percent: float = 1.0

    def to_dict(self) -> dict:
        return asdict(self)


def task_sampler(task: str, scale: int) -> DegradationSampler:
    """Blur-only (deblurring task) or noise-only (denoising task) training data, or any single
    degradation beyond the paper's (``jpeg``, ``blur1``).

    Raises:
        FaigError: a task that is not one named degradation (``clean`` or a ``+`` combination).
    """
    if len(variant_parts(task)) != 1:
        raise FaigError(f"unknown re-training task {task!r}; name one degradation, e.g. {', '.join(DEGRADATIONS)}")
    return variant_sampler(task, scale)


def task_config(arch: ArchConfig, task: str, config: RetrainConfig, seed: int) -> TrainConfig:
    """The trainer configuration of one re-training run."""
    return TrainConfig(arch=arch, stage="target", steps=config.steps, lr=config.lr, batch_size=config.batch_size,
                       gt_size=config.gt_size, degradations=task_sampler(task, arch.scale),
                       val_every=0, checkpoint_every=config.steps, seed=seed)


def gradient_mask(index: FilterIndex, selection: torch.Tensor) -> dict[str, torch.Tensor]:
    """The trainer's mask for training only the selected filters: a 0/1 (out, in, 1, 1) tensor per
    convolution holding any; every other parameter (biases included) is left out, hence frozen."""
    return {name: mask for name, mask in index.expand(selection).items() if mask.any()}


def retrain(init_weights: str | os.PathLike, arch: ArchConfig, task: str, selection: torch.Tensor | None,
            config: RetrainConfig, seed: int, out_dir: str | os.PathLike, name: str,
            device: str | None = None, progress: bool = False,
            hr_dir: str | os.PathLike | None = None) -> nn.Module:
    """Re-train ``init_weights`` (the baseline) on ``task``, only the selected filters (all
    parameters when ``selection`` is None), and return the network; on the embedded ``train`` split,
    or on the HR images of ``hr_dir``.

    The run writes ``out_dir/<name>.safetensors``; an interrupted one resumes from its checkpoint.
    Finished runs are not looked up here: their callers cache what they measure on the network
    (``faig reproduce`` keeps each run's per-image PSNRs in its step cache).
    """
    mask = None if selection is None else gradient_mask(FilterIndex.from_module(build_model(arch)), selection)
    train(task_config(arch, task, config, seed), out_dir, init_weights, resume=checkpoint_path(out_dir, name).is_file(),
          device=device, hr_dir=hr_dir, progress=progress, gradient_mask=mask, name=name)
    model, _ = load_model(Path(out_dir) / f"{name}.safetensors")
    return model
