"""Degradation levels (issue 12, point 3): are the filters for one blur width the filters for another?

The same study `faig reproduce` runs as its ``levels`` step (:mod:`faig.experiments.levels`), on an
embedded pair (trained on blur σ = 2 and noise σ = 0.1) and the whole ``discover`` split: blur at
σ = 1, 2, 3 and noise at σ = 0.05, 0.1, 0.2 attributed (Eq. 6, Gauss-Legendre with ``--nodes``
nodes), each level's Eq. 7 set against the other degradation at the paper's level, then the top-1%
overlap between levels and each level's 1% set masked on every level's inputs. Writes JSON and one
figure per architecture:

    python benchmarks/level_study.py --out benchmarks/results/level_study.json \\
        --figure benchmarks/results/level_study.png
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from faig.attribution import attribute
from faig.data.degradations import variant
from faig.data.layout import degraded_pairs
from faig.data.splits import load_images
from faig.experiments.levels import level_names, level_study
from faig.files import write_json
from faig.models.checkpoints import load_pair
from faig.models.registry import preset_weights
from faig.names import DEGRADATIONS
from faig.report.figures import level_matrices


def study(arch: str, nodes: int, progress: bool) -> dict:
    paths = [preset_weights("embedded", arch, stage) for stage in ("baseline", "target")]
    baseline, target, config = load_pair(*paths)
    images = load_images("discover", None, config.scale)
    levels = [level for d in DEGRADATIONS for level in level_names(d)]
    began = time.perf_counter()
    per_image = attribute("faig", baseline, target, images, [*levels, *DEGRADATIONS], steps=nodes,
                          progress=progress).per_image
    inputs = {level: [pair.lr for pair in degraded_pairs(images, variant(level, config.scale), 0)] for level in levels}
    result: dict = {"weights": [str(p) for p in paths], "nodes": nodes}
    for d in DEGRADATIONS:
        result[d] = level_study(baseline, target, per_image, inputs, d, tuple(o for o in DEGRADATIONS if o != d))
    result["seconds"] = round(time.perf_counter() - began, 1)
    return result


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
        for d in DEGRADATIONS:
            print(f"{arch} {d}: overlap {entry[d]['overlap']}")
            print(f"{arch} {d}: masking x1e-3 {entry[d]['masking']}")
        figure = args.figure.with_name(f"{args.figure.stem}_{arch}{args.figure.suffix}") if len(result) > 1 \
            else args.figure
        level_matrices({d: entry[d] for d in DEGRADATIONS}, f"{arch}: degradation levels", figure)
    print(f"wrote {args.out} and {args.figure}")


if __name__ == "__main__":
    main()
