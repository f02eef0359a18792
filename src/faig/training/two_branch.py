"""Two-branch training for Sec. 3 (Table 1): any network under any objective, the DAN and DASR losses.

``train_network`` trains a network under an objective (a function of the network, the training
batch and the step), with the schedule of ``faig train`` (Adam,
cosine learning rate, EMA of the weights; buffers copied into the EMA) and its interruption-proof
loop (``run_steps``). Every network trained under the same ``TrainConfig`` sees the same batches,
which is what makes Table 1's comparisons fair. The objectives: ``l1_objective`` (the one-branch
SRResNet's, as ``faig train``), ``dan_objective`` (DAN: L1 on the SR image and on the degradation
code) and ``dasr_objective`` (DASR: MoCo's contrastive loss on the degradation encoder, alone for its
warm-up, then with the SR loss).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from faig.data.degradations import degrade_batch
from faig.data.patches import TrainingBatch, augmented_crops, training_batch
from faig.data.splits import NamedImage
from faig.errors import FaigError
from faig.models.dan import degradation_code
from faig.training.config import TrainConfig
from faig.training.trainer import CHECKPOINT_MINUTES, RunState, optimiser_step, placed, run_steps, smoothed

# DASR's key patches at step t of seed n are drawn from a generator seeded KEY_SEED_STRIDE * n + t.
KEY_SEED_STRIDE = 1_000_003

# An objective maps (network, batch, step) to the loss of one training step.
Objective = Callable[[nn.Module, TrainingBatch, int], torch.Tensor]


@dataclass(frozen=True)
class TwoBranchLosses:
    """The two-branch networks' extra losses: DAN's code L1 weight; DASR's contrastive weight and the
    fraction of steps its encoder trains alone (DASR: 100 of 600 epochs)."""

    code_weight: float = 1.0
    contrastive_weight: float = 1.0
    encoder_warmup: float = 1 / 6


def l1_objective(model: nn.Module, batch: TrainingBatch, step: int) -> torch.Tensor:
    """The one-branch network's loss: L1 between its output and the GT (as ``faig.training``).

    Example:
        >>> batch = TrainingBatch(torch.zeros(1, 3, 2, 2), torch.full((1, 3, 2, 2), 0.5), [], [0])
        >>> l1_objective(nn.Identity(), batch, 0)
        tensor(0.5000)
    """
    return F.l1_loss(model(batch.lr), batch.gt)


def dan_objective(losses: TwoBranchLosses) -> Objective:
    """DAN's loss: L1 on the last SR image plus ``code_weight`` times L1 on the last code.

    Example:
        >>> from faig.data.degradations import Degradation
        >>> from faig.models.dan import DAN, DANConfig
        >>> net = DAN(DANConfig(width=4, blocks=1, estimator_width=4, estimator_blocks=1, iterations=2))
        >>> batch = TrainingBatch(torch.rand(1, 3, 6, 6), torch.rand(1, 3, 12, 12), [Degradation(2, 1.0)], [0])
        >>> loss = dan_objective(TwoBranchLosses())(net, batch, 0)
        >>> loss.dim(), loss.item() > 0
        (0, True)
    """

    def objective(model: nn.Module, batch: TrainingBatch, step: int) -> torch.Tensor:
        sr, code = model.forward_with_code(batch.lr)
        target = degradation_code(batch.degradations).to(code.device)
        return F.l1_loss(sr, batch.gt) + losses.code_weight * F.l1_loss(code, target)

    return objective


def key_patches(images: list[NamedImage], batch: TrainingBatch, generator: torch.Generator) -> torch.Tensor:
    """DASR's positive keys: for each sample, another patch of the image it was cropped from (its
    own random position and symmetry of the square), degraded as the sample was (the same blur and
    noise level, its own noise): DASR's assumption that one image has one degradation. The LR keys
    are as large as the batch's and on its device.

    Example:
        >>> from faig.data.degradations import Degradation
        >>> image = NamedImage("x", torch.rand(1, 3, 32, 32))
        >>> blurred = [Degradation(2, 1.0)] * 2
        >>> batch = TrainingBatch(torch.rand(2, 3, 8, 8), torch.rand(2, 3, 16, 16), blurred, [0, 0])
        >>> key_patches([image], batch, torch.Generator().manual_seed(0)).shape
        torch.Size([2, 3, 8, 8])
    """
    crops = augmented_crops(images, batch.sources, batch.gt.shape[-1], generator).to(batch.gt.device)
    return degrade_batch(crops, batch.degradations, generator)


def dasr_objective(losses: TwoBranchLosses, steps: int, seed: int, images: list[NamedImage]) -> Objective:
    """DASR's loss: ``contrastive_weight`` times MoCo's InfoNCE (query: the LR patch, key: another
    patch of its training image among ``images``, :func:`key_patches`) plus, after the encoder's
    warm-up, L1 of the SR image restored under the query's representation. The keys are drawn by a
    generator seeded from ``seed`` and the step (not the data's, so batches stay shared; and no
    state, so a resumed run draws the same keys)."""
    warmup = int(steps * losses.encoder_warmup)

    def objective(model: nn.Module, batch: TrainingBatch, step: int) -> torch.Tensor:
        representation, projection = model.encode(batch.lr)
        generator = torch.Generator().manual_seed(KEY_SEED_STRIDE * seed + step)
        loss = losses.contrastive_weight * model.contrastive_loss(projection, key_patches(images, batch, generator))
        if step >= warmup:
            loss = loss + F.l1_loss(model.restore(batch.lr, representation), batch.gt)
        return loss

    return objective


@torch.no_grad()
def copy_buffers(target: nn.Module, source: nn.Module) -> None:
    """Copy every buffer (batch-norm statistics, DASR's queue) of ``source`` into ``target``: the
    EMA averages parameters only, and DASR's encoder needs its current statistics.

    Example:
        >>> source, target = nn.BatchNorm2d(2), nn.BatchNorm2d(2)
        >>> _ = source.running_mean.fill_(0.5)
        >>> copy_buffers(target, source)
        >>> target.running_mean
        tensor([0.5000, 0.5000])
    """
    for mine, theirs in zip(target.buffers(), source.buffers()):
        mine.copy_(theirs)


def train_network(model: nn.Module, objective: Objective, config: TrainConfig, images: list[NamedImage],
                  device: torch.device, progress: bool = False, label: str = "", checkpoint: Path | None = None,
                  tag: dict | None = None, checkpoint_minutes: float = CHECKPOINT_MINUTES) -> tuple[nn.Module, dict]:
    """Train one network of a comparison: ``config.steps`` Adam steps (betas, cosine learning rate
    and EMA as ``faig.training.trainer``; buffers are copied into the EMA) on batches drawn by
    ``torch.Generator().manual_seed(config.seed)``, so every network trained under the same config
    sees the same batches.

    With ``checkpoint``, the run is interruption-proof as ``faig train`` is (``run_steps``): it is
    saved there every ``checkpoint_minutes`` and on SIGINT/SIGTERM, continued bit-identically from
    it when it holds this run (same ``config`` and ``tag``); a checkpoint of another run is ignored
    and replaced. The caller removes it once the finished run's result is kept.

    Args:
        model: the network (moved to ``device``; its frozen parameters are not optimised).
        objective: the loss of one step.
        config: steps, learning rate, batch, patch size, degradation mix and seed.
        images: the training images.
        checkpoint: where the unfinished run is kept (None: nowhere).
        tag: what else the run depends on (the networks' and losses' settings).

    Returns:
        (the EMA copy in eval mode, {"train_seconds", "seconds_per_step", "final_loss", "segments"}).

    Raises:
        TrainingInterrupted: SIGINT or SIGTERM arrived (the checkpoint is saved).

    Example:
        >>> from faig.models.registry import ArchConfig, build_model
        >>> config = TrainConfig(ArchConfig("srresnet", 2, width=4, depth=1), steps=2, batch_size=2, gt_size=24)
        >>> ema, run = train_network(build_model(config.arch), l1_objective, config,
        ...                          [NamedImage("x", torch.rand(1, 3, 32, 32))], torch.device("cpu"))
        >>> ema.training, sorted(run)
        (False, ['final_loss', 'seconds_per_step', 'segments', 'train_seconds'])
    """
    placed(model, device).train()
    run = RunState(model, copy.deepcopy(model).eval(),
                   torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=config.lr,
                                    betas=config.betas),
                   torch.Generator().manual_seed(config.seed), tag=tag)
    if checkpoint is not None and checkpoint.is_file():
        try:
            run.restore(checkpoint, config)
        except FaigError:  # another run's (or a damaged) checkpoint: this run starts afresh and replaces it
            if progress:
                tqdm.write(f"{label}: {checkpoint} holds another run or is damaged; starting from step 0")

    def one_step() -> None:
        batch = training_batch(images, config.batch_size, config.gt_size, config.degradations, run.generator,
                               config.channel_shuffle, config.channel_gain, device)
        value = optimiser_step(model, run.ema, run.optimizer, config, run.step, objective(model, batch, run.step))
        copy_buffers(run.ema, model)
        run.running_loss = smoothed(run.running_loss, value)
        run.step += 1
        bar.update(1)

    with tqdm(total=config.steps, initial=run.step, disable=not progress, desc=label, dynamic_ncols=True,
              mininterval=2.0) as bar:
        timing = run_steps(run, config, one_step, device, checkpoint, checkpoint_minutes,
                           "the same command continues it")
    return run.ema, {**timing, "final_loss": round(run.running_loss, 6)}
