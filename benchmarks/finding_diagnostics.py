"""Why a finding of ``faig reproduce`` holds or fails on a pair of models: five measurements.

1. ``reference``: test-split PSNR (clean inputs) of bicubic upsampling, the baseline and the target,
   per photo. Sec. 4.1 asks for a baseline that is "a common SR model": one below bicubic is not.
2. ``stability``: top-1 % overlap of Eq. 7's rankings found on two disjoint halves of the ``discover``
   split, and on ``discover`` against ``calibrate``. Eq. 7 averages over a data set "to eliminate
   the impact of image contents"; a low overlap says the set is too small for that. And
   ``elimination_overlap``: the top-1 % overlap of Eq. 7 with and without its elimination term
   (Sec. 4.2): how much of each set the term changes (Sec. 5.4's ablation can only show what it changes).
3. ``placement``: for each degradation, how its top 1 % spreads over the layers, and how over-
   represented each layer is (share of the set / share of all filters).
4. ``cross_masking``: the masking drop (Sec. 5.2.1, x 1e-3) of each degradation's top 0.5/1/2 % on
   its own and on the other degradation's inputs, and on blur+noise inputs (``mixed``: does the
   target use those filters when both degradations are present?), on ``discover`` (where they were found) and on
   the held-out ``test`` split; ``other_over_own`` < 1/3 is the report's discriminative bar. Measured
   for Eq. 7 as the paper writes it, and for Eq. 7 with each image's scores divided by their sum
   (``share``), which tells whether one degradation's larger attribution total swamps the
   elimination term.
5. ``colour_bias``: test-split PSNR of the baseline and the target on clean, blur and noise inputs,
   as scored and with each tile's per-channel mean error removed, and that mean error's size in
   8-bit levels: how much of a network's loss is a colour or brightness shift (a network without
   the upsampled-input skip must produce every tile's colour itself) rather than missing detail.

    python benchmarks/finding_diagnostics.py --out benchmarks/results/finding_diagnostics.json
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from faig.attribution import attribute
from faig.attribution.discriminative import discriminative_scores, set_scores
from faig.attribution.filters import FilterIndex
from faig.attribution.result import rank
from faig.data.degradations import variant
from faig.data.layout import degraded_pairs
from faig.data.splits import load_images
from faig.evaluate import super_resolve
from faig.experiments.common import outputs, runner
from faig.experiments.distribution import layer_shares
from faig.experiments.masking import masking_drops
from faig.files import write_json
from faig.metrics import psnr
from faig.models.checkpoints import load_pair
from faig.models.interpolation import Bicubic
from faig.models.registry import preset_weights
from faig.names import DEGRADATIONS

INPUT_OF = {"blur": "blur_input", "noise": "noise_input", "blur+noise": "mixed_input"}
PERCENTS = (0.5, 1.0, 2.0)


def photo(name: str) -> str:
    """The photo a tile (``<photo>_r<row>c<col>``) comes from."""
    return name.rsplit("_r", 1)[0]


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


def reference(baseline, target, scale: int) -> dict:
    """Per-photo clean-input PSNR of bicubic, baseline and target on the test split."""
    models = {"bicubic": Bicubic(scale), "baseline": baseline, "target": target}
    per_photo: dict[str, dict[str, list[float]]] = {}
    for pair in degraded_pairs(load_images("test", scale=scale), variant("clean", scale), 0):
        scores = per_photo.setdefault(photo(pair.name), {name: [] for name in models})
        for name, model in models.items():
            scores[name].append(psnr(super_resolve(model, pair.lr), pair.hr, scale))
    return {name: {model: round(mean(values), 3) for model, values in scores.items()}
            for name, scores in per_photo.items()}


def colour_bias(baseline, target, scale: int, variants: tuple[str, ...] = ("clean", "blur", "noise")) -> dict:
    """Test-split PSNR as scored and after removing each tile's per-channel mean error, and the mean
    absolute per-channel error of the tiles in 8-bit levels, per variant and network."""
    images = load_images("test", scale=scale)
    inner = (slice(None), slice(None), slice(scale, -scale), slice(scale, -scale))
    result: dict[str, dict[str, dict[str, float]]] = {}
    for name in variants:
        scores = {stage: {"psnr": [], "psnr_bias_removed": [], "bias_levels": []} for stage in ("baseline", "target")}
        for pair in degraded_pairs(images, variant(name, scale), 0):
            for stage, model in (("baseline", baseline), ("target", target)):
                output = super_resolve(model, pair.lr)
                bias = (output - pair.hr)[inner].mean(dim=(2, 3), keepdim=True)
                scores[stage]["psnr"].append(psnr(output, pair.hr, scale))
                scores[stage]["psnr_bias_removed"].append(psnr((output - bias).clamp(0, 1), pair.hr, scale))
                scores[stage]["bias_levels"].append(float(bias.abs().mean()) * 255)
        result[name] = {stage: {key: round(mean(values), 3) for key, values in lists.items()}
                        for stage, lists in scores.items()}
    return result


def rankings(per_image: dict[str, torch.Tensor], rows: slice | list[int] = slice(None),
             share: bool = False) -> dict[str, torch.Tensor]:
    """Eq. 7 rankings from some images' Eq. 6 scores; ``share`` divides each image's scores by their sum."""
    chosen = {name: scores[rows] for name, scores in per_image.items()}
    if share:
        chosen = {name: scores / scores.sum(1, keepdim=True) for name, scores in chosen.items()}
    return {name: rank(scores) for name, scores in discriminative_scores(chosen).items()}


def top_overlap(first: torch.Tensor, second: torch.Tensor, count: int) -> float:
    return len(set(first[:count].tolist()) & set(second[:count].tolist())) / count


def placement(index: FilterIndex, ranking: torch.Tensor) -> dict:
    """Per-layer share of the top 1 % and its over-representation against the layer's size."""
    shares = layer_shares(index, index.selection(ranking, 1.0))
    sizes = {layer.module: layer.count / index.total for layer in index.layers}
    return {module: {"share": round(share, 4), "over_representation": round(share / sizes[module], 2)}
            for module, share in shares.items() if share > 0}


