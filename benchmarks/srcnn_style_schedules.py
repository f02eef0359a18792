"""Which embedded schedule teaches srcnn_style the blind-SR effect (issue 2, point 6)?

Trains the embedded srcnn_style baseline and target (Sec. 4.1) under several schedules, several at
once in separate processes, and scores each pair on the ``test`` split: the target's PSNR gain over
the baseline on ``blur``, ``noise`` and ``clean`` inputs, which must reach +1.5 / +4 / -2.5 dB.
Meant for a GPU, where a schedule takes a few minutes; a schedule worth adopting must still fit the
2-core CPU's 30 minutes per stage, where the embedded srcnn_style (width 64) takes 0.35 s a step
at GT patch 64 and 0.20 s at 48: at most about 5,000 or 8,000 steps. Results are merged into
``--json`` schedule by schedule, so runs of different ``--only`` sets add up; ``seconds`` are wall
times with ``jobs_at_once`` schedules sharing the machine, not speeds.

    python benchmarks/srcnn_style_schedules.py --device cuda --jobs 3 --only previous_preset long_target
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import replace
from pathlib import Path

import torch

from faig.data.splits import load_images
from faig.evaluate import score_variants
from faig.models.checkpoints import load_model
from faig.models.registry import preset_weights
from faig.training.config import preset_config
from faig.training.trainer import train

# Every schedule starts from the embedded preset as it stood when the search ran (SEARCH_START) and
# changes the TrainConfig fields it names; a baseline of None fine-tunes the committed embedded
# baseline instead of training one (the results in the JSON ran on the one committed at 755a47f:
# 4,500 steps at 1e-3, 64px, no channel gain). The "no_gain" schedules ran before the target's
# channel gain existed. The preset now is "gain_patch48_2e-3_7000_6000".
SEARCH_START: dict[str, dict] = {
    "baseline": {"steps": 4_500, "lr": 1e-3, "gt_size": 64, "channel_gain": 0.0},
    "target": {"steps": 3_000, "lr": 1e-3, "gt_size": 64, "channel_gain": 0.5},
}
SCHEDULES: dict[str, tuple[dict | None, dict]] = {
    "previous_preset": ({}, {}),
    "no_gain": ({}, {"channel_gain": 0.0}),
    "no_gain_target_4500": (None, {"steps": 4_500, "channel_gain": 0.0}),
    "no_gain_target_5000": (None, {"steps": 5_000, "channel_gain": 0.0}),
    "no_gain_target_4500_5e-4": (None, {"steps": 4_500, "lr": 5e-4, "channel_gain": 0.0}),
    "no_gain_no_shuffle_target": (None, {"channel_shuffle": False, "channel_gain": 0.0}),
    "long_target": ({}, {"steps": 5_000}),
    "target_2e-3": ({}, {"steps": 5_000, "lr": 2e-3}),
    "baseline_2e-3": ({"lr": 2e-3}, {"steps": 5_000}),
    "patch48": ({"steps": 8_000, "gt_size": 48}, {"steps": 8_000, "gt_size": 48}),
    "ceiling_not_cpu": ({"steps": 15_000}, {"steps": 8_000}),
    "baseline_gain": ({"channel_gain": 0.5}, {}),
    "baseline_gain_target_4500": ({"channel_gain": 0.5}, {"steps": 4_500}),
    "target_gain_0.75": (None, {"channel_gain": 0.75}),
    "gain_0.75": ({"channel_gain": 0.75}, {"channel_gain": 0.75}),
    "baseline_gain_seed1": ({"channel_gain": 0.5, "seed": 1}, {"seed": 1}),
    "baseline_gain_target_4500_seed1": ({"channel_gain": 0.5, "seed": 1}, {"steps": 4_500, "seed": 1}),
    "baseline_gain_target_4500_2e-3": ({"channel_gain": 0.5}, {"steps": 4_500, "lr": 2e-3}),
    "baseline_gain_target_4500_gain_0.75": ({"channel_gain": 0.5}, {"steps": 4_500, "channel_gain": 0.75}),
    "baseline_gain_2e-3_target_4500": ({"channel_gain": 0.5, "lr": 2e-3}, {"steps": 4_500}),
    "target_4500": (None, {"steps": 4_500}),
    "gain_patch48": ({"channel_gain": 0.5, "gt_size": 48, "steps": 8_000}, {"gt_size": 48, "steps": 7_000}),
    "gain_patch48_seed1": ({"channel_gain": 0.5, "gt_size": 48, "steps": 8_000, "seed": 1},
                           {"gt_size": 48, "steps": 7_000, "seed": 1}),
    "gain_patch48_2e-3": ({"channel_gain": 0.5, "gt_size": 48, "steps": 8_000, "lr": 2e-3},
                          {"gt_size": 48, "steps": 7_000}),
    "gain_patch48_2e-3_seed1": ({"channel_gain": 0.5, "gt_size": 48, "steps": 8_000, "lr": 2e-3, "seed": 1},
                                {"gt_size": 48, "steps": 7_000, "seed": 1}),
    "gain_patch48_target_6000": ({"channel_gain": 0.5, "gt_size": 48, "steps": 8_000}, {"gt_size": 48, "steps": 6_000}),
    "gain_patch48_2e-3_seed2": ({"channel_gain": 0.5, "gt_size": 48, "steps": 8_000, "lr": 2e-3, "seed": 2},
                                {"gt_size": 48, "steps": 7_000, "seed": 2}),
    "gain_patch48_2e-3_7000_6000": ({"channel_gain": 0.5, "gt_size": 48, "steps": 7_000, "lr": 2e-3},
                                    {"gt_size": 48, "steps": 6_000}),
    "gain_patch48_2e-3_7000_6000_seed1": ({"channel_gain": 0.5, "gt_size": 48, "steps": 7_000, "lr": 2e-3, "seed": 1},
                                          {"gt_size": 48, "steps": 6_000, "seed": 1}),
    "gain_patch48_target_gain_0.75": ({"channel_gain": 0.5, "gt_size": 48, "steps": 8_000},
                                      {"gt_size": 48, "steps": 7_000, "channel_gain": 0.75}),
}
VARIANTS = ("clean", "blur", "noise")
ARCH = "srcnn_style"


def run_schedule(name: str, out_dir: str, device: str, scale: int = 2) -> dict:
    """Train one schedule's baseline and target and score both on the test split."""
    folder = Path(out_dir) / name
    torch.set_num_threads(2)
    seconds = {}
    baseline_schedule, target_schedule = SCHEDULES[name]
    paths = {"baseline": folder / f"{ARCH}_baseline.safetensors", "target": folder / f"{ARCH}_target.safetensors"}
    if baseline_schedule is None:
        paths["baseline"] = preset_weights("embedded", ARCH, "baseline")
    for stage, changes in (("baseline", baseline_schedule), ("target", target_schedule)):
        if changes is None:
            continue
        config = replace(preset_config("embedded", ARCH, stage, scale), **{**SEARCH_START[stage], **changes})
        config = replace(config, checkpoint_every=config.steps)
        began = time.time()
        train(config, folder, paths["baseline"] if stage == "target" else None, device=device, progress=False)
        seconds[stage] = round(time.time() - began, 1)
    images = load_images("test", None, scale)
    scores = {}
    for stage in ("baseline", "target"):
        model = load_model(paths[stage])[0].to(device)
        scores[stage] = {k: round(v["psnr"], 3) for k, v in score_variants(model, images, scale, VARIANTS,
                                                                            with_ssim=False).items()}
    gains = {v: round(scores["target"][v] - scores["baseline"][v], 3) for v in VARIANTS}
    return {"schedule": SCHEDULES[name], "psnr": scores, "gain": gains, "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--jobs", type=int, default=3)
    parser.add_argument("--only", nargs="*", default=list(SCHEDULES))
    parser.add_argument("--out", default="/tmp/srcnn_style_schedules")
    parser.add_argument("--json", default="benchmarks/results/srcnn_style_schedules.json")
    args = parser.parse_args()
    context = multiprocessing.get_context("spawn")
    path = Path(args.json)
    report = json.loads(path.read_text()) if path.is_file() else {
        "arch": ARCH, "split": "test", "bars": {"blur": 1.5, "noise": 4.0, "clean": -2.5}, "results": {}}
    device = torch.cuda.get_device_name() if args.device == "cuda" else args.device
    with ProcessPoolExecutor(args.jobs, mp_context=context) as pool:
        futures = {pool.submit(run_schedule, name, args.out, args.device): name for name in args.only}
        for future in as_completed(futures):
            name = futures[future]
            report["results"][name] = {**future.result(), "device": device, "jobs_at_once": args.jobs}
            print(name, json.dumps(report["results"][name]), flush=True)
            path.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
