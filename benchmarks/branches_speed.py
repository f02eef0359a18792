"""Seconds per training step of Table 1's four networks on this CPU, one thread each, as `faig branches`
trains them (channels-last memory, batches of the blur+noise setting, DASR past its encoder warm-up),
and what the full run (issue 13) costs on one core:

    OMP_NUM_THREADS=1 python benchmarks/branches_speed.py    # writes benchmarks/results/branches_speed.json
"""

from __future__ import annotations

import copy
import time

import torch

from faig.data.splits import load_images
from faig.experiments.branches import FULL, KINDS, budgets, network_and_objective, setting
from faig.files import write_json
from faig.training.trainer import placed
from faig.training.two_branch import optimiser_step, training_batch

WARMUP, TIMED = 2, 6  # steps run before timing, steps timed


def seconds_per_step(method: str, kind: str) -> float:
    """The mean time of one optimiser step of one network, after a warm-up."""
    images = load_images("train", None, FULL.scale)
    match = budgets(FULL)[method][1]
    torch.manual_seed(0)
    model, objective = network_and_objective(kind, method, FULL, match, 0, images)
    config = FULL.train_config(match.arch, setting(method, FULL.settings[-1], FULL.scale).train, 0)
    placed(model, torch.device("cpu")).train()
    ema = copy.deepcopy(model)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=config.lr)
    generator, times = torch.Generator().manual_seed(0), []
    for k in range(WARMUP + TIMED):
        step = FULL.steps - WARMUP - TIMED + k  # the last steps: past DASR's encoder warm-up, the full loss
        batch = training_batch(images, config.batch_size, config.gt_size, config.degradations, generator,
                               config.channel_shuffle, config.channel_gain, torch.device("cpu"))
        began = time.perf_counter()
        optimiser_step(model, ema, optimizer, config, step, objective(model, batch, step))
        times.append(time.perf_counter() - began)
    return sum(times[WARMUP:]) / TIMED


def main() -> None:
    torch.set_num_threads(1)
    seconds = {f"{method}/{kind}": round(seconds_per_step(method, kind), 3) for method in FULL.methods for kind in KINDS}
    for name, value in seconds.items():
        print(f"{name}: {value:.3f} s a step")
    per_setting_and_seed = sum(seconds.values())  # each method's two networks, in each of its settings
    trainings = len(FULL.methods) * len(FULL.settings) * len(KINDS) * FULL.seeds
    hours = per_setting_and_seed * FULL.steps * len(FULL.settings) * FULL.seeds / 3600
    print(f"the {trainings} trainings of {FULL.steps:,} steps: {hours:.1f} CPU hours on one core")
    write_json("benchmarks/results/branches_speed.json",
               {"seconds_per_step": seconds, "trainings": trainings, "steps": FULL.steps,
                "full_run_cpu_hours_one_core": round(hours, 1), "threads": 1, "torch": torch.__version__})


if __name__ == "__main__":
    main()
