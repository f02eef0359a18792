"""Write the report of a reproduction run: PNG figures, report.html and report.md."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TypeVar

from faig.names import function_label, input_label
from faig.report.branches import FIGURE, branches_blocks
from faig.report import figures
from faig.report.content import mode_name, report_blocks
from faig.report.html import write_html
from faig.report.markdown import write_markdown
from faig.results import Artifacts, Results

TITLE = "FAIG: finding discriminative filters for specific degradations in blind SR — reproduction"
FIGURES = "figures"
BRANCHES = Path("branches")  # where `faig branches` writes Table 1 for this report to include

# Example images' columns (``<figure>/<row>/<column>`` in the run's artifacts) -> their labels, in order;
# the masked columns (``mask <degradation>``) come between the target and the ablation's.
COLUMNS = {"input": "degraded input", "target": "target output", "mask": "1% {} filters masked",
           "with_elimination": "masked, found with elimination",
           "without_elimination": "masked, found without elimination", "ground truth": "ground truth"}
T = TypeVar("T")


def row_label(row: str) -> str:
    """``blur_input`` or ``blur`` -> ``blurry input``."""
    return input_label(row.removesuffix("_input"))


def column_label(column: str) -> str:
    """An example image's column as the figure labels it: ``mask noise`` -> ``1% denoising filters masked``."""
    if column.startswith("mask "):
        return COLUMNS["mask"].format(function_label(column.removeprefix("mask ")))
    return COLUMNS.get(column, column)


def image_rows(values: dict[str, T], figure: str) -> dict[str, dict[str, T]]:
    """``values`` of one figure (images, or their PSNRs) as ordered rows of labelled columns (inputs
    first, λ by value, ground truth last).

    Example:
        >>> image_rows({"modulation/blur/λ=1": 1, "modulation/blur/input": 0, "masking/blur_input/input": 2},
        ...            "modulation")
        {'blurry input': {'degraded input': 0, 'λ=1': 1}}
    """
    rows: dict[str, dict[str, T]] = {}
    for key in sorted(k for k in values if k.startswith(f"{figure}/")):
        _, row, column = key.split("/", 2)
        rows.setdefault(row_label(row), {})[column] = values[key]

    def order(column: str) -> tuple[int, str]:
        ranks = list(COLUMNS)
        if column.startswith("λ="):
            return (len(ranks) - 1, f"{float(column[2:]):08.3f}")
        group = column.split(" ")[0] if column.startswith("mask ") else column
        return (ranks.index(group) if group in ranks else len(ranks), column)

    return {row: {column_label(c): columns[c] for c in sorted(columns, key=order)} for row, columns in rows.items()}


def arch_figures(results: Results, artifacts: Artifacts, arch: str, folder: Path) -> dict[str, Path]:
    """Every figure of one architecture, written into ``folder``; their names relative to it."""
    entry = results.arch(arch)

    def grid(figure: str, title: str) -> Path:
        return figures.image_grid(image_rows(artifacts.images, figure), image_rows(artifacts.psnrs, figure), title,
                                  folder / f"{arch}_{figure}_images.png")

    made = {
        "masking_curves": figures.masking_curves(entry.masking, f"{arch}: masking discovered filters",
                                                 folder / f"{arch}_masking_curves.png"),
        "masking_images": grid("masking", f"{arch}: masking 1% of the filters"),
        "distribution": figures.layer_distribution(entry.distribution, f"{arch}: top-1% filters per layer",
                                                   folder / f"{arch}_distribution.png"),
        "network": figures.network_drawing(artifacts.grids, f"{arch}: discovered 1% filters",
                                           folder / f"{arch}_network.png"),
        "prediction": figures.prediction_overlaps(artifacts.overlaps["standard"], artifacts.thresholds["standard"],
                                                  f"{arch}: overlap scores (Eq. 8)", folder / f"{arch}_prediction.png"),
        "prediction_reference_free": figures.prediction_overlaps(
            artifacts.overlaps["reference_free"], artifacts.thresholds["reference_free"],
            f"{arch}: overlap scores, reference-free", folder / f"{arch}_prediction_reference_free.png"),
        "ablation_images": grid("ablation", f"{arch}: the elimination term"),
        "modulation_curves": figures.modulation_curves(entry.modulation, f"{arch}: modulation",
                                                       folder / f"{arch}_modulation_curves.png"),
        "modulation_images": grid("modulation", f"{arch}: θ_λ outputs"),
    }
    if entry.levels:
        made["levels"] = figures.level_matrices(entry.levels, f"{arch}: degradation levels",
                                                folder / f"{arch}_levels.png")
    return {name: path.relative_to(folder.parent) for name, path in made.items()}


def report_title(results: Results) -> str:
    """The title, with the run's mode: ``... — reproduction (quick: a smoke test, not the paper's protocol)``."""
    return f"{TITLE} ({mode_name(results)})"


def write_report(results: Results, artifacts: dict[str, Artifacts], out_dir: str | os.PathLike) -> dict[str, Path]:
    """Figures into ``out_dir/figures/``, then ``report.html`` (figures inline) and ``report.md``;
    Table 1 and Fig. 1 join them when ``out_dir/branches/`` holds a ``faig branches`` run."""
    out_dir = Path(out_dir)
    made = {arch: arch_figures(results, artifacts[arch], arch, out_dir / FIGURES) for arch in artifacts}
    table1 = out_dir / BRANCHES / "branches.json"  # a Table 1 run made here: `faig branches --out OUT/branches`
    sec3 = branches_blocks(json.loads(table1.read_text()), BRANCHES / FIGURE) if table1.is_file() else []
    blocks = report_blocks(results, made, {arch: artifacts[arch].densities for arch in artifacts}, sec3)
    return {"html": write_html(blocks, report_title(results), out_dir / "report.html"),
            "markdown": write_markdown(blocks, report_title(results), out_dir / "report.md")}
