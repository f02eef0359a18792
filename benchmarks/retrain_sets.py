"""Where the filter sets that Table 3 re-trains (Sec. 5.2.2) lie, and how many weights they hold.

Selective re-training resets the baseline and trains only one method's top 1% of filters; which
layers those filters sit in, and how many weights they carry (a Linear row is one weight, a 3x3
filter nine), bound what the re-training can learn. This reads the top-1% lists a `faig reproduce`
run wrote (``OUT/filters/<arch>/<method>/<degradation>_index.txt``, its seed 0) and, for each method
and degradation, prints and writes the set's share in each layer, its share in Linear layers
(attention and MLP projections) and its number of weights:

    python benchmarks/retrain_sets.py --run OUT --arch swinir --out benchmarks/results/retrain_sets_swinir.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from faig.attribution.filters import FilterIndex, read_index_file
from faig.experiments.distribution import layer_shares
from faig.files import write_json
from faig.models.checkpoints import load_model
from faig.models.registry import preset_weights
from faig.names import DEGRADATIONS, METHODS


def weights_per_filter(index: FilterIndex, state: dict[str, torch.Tensor]) -> torch.Tensor:
    """The number of weights in each filter of ``index`` (its kernel's size; 1 for a Linear row)."""
    return torch.cat([torch.full((layer.count,), state[layer.name][0, 0].numel()) for layer in index.layers])


def set_placement(index: FilterIndex, sizes: torch.Tensor, ranking: torch.Tensor, percent: float) -> dict:
    """A ranking's top ``percent``: its share per layer, its share in Linear layers, its weights."""
    chosen = ranking[:int(index.total * percent / 100)]  # as the official code counts (int, not round)
    selection = torch.zeros(index.total)
    selection[chosen] = 1.0
    linear = sum(float(selection[layer.offset:layer.offset + layer.count].sum())
                 for layer in index.layers if layer.kernel_dims == 0) / len(chosen)
    return {"filters": len(chosen), "weights": int(sizes[chosen].sum()), "linear_share": round(linear, 4),
            "layer_shares": {name: round(share, 4) for name, share in layer_shares(index, selection).items() if share}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", required=True, help="a `faig reproduce` output folder (with filters/)")
    parser.add_argument("--arch", default="swinir")
    parser.add_argument("--percent", type=float, default=1.0)
    parser.add_argument("--out", help="the JSON to write")
    args = parser.parse_args()
    model = load_model(preset_weights("embedded", args.arch, "target"))[0]
    index = FilterIndex.from_module(model)
    sizes = weights_per_filter(index, model.state_dict())
    report = {"command": "python benchmarks/retrain_sets.py " + " ".join(f"--{k} {v}" for k, v in vars(args).items() if v),
              "arch": args.arch, "percent": args.percent, "sets": {}}
    for method in METHODS:
        for degradation in DEGRADATIONS:
            path = Path(args.run) / "filters" / args.arch / method / f"{degradation}_index.txt"
            placement = set_placement(index, sizes, read_index_file(path, index), args.percent)
            report["sets"][f"{method}/{degradation}"] = placement
            top = sorted(placement["layer_shares"].items(), key=lambda item: -item[1])[:3]
            print(f"{method:>6} {degradation:<5} {placement['weights']:>6} weights, {placement['linear_share']:.0%} "
                  f"in Linear layers; most in " + ", ".join(f"{name} {share:.0%}" for name, share in top))
    if args.out:
        write_json(args.out, report)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
