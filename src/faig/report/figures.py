"""The report's figures as PNG files (matplotlib, Agg backend): data in, files out."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from faig.files import atomic_path  # noqa: E402
from faig.names import function_label, input_label, method_label  # noqa: E402

METHOD_COLORS = {"faig": "tab:red", "ig": "tab:blue", "abs": "tab:green", "random": "tab:gray"}
DEGRADATION_COLORS = {"blur": "tab:orange", "noise": "tab:purple", "jpeg": "tab:olive"}


def _save(figure: plt.Figure, path: str | os.PathLike) -> Path:
    with atomic_path(path) as tmp:
        figure.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
    plt.close(figure)
    return Path(path)


def _display(image: torch.Tensor, height: int) -> np.ndarray:
    """A 1x3xHxW image as HxWx3 for imshow, enlarged by pixel repetition to ``height`` rows."""
    array = image[0].permute(1, 2, 0).clamp(0, 1).numpy()
    factor = max(1, height // array.shape[0])
    return array.repeat(factor, 0).repeat(factor, 1)


def masking_curves(curves: dict[str, dict[str, dict[str, dict[str, dict[str, float]]]]], title: str,
                   path: str | os.PathLike) -> Path:
    """Fig. 3's curves: ``curves[method][filter set][percent][input kind] = {mean, std}`` (x 1e-3),
    one panel per (filter set, input kind): N degradations make an N x N matrix of panels."""
    first = next(iter(curves.values()))
    filter_sets = list(first)
    kinds = list(next(iter(next(iter(first.values())).values())))
    figure, axes = plt.subplots(len(filter_sets), len(kinds), figsize=(5 * len(kinds), 3.6 * len(filter_sets)),
                                squeeze=False, constrained_layout=True)
    for row, filter_set in enumerate(filter_sets):
        for col, kind in enumerate(kinds):
            axis, degraded = axes[row][col], kind.removesuffix("_input")
            for method, by_set in curves.items():
                label, color = method_label(method), METHOD_COLORS.get(method)
                percents = list(by_set[filter_set])
                x = [float(p) for p in percents]
                mean = np.array([by_set[filter_set][p][kind]["mean"] for p in percents])
                std = np.array([by_set[filter_set][p][kind]["std"] for p in percents])
                axis.plot(x, mean, marker="o", markersize=3, label=label, color=color)
                axis.fill_between(x, mean - std, mean + std, alpha=0.15, color=color)
            axis.set_xscale("symlog", linthresh=1)
            axis.set_xlabel("masked filters (%)")
            axis.set_ylabel("gradient MSE (×10⁻³)")
            axis.set_title(f"mask {function_label(filter_set)} filters, {input_label(degraded)}s")
            axis.grid(alpha=0.3)
    axes[0][0].legend()
    figure.suptitle(title)
    return _save(figure, path)


def image_grid(rows: dict[str, dict[str, torch.Tensor]], psnrs: dict[str, dict[str, float | None]], title: str,
               path: str | os.PathLike) -> Path:
    """Rows of labelled images (``rows[row label][column label]``), each shown at the largest size
    with its PSNR (dB) against the row's ground truth (``psnrs``, same keys; None: the reference)."""
    height = max(image.shape[-2] for row in rows.values() for image in row.values())
    columns = max(len(row) for row in rows.values())
    figure, axes = plt.subplots(len(rows), columns, figsize=(2.6 * columns, 2.8 * len(rows)), squeeze=False)
    for r, (row_label, row) in enumerate(rows.items()):
        for c in range(columns):
            axis = axes[r][c]
            axis.set_xticks([])
            axis.set_yticks([])
            for spine in axis.spines.values():
                spine.set_visible(False)
            if c < len(row):
                column_label, image = list(row.items())[c]
                axis.imshow(_display(image, height), interpolation="nearest")
                score = psnrs.get(row_label, {}).get(column_label)
                axis.set_title(f"{column_label}\n{'reference' if score is None else f'{score:.2f} dB PSNR'}",
                               fontsize=8)
        axes[r][0].set_ylabel(row_label)
    figure.suptitle(title)
    figure.tight_layout()
    return _save(figure, path)


def layer_distribution(shares: dict[str, dict[str, float]], title: str, path: str | os.PathLike) -> Path:
    """Fig. 4 as numbers: ``shares[degradation][layer]``, the share of the top filters per layer
    along the depth of the network."""
    degradations = list(shares)
    layers = list(next(iter(shares.values())))
    x = np.arange(len(layers))
    width = 0.8 / len(degradations)
    figure, axis = plt.subplots(figsize=(max(6, 0.45 * len(layers)), 3.6), constrained_layout=True)
    for k, degradation in enumerate(degradations):
        axis.bar(x + (k - (len(degradations) - 1) / 2) * width, [shares[degradation][l] for l in layers], width,
                 label=f"{function_label(degradation)} filters", color=DEGRADATION_COLORS.get(degradation))
    axis.set_xticks(x, layers, rotation=60, ha="right", fontsize=7)
    axis.set_xlabel("layer (input → output)")
    axis.set_ylabel("share of the top filters (fraction)")
    axis.set_title(title)
    axis.legend()
    axis.grid(axis="y", alpha=0.3)
    return _save(figure, path)


