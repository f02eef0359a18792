"""Fig. 1 (right) of the paper as a PNG: PSNR against FLOPs, one branch against two (Sec. 3).

Data in (the table rows of ``faig.experiments.branches.run_branches``), file out.
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from faig.files import atomic_path  # noqa: E402

STYLES = {"two_branch": ("o", "tab:orange"), "one_branch": ("s", "tab:blue")}


def psnr_vs_flops(rows: list[dict], path: str | os.PathLike) -> Path:
    """One panel per (method, setting): each network's PSNR (mean, error bar ± std over seeds)
    against its GFLOPs, the two-branch network beside its FLOP-matched one-branch SRResNet.

    Args:
        rows: ``{"method", "setting", "two_branch": {"network", "flops", "input_size", "psnr":
            {"mean", "std"}}, "one_branch": {...}}`` per comparison.
        path: the PNG to write.

    Returns:
        ``path``.

    Example:
        >>> import tempfile
        >>> net = {"network": "DAN-style", "flops": 1e9, "input_size": 48, "psnr": {"mean": 26.0, "std": 0.1}}
        >>> row = {"method": "dan", "setting": "blur", "two_branch": net, "one_branch": dict(net, network="SRResNet")}
        >>> psnr_vs_flops([row], Path(tempfile.mkdtemp()) / "fig1.png").is_file()
        True
    """
    figure, axes = plt.subplots(1, len(rows), figsize=(3.6 * len(rows), 3.4), squeeze=False, constrained_layout=True)
    for axis, row in zip(axes[0], rows):
        for kind, (marker, color) in STYLES.items():
            network = row[kind]
            axis.errorbar([network["flops"] / 1e9], [network["psnr"]["mean"]], yerr=[network["psnr"]["std"]],
                          marker=marker, color=color, capsize=4, linestyle="none",
                          label=f"{network['network']} ({kind.replace('_', '-')})")
        size = row["two_branch"]["input_size"]
        axis.set_xlabel(f"GFLOPs (one 3×{size}×{size} LR input)")
        axis.set_ylabel("PSNR (dB, RGB)")
        axis.set_title(f"{row['method'].upper()} setting: {row['setting']}")
        axis.set_xlim(0, 1.3 * max(row[kind]["flops"] for kind in STYLES) / 1e9)
        axis.margins(y=0.4)
        axis.ticklabel_format(axis="y", useOffset=False)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=7, loc="lower right")
    figure.suptitle("One branch against two at equal computation (Table 1, Fig. 1)")
    with atomic_path(path) as tmp:
        figure.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
    plt.close(figure)
    return Path(path)
