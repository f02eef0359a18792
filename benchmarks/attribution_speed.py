"""Attribution speed: the paper-literal FAIG loop against the engine's default, in one run.

Times Eq. 7 on the embedded models and the ``discover`` split both ways: the paper-literal algorithm
(100 left-Riemann steps, one image and one step at a time, the D and ~D images recomputed for each D,
as the official code) and :func:`faig.attribution.attribute`'s default; measures the top-1 % overlap
of each with a high-accuracy reference (Gauss-Legendre, 128 nodes) and the engine's convolution
throughput against a large convolution timed alone. Writes JSON:

    python benchmarks/attribution_speed.py --out benchmarks/results/attribution_speed.json
"""

from __future__ import annotations

import argparse
import platform
import sys
import time

import torch
from torch.func import functional_call
from torch.utils.flop_counter import FlopCounterMode

from faig.attribution import attribute
from faig.attribution.api import image_pairs
from faig.attribution.faig import Networks, networks
from faig.attribution.filters import interpolate
from faig.attribution.literal import literal_discriminative
from faig.attribution.paths import split_state, sr_loss
from faig.attribution.quadrature import check_rule
from faig.data.splits import load_images
from faig.files import write_json
from faig.models.checkpoints import load_pair
from faig.models.registry import preset_weights


def overlap(first: torch.Tensor, second: torch.Tensor, count: int) -> float:
    """|top-count of one ranking intersected with the other's| / count, from two score vectors."""
    top = set(torch.argsort(first, descending=True, stable=True)[:count].tolist())
    return len(top & set(torch.argsort(second, descending=True, stable=True)[:count].tolist())) / count


def conv_flops(nets: Networks, lr: torch.Tensor, hr: torch.Tensor) -> tuple[int, int]:
    """Convolution FLOPs of one forward + backward lane at the path's middle, and of one forward."""
    start, fixed = split_state(nets.target)
    end, _ = split_state(nets.baseline)
    params = {k: v.requires_grad_() for k, v in interpolate(start, end, nets.index, 0.5, 0.5).items()}

    def counted(backward: bool) -> int:
        with FlopCounterMode(display=False) as counter:
            loss = sr_loss(functional_call(nets.model, (params, fixed), (lr,)), hr).sum()
            if backward:
                torch.autograd.grad(loss, list(params.values()))
        return sum(count for op, count in counter.get_flop_counts()["Global"].items() if "convolution" in str(op))

    return counted(True), counted(False)


def peak_conv_gflops(device: torch.device, repeats: int = 5) -> float:
    """GFLOP/s of a large 3x3 convolution (8 x 128 x 96 x 96, 128 -> 128) timed alone, best of ``repeats``."""
    x = torch.rand(8, 128, 96, 96, device=device)
    weight = torch.rand(128, 128, 3, 3, device=device)
    flops = 2 * 8 * 128 * 96 * 96 * 128 * 9
    best = float("inf")
    for _ in range(repeats + 1):
        if device.type == "cuda":
            torch.cuda.synchronize()
        started = time.perf_counter()
        torch.nn.functional.conv2d(x, weight, padding=1)
        if device.type == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - started)
    return flops / best / 1e9