def network_drawing(grids: dict[str, dict[str, torch.Tensor]], title: str, path: str | os.PathLike) -> Path:
    """Fig. 4's drawing: one column per convolution along the depth, its (out x in) filters spread
    over the height; the discovered ones are yellow lines. ``grids[degradation][layer]`` is 0/1."""
    figure, axes = plt.subplots(1, len(grids), figsize=(6 * len(grids), 4.5), squeeze=False, constrained_layout=True)
    for axis, (degradation, layers) in zip(axes[0], grids.items()):
        axis.set_facecolor("#1b1f3a")
        for column, grid in enumerate(layers.values()):
            flat = grid.flatten().numpy()
            axis.vlines(column, 0, 1, color="#3a4070", linewidth=6)
            chosen = np.nonzero(flat)[0]
            heights = (chosen + 0.5) / len(flat)
            axis.hlines(heights, column - 0.35, column + 0.35, color="#ffd400", linewidth=1.2)
        axis.set_xlim(-0.8, len(layers) - 0.2)
        axis.set_ylim(0, 1)
        axis.set_xticks(range(len(layers)), list(layers), rotation=70, fontsize=6)
        axis.set_xlabel("layer (input → output)")
        axis.set_ylabel("position among the layer's filters (out × in, 0-1)")
        axis.set_title(f"{function_label(degradation)} filters")
        axis.legend(handles=[Line2D([], [], color="#3a4070", linewidth=6, label="a layer's filters"),
                             Line2D([], [], color="#ffd400", linewidth=1.2, label="a discovered filter")],
                    fontsize=7, loc="upper right", facecolor="white")
    figure.suptitle(title)
    return _save(figure, path)


def prediction_overlaps(overlaps: dict[str, dict[str, list[float]]], thresholds: dict[str, float], title: str,
                        path: str | os.PathLike) -> Path:
    """Eq. 8's overlap scores of the test inputs by variant, one panel per degradation, with T_D."""
    figure, axes = plt.subplots(1, len(overlaps), figsize=(5 * len(overlaps), 3.6), squeeze=False,
                                constrained_layout=True)
    generator = np.random.default_rng(0)  # horizontal jitter of the points, for legibility only
    for axis, (degradation, by_variant) in zip(axes[0], overlaps.items()):
        for k, (variant, scores) in enumerate(by_variant.items()):
            axis.scatter(k + generator.uniform(-0.15, 0.15, len(scores)), scores, s=10, alpha=0.7)
        axis.axhline(thresholds[degradation], color="black", linestyle="--", label=f"T = {thresholds[degradation]:.3f}")
        many = len(by_variant) > 4  # N > 2 degradations: 2^N variants, their names slanted to stay apart
        axis.set_xticks(range(len(by_variant)), list(by_variant), rotation=35 if many else 0,
                        ha="right" if many else "center")
        axis.set_xlabel("test input variant")
        axis.set_ylabel(f"OS(x, {degradation}) (fraction of the input's filters)")
        axis.set_title(f"overlap with the {function_label(degradation)} filters")
        axis.legend(fontsize=8)
        axis.grid(alpha=0.3)
    figure.suptitle(title)
    return _save(figure, path)


def modulation_curves(curves: dict[str, list[dict[str, float]]], title: str, path: str | os.PathLike) -> Path:
    """PSNR and gradient energy of θ_λ's outputs against λ, one line per modulated degradation."""
    figure, axes = plt.subplots(1, 2, figsize=(10, 3.6), constrained_layout=True)
    for degradation, points in curves.items():
        strengths = [p["lambda"] for p in points]
        label = f"{function_label(degradation)} filters, {input_label(degradation)}s"
        color = DEGRADATION_COLORS.get(degradation)
        axes[0].plot(strengths, [p["psnr"] for p in points], marker="o", markersize=3, label=label, color=color)
        axes[1].plot(strengths, [p["gradient_energy"] for p in points], marker="o", markersize=3, label=label,
                     color=color)
    for axis, name in zip(axes, ("PSNR (dB)", "gradient energy (mean |∇| of the gray output, 0-1 scale)")):
        axis.axvline(1.0, color="black", linewidth=0.8, linestyle=":", label="λ = 1: the target")
        axis.set_xlabel("λ (strength of the modulated filters)")
        axis.set_ylabel(name)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    figure.suptitle(title)
    return _save(figure, path)


def level_matrices(levels: dict[str, dict], title: str, path: str | os.PathLike) -> Path:
    """The level study, one row per studied degradation: the top-1% overlap between its levels (0-1)
    and the masking matrix (each level's 1% set and a random 1%, rows, on each level's inputs,
    columns; ×1e-3)."""
    figure, axes = plt.subplots(len(levels), 2, figsize=(10, 3.9 * len(levels)), squeeze=False,
                                constrained_layout=True)
    for row_axes, (degradation, study) in zip(axes, levels.items()):
        names = study["levels"]
        panels = ((study["overlap"], names, f"{degradation}: top-1% overlap between levels", "{:.2f}", (0.0, 1.0)),
                  (study["masking"], [*names, "random"], f"{degradation}: a set masked (rows) on inputs (×10⁻³)",
                   "{:.3g}", None))
        for axis, (matrix, rows, heading, fmt, limits) in zip(row_axes, panels):
            values = np.array([[matrix[row][column] for column in names] for row in rows])
            low, high = limits or (float(values.min()), float(values.max()))
            axis.imshow(values, cmap="viridis", vmin=low, vmax=high)
            axis.set_xticks(range(len(names)), names)
            axis.set_yticks(range(len(rows)), rows)
            axis.set_xlabel("inputs" if limits is None else "level")
            axis.set_title(heading, fontsize=9)
            bright = low + 0.6 * (high - low)
            for (i, j), value in np.ndenumerate(values):
                axis.text(j, i, fmt.format(value), ha="center", va="center", fontsize=8,
                          color="black" if value > bright else "white")
    figure.suptitle(title)
    return _save(figure, path)
