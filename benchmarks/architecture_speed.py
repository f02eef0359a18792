"""Attribution time per image for each architecture faig attributes (issue 15).

For every registered network, at the sizes below, one FAIG pass (Eq. 6, Gauss-Legendre with
``--nodes`` nodes, the engine's default batching) over a ``discover`` tile of the embedded data, timed
after one warm-up pass; with the filter count and the completeness gap Σ FAIG − (L(θ̄) − L(θ))
relative to L(θ̄) − L(θ). The pair is a seeded random baseline and a target moved from it by seeded
noise: the time does not depend on the weights' values, and this needs no training. Writes JSON:

    python benchmarks/architecture_speed.py --out benchmarks/results/architecture_speed.json [--device cuda]
"""

from __future__ import annotations

import argparse
import copy
import platform
import time

import torch

from faig import FAIG
from faig.data.degradations import variant
from faig.data.layout import degraded_pairs
from faig.data.splits import load_images
from faig.devices import resolve_device
from faig.files import write_json
from faig.models.registry import ArchConfig, build_model

SIZES = {
    "srresnet (embedded, 32x8)": ArchConfig("srresnet", 2, width=32, depth=8),
    "srresnet (paper, 64x16)": ArchConfig("srresnet", 2, width=64, depth=16),
    "srcnn_style (embedded, 64/32)": ArchConfig("srcnn_style", 2, width=64, depth=4, first_width=32),
    "rrdbnet (32 features, 2 RRDBs, growth 16)": ArchConfig("rrdbnet", 2, width=32, depth=2, first_width=16),
    "swinir (SwinIR-lite, 32 features, 2 groups)": ArchConfig("swinir", 2, width=32, depth=2),
}


def pair(config: ArchConfig) -> tuple[torch.nn.Module, torch.nn.Module]:
    torch.manual_seed(0)
    baseline = build_model(config)
    target = copy.deepcopy(baseline)
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for parameter in target.parameters():
            parameter.add_(0.01 * torch.randn(parameter.shape, generator=generator))
    return baseline, target


def time_architecture(config: ArchConfig, lr: torch.Tensor, hr: torch.Tensor, nodes: int, device: str) -> dict:
    method = FAIG(*pair(config), device=device)
    method.attribute(lr, hr, n_steps=nodes)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    began = time.perf_counter()
    scores = method.attribute(lr, hr, n_steps=nodes)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    seconds = time.perf_counter() - began
    assert scores.shape[-1] == method.index.total
    return {"arch": config.to_dict(), "filters": method.index.total,
            "weights": sum(tensor.numel() for tensor in method.nets.target.values()),
            "seconds_per_image": round(seconds, 3), "nodes": nodes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=8, help="Gauss-Legendre nodes (faig reproduce's default)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default="benchmarks/results/architecture_speed.json")
    args = parser.parse_args()
    device = str(resolve_device(args.device))
    image = load_images("discover", None, 2)[0]
    lr_hr = degraded_pairs([image], variant("noise", 2), 0)[0]
    results = {}
    for label, config in SIZES.items():
        results[label] = time_architecture(config, lr_hr.lr, lr_hr.hr, args.nodes, device)
        entry = results[label]
        print(f"{label}: {entry['filters']:,} filters, {entry['seconds_per_image']:.2f} s per "
              f"{tuple(lr_hr.lr.shape[-2:])} image", flush=True)
    write_json(args.out, {"device": device, "torch": torch.__version__, "threads": torch.get_num_threads(),
                          "machine": platform.processor() or platform.machine(), "image": image.name,
                          "lr_size": list(lr_hr.lr.shape[-2:]), "results": results})
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