def cross_masking(baseline, target, ranks: dict[str, torch.Tensor], inputs: dict[str, list[torch.Tensor]],
                  references: dict[str, list[torch.Tensor]]) -> dict:
    """Each degradation's top-p % masked: mean drop on its own, the other degradation's and the
    blur+noise inputs (``references``: the target's outputs for ``inputs``)."""
    result = {}
    for name, ranking in ranks.items():
        other = next(d for d in DEGRADATIONS if d != name)
        result[name] = {}
        for percent, drops in masking_drops(baseline, target, ranking, inputs, PERCENTS, references).items():
            means = {degradation: mean(drops[kind]) for degradation, kind in INPUT_OF.items()}
            result[name][percent] = {"own": round(means[name], 4), "other": round(means[other], 4),
                                     "mixed": round(means["blur+noise"], 4),
                                     "other_over_own": round(means[other] / means[name], 3)}
    return result


def diagnose(baseline_path: Path, target_path: Path, steps: int, progress: bool) -> dict:
    baseline, target, arch_config = load_pair(baseline_path, target_path)
    scale, index = arch_config.scale, FilterIndex.from_module(target)
    count = index.top_count(1.0)
    per_split = {split: attribute("faig", baseline, target, load_images(split, scale=scale), DEGRADATIONS,
                                  steps=steps, progress=progress).per_image
                 for split in ("discover", "calibrate")}
    discover = per_split["discover"]
    images = discover["blur"].shape[0]
    halves = rankings(discover, list(range(0, images, 2))), rankings(discover, list(range(1, images, 2)))
    paper, calibrate = rankings(discover), rankings(per_split["calibrate"])
    inputs = {split: {INPUT_OF[name]: [pair.lr for pair in degraded_pairs(load_images(split, scale=scale),
                                                                          variant(name, scale), 0)]
                      for name in INPUT_OF}
              for split in ("discover", "test")}
    model = runner(target)
    references = {split: {kind: outputs(model, lrs) for kind, lrs in split_inputs.items()}
                  for split, split_inputs in inputs.items()}
    return {
        "weights": {"baseline": str(baseline_path), "target": str(target_path)}, "filters": index.total,
        "reference": reference(baseline, target, scale),
        "colour_bias": colour_bias(baseline, target, scale),
        "stability": {name: {"discover_halves": round(top_overlap(*(h[name] for h in halves), count), 3),
                             "discover_vs_calibrate": round(top_overlap(paper[name], calibrate[name], count), 3)}
                      for name in DEGRADATIONS},
        "top1_overlap_blur_noise": round(top_overlap(paper["blur"], paper["noise"], count), 3),
        "elimination_overlap": {name: round(top_overlap(paper[name], rank(scores), count), 3)
                                for name, scores in set_scores(discover).items()},
        "placement": {name: placement(index, paper[name]) for name in DEGRADATIONS},
        "cross_masking": {kind: {split: cross_masking(baseline, target, ranks, split_inputs, references[split])
                                 for split, split_inputs in inputs.items()}
                          for kind, ranks in (("eq7", paper), ("share", rankings(discover, share=True)))},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="srresnet,srcnn_style")
    parser.add_argument("--weights", type=Path, help="folder with <arch>_{baseline,target}.safetensors "
                                                     "(default: the committed embedded models)")
    parser.add_argument("--steps", type=int, default=8, help="Gauss-Legendre nodes (faig reproduce's default)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    results = {"command": "python benchmarks/finding_diagnostics.py " + " ".join(
        f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items() if v is not None), "archs": {}}
    for arch in args.arch.split(","):
        paths = [(args.weights / f"{arch}_{stage}.safetensors") if args.weights else preset_weights("embedded", arch, stage)
                 for stage in ("baseline", "target")]
        started = time.perf_counter()
        results["archs"][arch] = diagnose(*paths, args.steps, progress=True)
        results["archs"][arch]["seconds"] = round(time.perf_counter() - started, 1)
        found = results["archs"][arch]
        print(f"\n{arch}: {found['filters']} filters, {found['seconds']} s")
        for name, scores in found["reference"].items():
            print(f"  test {name:18s} PSNR bicubic {scores['bicubic']:.2f}  baseline {scores['baseline']:.2f}  "
                  f"target {scores['target']:.2f}")
        for name, stages in found["colour_bias"].items():
            print(f"  test {name:5s} " + "  ".join(
                f"{stage} {v['psnr']:.2f} ({v['psnr_bias_removed']:.2f} without a {v['bias_levels']:.1f}-level bias)"
                for stage, v in stages.items()))
        for name in DEGRADATIONS:
            stability = found["stability"][name]
            top_layers = sorted(found["placement"][name].items(), key=lambda item: -item[1]["share"])[:3]
            print(f"  {name}: top-1% overlap halves {stability['discover_halves']:.2f}, discover/calibrate "
                  f"{stability['discover_vs_calibrate']:.2f}; largest layers "
                  + ", ".join(f"{module} {v['share']:.0%} (x{v['over_representation']})" for module, v in top_layers))
        for kind, splits in found["cross_masking"].items():
            for split, sets in splits.items():
                for name, curve in sets.items():
                    at = curve["1"]
                    print(f"  {kind:5s} {split:8s} {name:5s} set 1%: own {at['own']:.3f}  other {at['other']:.3f}  "
                          f"other/own {at['other_over_own']:.2f}  blur+noise {at['mixed']:.3f}")
    write_json(args.out, results)
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