def timed(function, device: torch.device, clocks: dict[str, float], name: str):
    """``function()``, recording its wall time as ``clocks[name]`` and this process's CPU time as
    ``clocks[name + "_cpu"]`` (robust to other jobs sharing the cores)."""
    if device.type == "cuda":
        torch.cuda.synchronize()
    started, cpu = time.perf_counter(), time.process_time()
    value = function()
    if device.type == "cuda":
        torch.cuda.synchronize()
    clocks[name], clocks[name + "_cpu"] = time.perf_counter() - started, time.process_time() - cpu
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="JSON file to write")
    parser.add_argument("--arch", default="srresnet")
    parser.add_argument("--baseline", help="baseline checkpoint (default: the embedded preset's)")
    parser.add_argument("--target", help="target checkpoint (default: the embedded preset's)")
    parser.add_argument("--split", default="discover")
    parser.add_argument("--hr-dir", help="a folder of HR images instead of the split")
    parser.add_argument("--images", type=int, help="use only the first N images (quick runs)")
    parser.add_argument("--degradations", default="blur,noise")
    parser.add_argument("--quadrature", default="gausslegendre", help="the engine's rule (default: its default)")
    parser.add_argument("--steps", type=int, help="the engine's steps (default: the rule's default)")
    parser.add_argument("--literal-steps", type=int, default=100)
    parser.add_argument("--reference-steps", type=int, default=128)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    baseline_path = args.baseline or preset_weights("embedded", args.arch, "baseline")
    target_path = args.target or preset_weights("embedded", args.arch, "target")
    baseline, target, config = load_pair(baseline_path, target_path)
    images = load_images(args.split, args.hr_dir, scale=config.scale)[:args.images]
    degradations = tuple(args.degradations.split(","))
    nets = networks(baseline, target, args.device)
    device = nets.device
    steps = check_rule(args.quadrature, args.steps)

    def engine(rule: str, count: int):
        return attribute("faig", baseline, target, images, degradations, rule, count, device, progress=False,
                         scale=config.scale)

    def say(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    say(f"{len(images)} images x {len(degradations)} degradations, {nets.index.total} filters, device {device}")
    pairs = {name: image_pairs(images, name, config.scale, 0, None) for name in degradations}
    warm_up = {name: pairs[name][:1] for name in degradations}  # first-call costs stay out of the timings
    attribute("faig", baseline, target, images[:1], degradations, "gausslegendre", 1, device, progress=False)
    literal_discriminative(nets, warm_up, "riemann_left", 1)
    clocks: dict[str, float] = {}
    fast = timed(lambda: engine(args.quadrature, steps), device, clocks, "engine")
    say(f"engine ({args.quadrature}, {steps}): {clocks['engine']:.1f} s")
    literal = timed(lambda: literal_discriminative(nets, pairs, "riemann_left", args.literal_steps), device, clocks,
                    "literal")
    say(f"paper-literal (riemann_left, {args.literal_steps}): {clocks['literal']:.1f} s")
    reference = timed(lambda: engine("gausslegendre", args.reference_steps), device, clocks, "reference")
    say(f"reference (gausslegendre, {args.reference_steps}): {clocks['reference']:.1f} s")
    literal_s, engine_s = clocks["literal"], clocks["engine"]

    count = round(nets.index.total / 100)
    overlaps = {name: {"paper_literal": overlap(literal[name], reference.scores[name], count),
                       "engine": overlap(fast.scores[name], reference.scores[name], count)}
                for name in degradations}
    lane_flops, forward_flops = conv_flops(nets, pairs[degradations[0]][0].lr.to(device),
                                           pairs[degradations[0]][0].hr.to(device))
    evaluations = len(images) * len(degradations)
    engine_flops = evaluations * (steps * lane_flops + 2 * forward_flops)
    peak = peak_conv_gflops(device)
    result = {
        "paper_literal_s": round(literal_s, 3),
        "engine_s": round(engine_s, 3),
        "speedup": round(literal_s / engine_s, 2),
        "overlap_top1": overlaps,
        "paper_literal_cpu_s": round(clocks["literal_cpu"], 3),
        "engine_cpu_s": round(clocks["engine_cpu"], 3),
        "speedup_cpu_time": round(clocks["literal_cpu"] / clocks["engine_cpu"], 2),
        "reference_s": round(clocks["reference"], 3),
        "engine": {"quadrature": args.quadrature, "steps": steps, "lanes_per_call": fast.metadata["lanes_per_call"],
                   "completeness_gap": fast.metadata["completeness_gap"]},
        "paper_literal": {"quadrature": "riemann_left", "steps": args.literal_steps},
        "reference": {"quadrature": "gausslegendre", "steps": args.reference_steps,
                      "completeness_gap": reference.metadata["completeness_gap"]},
        "throughput": {"engine_conv_gflop": round(engine_flops / 1e9, 2),
                       "engine_conv_gflops_per_s": round(engine_flops / engine_s / 1e9, 2),
                       "paper_literal_conv_gflops_per_s": round(
                           evaluations * len(degradations) * args.literal_steps * lane_flops / literal_s / 1e9, 2),
                       "peak_conv_gflops_per_s": round(peak, 2),
                       "engine_fraction_of_peak": round(engine_flops / engine_s / 1e9 / peak, 3)},
        "setup": {"arch": config.to_dict(), "baseline": str(baseline_path), "target": str(target_path),
                  "images": len(images), "image_set": args.hr_dir or args.split, "degradations": list(degradations),
                  "filters": nets.index.total, "top1_count": count, "device": str(device),
                  "threads": torch.get_num_threads(), "torch": torch.__version__, "machine": platform.processor()
                  or platform.machine()},
    }
    write_json(args.out, result)
    print(f"paper-literal {literal_s:.1f} s, engine {engine_s:.1f} s: {result['speedup']}x; top-1% overlap with "
          f"the reference: " + ", ".join(f"{name} {o['paper_literal']:.3f} / {o['engine']:.3f}"
                                          for name, o in overlaps.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
