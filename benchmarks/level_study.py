"""Degradation levels (issue 12, point 3): are the filters for one blur width the filters for another?

The paper studies one blur (σ = 2) and one noise (σ = 0.1). On an embedded pair (trained on exactly
those), this attributes blur of σ = 1, 2, 3 and noise of σ = 0.05, 0.1, 0.2 on the ``discover``
split (Eq. 6, Gauss-Legendre with ``--nodes`` nodes), and finds each level's discriminative set by
Eq. 7 against the other degradation at the paper's level (blur σ against noise 0.1; noise σ
against blur 2). It measures, per degradation:

* ``overlap``: the top-1% overlap between every two levels' sets;
* ``masking``: each level's 1% set masked (Sec. 5.2.1, gradient MSE x 1e-3 on luma) on the inputs
  of every level, and a random 1% on each for scale.

Writes JSON and one figure (the two overlap matrices and the two masking matrices):

    python benchmarks/level_study.py --out benchmarks/results/level_study.json \\
        --figure benchmarks/results/level_study.png
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from faig.attribution import attribute
from faig.attribution.baselines import random_ranking
from faig.attribution.discriminative import discriminative_scores
from faig.attribution.filters import FilterIndex
from faig.attribution.result import rank
from faig.data.degradations import variant
from faig.data.layout import degraded_pairs
from faig.data.splits import load_images
from faig.experiments.masking import masking_drops
from faig.files import write_json
from faig.models.checkpoints import load_pair
from faig.models.registry import preset_weights

LEVELS = {"blur": ("blur1", "blur2", "blur3"), "noise": ("noise0.05", "noise0.1", "noise0.2")}
PAPER_LEVEL = {"blur": "blur2", "noise": "noise0.1"}  # the paper's (and the embedded targets') levels


def level_sets(per_image: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Each level's Eq. 7 ranking against the other degradation at the paper's level."""
    sets = {}
    for degradation, levels in LEVELS.items():
        other = PAPER_LEVEL["noise" if degradation == "blur" else "blur"]
        for level in levels:
            sets[level] = rank(discriminative_scores({level: per_image[level], other: per_image[other]})[level])
    return sets


def study(arch: str, nodes: int, progress: bool) -> dict:
    paths = [preset_weights("embedded", arch, stage) for stage in ("baseline", "target")]
    baseline, target, config = load_pair(*paths)
    index = FilterIndex.from_module(target)
    count = index.top_count(1.0)
    images = load_images("discover", None, config.scale)
    variants = [level for levels in LEVELS.values() for level in levels]
    began = time.perf_counter()
    per_image = attribute("faig", baseline, target, images, variants, steps=nodes, progress=progress).per_image
    sets = level_sets(per_image)
    inputs = {level: [pair.lr for pair in degraded_pairs(images, variant(level, config.scale), 0)] for level in variants}
    result: dict = {"weights": [str(p) for p in paths], "filters": index.total, "top_count": count, "nodes": nodes}
    for degradation, levels in LEVELS.items():
        tops = {level: set(sets[level][:count].tolist()) for level in levels}
        rankings = {**{level: sets[level] for level in levels},
                    "random": random_ranking(index.total, 0, degradation)}
        result[degradation] = {
            "overlap": {a: {b: round(len(tops[a] & tops[b]) / count, 3) for b in levels} for a in levels},
            "masking": {name: {level: round(sum(drops) / len(drops), 4)
                               for level, drops in masking_drops(baseline, target, ranking,
                                                                 {level: inputs[level] for level in levels},
                                                                 (1.0,))["1"].items()}
                        for name, ranking in rankings.items()},
        }
    result["seconds"] = round(time.perf_counter() - began, 1)
    return result


def figure(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 4, figsize=(17, 4))
    for column, degradation in enumerate(LEVELS):
        levels = LEVELS[degradation]
        entry = result[degradation]
        panels = ((entry["overlap"], f"{degradation}: top-1% overlap between levels", levels, "{:.2f}"),
                  ({k: entry["masking"][k] for k in (*levels, "random")},
                   f"{degradation}: masking a level's 1% (rows) on each level's inputs (x1e-3)", (*levels, "random"),
                   "{:.2f}"))
        for offset, (matrix, title, rows, fmt) in enumerate(panels):
            axis = axes[2 * column + offset]
            values = [[matrix[row][col] for col in levels] for row in rows]
            axis.imshow(values, cmap="viridis")
            axis.set_xticks(range(len(levels)), levels)
            axis.set_yticks(range(len(rows)), rows)
            axis.set_title(title, fontsize=8)
            for i, row in enumerate(values):
                for j, value in enumerate(row):
                    axis.text(j, i, fmt.format(value), ha="center", va="center", color="white", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="srresnet")
    parser.add_argument("--nodes", type=int, default=8, help="Gauss-Legendre nodes")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/level_study.json"))
    parser.add_argument("--figure", type=Path, default=Path("benchmarks/results/level_study.png"))
    args = parser.parse_args()
    result = {arch: study(arch, args.nodes, progress=True) for arch in args.arch.split(",")}
    write_json(args.out, result)
    for arch, entry in result.items():
        for degradation in LEVELS:
            print(f"{arch} {degradation}: overlap {entry[degradation]['overlap']}")
            print(f"{arch} {degradation}: masking x1e-3 {entry[degradation]['masking']}")
        figure(entry, args.figure.with_name(f"{args.figure.stem}_{arch}{args.figure.suffix}")
               if len(result) > 1 else args.figure)
    print(f"wrote {args.out} and {args.figure}")


if __name__ == "__main__":
    main()
