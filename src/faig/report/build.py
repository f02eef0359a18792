"""Write the report of a reproduction run: PNG figures, report.html and report.md."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from faig.report import figures
from faig.report.content import report_blocks
from faig.report.html import write_html
from faig.report.markdown import write_markdown

TITLE = "FAIG: finding discriminative filters for specific degradations in blind SR — reproduction"
FIGURES = "figures"

# Example images (``<figure>/<row>/<column>`` in the run's artifacts) -> row and column labels.
ROWS = {"blur_input": "blurry input", "noise_input": "noisy input", "blur": "blurry input", "noise": "noisy input"}
COLUMNS = {"input": "degraded input", "target": "target output", "mask blur": "1% deblurring filters masked",
           "mask noise": "1% denoising filters masked", "with_elimination": "masked, found with elimination",
           "without_elimination": "masked, found without elimination", "ground truth": "ground truth"}


def image_rows(images: dict[str, torch.Tensor], figure: str) -> dict[str, dict[str, torch.Tensor]]:
    """``images`` of one figure as ordered rows of labelled columns (inputs first, ground truth last)."""
    rows: dict[str, dict[str, torch.Tensor]] = {}
    for key in sorted(k for k in images if k.startswith(f"{figure}/")):
        _, row, column = key.split("/", 2)
        rows.setdefault(ROWS.get(row, row), {})[column] = images[key]

    def order(column: str) -> tuple[int, str]:
        ranks = list(COLUMNS)
        if column.startswith("λ="):
            return (len(ranks) - 1, f"{float(column[2:]):08.3f}")
        return (ranks.index(column) if column in ranks else len(ranks), column)

    return {row: {COLUMNS.get(c, c): columns[c] for c in sorted(columns, key=order)} for row, columns in rows.items()}


def arch_figures(results: dict, artifacts: dict, arch: str, folder: Path) -> dict[str, Path]:
    """Every figure of one architecture, written into ``folder``; their names relative to it."""
    images = artifacts["images"]
    made = {
        "masking_curves": figures.masking_curves(results["masking"][arch], f"{arch}: masking discovered filters",
                                                 folder / f"{arch}_masking_curves.png"),
        "masking_images": figures.image_grid(image_rows(images, "masking"), f"{arch}: masking 1% of the filters",
                                             folder / f"{arch}_masking_images.png"),
        "distribution": figures.layer_distribution(results["distribution"][arch], f"{arch}: top-1% filters per layer",
                                                   folder / f"{arch}_distribution.png"),
        "network": figures.network_drawing(artifacts["grids"], f"{arch}: discovered 1% filters",
                                           folder / f"{arch}_network.png"),
        "prediction": figures.prediction_overlaps(
            artifacts["overlaps"]["standard"], {d: v["threshold"] for d, v in results["prediction"][arch].items()},
            f"{arch}: overlap scores (Eq. 8)", folder / f"{arch}_prediction.png"),
        "prediction_reference_free": figures.prediction_overlaps(
            artifacts["overlaps"]["reference_free"],
            {d: v["threshold"] for d, v in results["prediction_reference_free"][arch].items()},
            f"{arch}: overlap scores, reference-free", folder / f"{arch}_prediction_reference_free.png"),
        "ablation_images": figures.image_grid(image_rows(images, "ablation"), f"{arch}: the elimination term",
                                              folder / f"{arch}_ablation_images.png"),
        "modulation_curves": figures.modulation_curves(results["modulation"][arch], f"{arch}: modulation",
                                                       folder / f"{arch}_modulation_curves.png"),
        "modulation_images": figures.image_grid(image_rows(images, "modulation"), f"{arch}: θ_λ outputs",
                                                folder / f"{arch}_modulation_images.png"),
    }
    return {name: path.relative_to(folder.parent) for name, path in made.items()}


def write_report(results: dict, artifacts: dict, out_dir: str | os.PathLike) -> dict[str, Path]:
    """Figures into ``out_dir/figures/``, then ``report.html`` (figures inline) and ``report.md``."""
    out_dir = Path(out_dir)
    made = {arch: arch_figures(results, artifacts[arch], arch, out_dir / FIGURES) for arch in artifacts}
    blocks = report_blocks(results, made, {arch: artifacts[arch]["densities"] for arch in artifacts})
    return {"html": write_html(blocks, TITLE, out_dir / "report.html"),
            "markdown": write_markdown(blocks, TITLE, out_dir / "report.md")}
