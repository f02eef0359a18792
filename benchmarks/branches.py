"""Sec. 3's comparison, one branch against two at equal computation (Table 1, Fig. 1), for the
committed default report: `faig branches` into results/embedded-default/branches/, where Table 1
and Fig. 1 join that report.

    python benchmarks/branches.py [--device cuda] [--shard i/n]    # 10,000 steps, 3 seeds: 24 trainings
    python benchmarks/branches.py --quick --out runs/branches/quick  # the machinery in ~3 CPU minutes

Each training's result and EMA weights are kept in the folder's runs/, an unfinished one's checkpoint
in runs/checkpoints/ (every 2 minutes and on SIGINT/SIGTERM), so that CPU sessions and GPU calls
(benchmarks/branches_device.sh) add to it: commit them, and a rerun trains only what is missing.
--shard i/n trains every n-th training only (no table), so that n processes (one per CPU core, several
on a GPU) share the work; two processes never train the same one. Any other `faig branches` option
passes through.
"""

from __future__ import annotations

import sys

from faig.cli import main

FOLDER = "results/embedded-default/branches"


if __name__ == "__main__":
    arguments = sys.argv[1:]
    sys.exit(main(["branches", *arguments] if "--out" in arguments else ["branches", "--out", FOLDER, *arguments]))
