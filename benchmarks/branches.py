"""Sec. 3's comparison, one branch against two at equal computation (Table 1, Fig. 1).

Trains the DAN-style and DASR-style two-branch networks and their FLOP-matched one-branch SRResNets
in each method's blur and blur+noise settings, scores them on the embedded ``test`` split and
writes ``OUT/branches.json`` (the table) and ``OUT/figures/fig1_psnr_vs_flops.png``:

    python benchmarks/branches.py --quick --out runs/branches/quick
    python benchmarks/branches.py --device cuda --out runs/branches/full    # 10,000 steps, 3 seeds
"""

from __future__ import annotations

import argparse
import sys

from faig.errors import FaigError
from faig.experiments.branches import format_branches, run_branches
from faig.report.branches import write_branches_report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="20 steps of 4 patches, one seed, 7 test images (a few CPU minutes)")
    parser.add_argument("--seeds", type=int, default=None, help="training runs per network (default: 3, quick 1)")
    parser.add_argument("--steps", type=int, default=None, help="training steps per run (default: 10000, quick 20)")
    parser.add_argument("--device", default=None, help="cpu, cuda or cuda:N (default: CUDA when present)")
    parser.add_argument("--out", default="runs/branches/full", help="output folder")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    try:
        result = run_branches(args.out, quick=args.quick, seeds=args.seeds, device=args.device,
                              progress=not args.quiet, steps=args.steps)
    except FaigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    write_branches_report(result, args.out)
    print(format_branches(result))
    print(f"{result['seconds']:.0f} s on {result['device']}; written to {args.out}/branches.json and "
          f"{args.out}/figures/fig1_psnr_vs_flops.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
