"""results.json as types: what ``faig reproduce`` measures, and the one place that knows its keys;
``reproduce/`` writes them and ``report/`` reads them, so neither imports the other's internals.

The file is section-major (``results["masking"][arch][method][filters][percent][input kind]``), as
it always was, so committed results stay readable. :class:`Results` reads and writes that layout;
:class:`ArchResults` holds one architecture's entry of every section and answers typed questions
(``drop("faig", "blur", on="noise")``), so the report, the findings and the tests never spell a
key path again.

Spreads (``std``) are over seeds when a step ran with several, else over the images of one seed
(``Results.spread`` says which per step); ``gain_over_random`` is a paired per-image difference.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, TypedDict

import torch

from faig.experiments.masking import MAIN_PERCENT, percent_key
from faig.names import DEGRADATIONS, input_kind

ModulationPoint = TypedDict("ModulationPoint", {"lambda": float, "psnr": float, "gradient_energy": float})
PREDICTION_MODES: dict[str, str] = {"standard": "prediction", "reference_free": "prediction_reference_free"}


class Stat(TypedDict):
    """A mean and its standard deviation."""

    mean: float
    std: float


class Score(TypedDict):
    """A mean PSNR (dB) and its standard deviation."""

    psnr: float
    std: float


class Prediction(TypedDict):
    """Eq. 8 for one degradation: the threshold T_D from ``calibrate`` and the test accuracy."""

    threshold: float
    accuracy: float
    n: int
    calibrate_accuracy: float
    accuracy_by_variant: dict[str, float]


class Finding(TypedDict):
    """One claim of the paper checked on one architecture (see :mod:`faig.reproduce.findings`)."""

    arch: str
    claim: str
    section: str
    measured: str
    holds: bool
    key: str
    spread: str


@dataclass(frozen=True)
class ArchResults:
    """One architecture's entry of each results.json section.

    ``models[stage][variant]`` (stage: baseline, target, bicubic); ``masking[method][filters]
    [percent][input kind]`` (×1e-3); ``retrain[method][filters][task]`` plus ``upper_bound[task]`` and
    ``gain_over_random[method][filters][task]``; ``distribution[filters][layer]``;
    ``prediction*[degradation]``; ``*_confusion[true variant][predicted variant]``;
    ``ablation[with_elimination|without_elimination][input kind]``; ``modulation[filters]``;
    ``masking_official[method][filters][percent][input kind]``: Table 2 in the official scripts'
    metric (blue channel, 8 bit), own-degradation inputs and the table's percentages only;
    ``levels[degradation]``: the level study of its kind (first seed; see
    :func:`faig.experiments.levels.level_study`), empty when the run made none;
    ``heads[filters][head]``: the share of the top-1% filters in each attention head (empty per
    degradation for a network without attention).
    """

    models: dict[str, dict[str, Score]]
    masking: dict[str, dict[str, dict[str, dict[str, Stat]]]]
    retrain: dict[str, Any]
    distribution: dict[str, dict[str, float]]
    prediction: dict[str, Prediction]
    prediction_reference_free: dict[str, Prediction]
    prediction_confusion: dict[str, dict[str, int]]
    prediction_reference_free_confusion: dict[str, dict[str, int]]
    ablation: dict[str, dict[str, Stat]]
    modulation: dict[str, list[ModulationPoint]]
    masking_official: dict[str, dict[str, dict[str, dict[str, Stat]]]] = field(default_factory=dict)
    levels: dict[str, dict[str, Any]] = field(default_factory=dict)
    heads: dict[str, dict[str, float]] = field(default_factory=dict)

    def psnr(self, stage: str, variant: str) -> float:
        """Test PSNR (dB) of ``baseline``, ``target`` or ``bicubic`` on one evaluation variant."""
        return self.models[stage][variant]["psnr"]

    def drop(self, method: str, filters: str, on: str, percent: float = MAIN_PERCENT) -> Stat:
        """Masking drop (×1e-3, Table 2) of ``method``'s top ``percent`` % ``filters`` filters on
        ``on``-degraded inputs."""
        return self.masking[method][filters][percent_key(percent)][input_kind(on)]

    def official_drop(self, method: str, filters: str, percent: float = MAIN_PERCENT) -> Stat | None:
        """Table 2's drop in the official scripts' metric (blue channel, 8 bit) on the inputs of the
        filters' own degradation; None where the run did not measure it (older results files)."""
        return self.masking_official.get(method, {}).get(filters, {}).get(percent_key(percent), {}).get(
            input_kind(filters))

    def has_percent(self, percent: float) -> bool:
        """Whether the masking curves include ``percent``."""
        return percent_key(percent) in next(iter(next(iter(self.masking.values())).values()))

    def retrained(self, method: str, filters: str, task: str) -> Stat:
        """Test PSNR (dB, Table 3) after re-training only ``method``'s 1% ``filters`` filters on ``task``."""
        return self.retrain[method][filters][task]

    def upper_bound(self, task: str) -> Score:
        """Test PSNR (dB) after re-training every parameter on ``task``."""
        return self.retrain["upper_bound"][task]

    def gain_over_random(self, method: str, filters: str, task: str) -> Stat:
        """The paired per-image PSNR difference (dB) between re-training ``method``'s filters and
        random ones (same filter set, task and seed): what the 0.5 dB claim is judged on."""
        return self.retrain["gain_over_random"][method][filters][task]

    def prediction_for(self, mode: str, degradation: str) -> Prediction:
        """Eq. 8's result for ``degradation`` in mode ``standard`` or ``reference_free``."""
        return getattr(self, PREDICTION_MODES[mode])[degradation]

    def confusion(self, mode: str) -> dict[str, dict[str, int]]:
        """Counts of (true variant, predicted variant) in mode ``standard`` or ``reference_free``."""
        return getattr(self, f"{PREDICTION_MODES[mode]}_confusion")

    def ablation_drop(self, variant: str, on: str) -> Stat:
        """Masking drop of the first degradation's 1% filters (the paper's deblurring ones) found
        ``with_elimination`` or ``without_elimination`` (Fig. 5) on ``on``-degraded inputs."""
        return self.ablation[variant][input_kind(on)]


SECTIONS: tuple[str, ...] = tuple(f.name for f in fields(ArchResults))


@dataclass(frozen=True)
class Results:
    """Everything results.json holds: per-architecture results, the findings, what each ± means
    (``spread[step]``: ``seeds`` or ``images``), the run's configuration and its timing (s)."""

    archs: dict[str, ArchResults]
    findings: list[Finding]
    spread: dict[str, str]
    config: dict[str, Any]
    timing: dict[str, float]
    timing_cpu: dict[str, float]

    def arch(self, name: str) -> ArchResults:
        return self.archs[name]

    @property
    def quick(self) -> bool:
        return bool(self.config["quick"])

    @property
    def degradations(self) -> tuple[str, ...]:
        """The run's degradations (results.json from before N-way runs: the paper's two)."""
        return tuple(self.config.get("degradations", DEGRADATIONS))

    def holding(self) -> int:
        """How many findings hold."""
        return sum(1 for finding in self.findings if finding["holds"])

    def to_json(self) -> dict[str, Any]:
        """The section-major layout of results.json."""
        sections = {name: {arch: getattr(entry, name) for arch, entry in self.archs.items()} for name in SECTIONS}
        return {**sections, "findings": self.findings, "spread": self.spread, "config": self.config,
                "timing": self.timing, "timing_cpu": self.timing_cpu}

    @staticmethod
    def from_json(data: dict[str, Any]) -> "Results":
        """What :meth:`to_json` (or an earlier faig) wrote; a finding written before findings named
        their section of the paper gets an empty one."""
        archs = {arch: ArchResults(**{name: data.get(name, {}).get(arch, {}) for name in SECTIONS})
                 for arch in data["models"]}
        findings = [{"section": "", **finding} for finding in data["findings"]]
        return Results(archs, findings, data["spread"], data["config"], data["timing"], data["timing_cpu"])


@dataclass(frozen=True)
class Artifacts:
    """What one architecture's figures need beyond results.json, from its first seed: the example
    images (``<figure>/<row>/<column>``) and their PSNRs (dB, same keys; none for the ground truth),
    each filter set's (out, in) 0/1 grid per layer (Fig. 4's drawing) and share of each layer's
    filters, and the test inputs' Eq. 8 overlap scores (``overlaps[mode][degradation][variant]``)
    with the thresholds that seed classified them by (``thresholds[mode][degradation]``; results.json
    holds their mean over the prediction seeds)."""

    images: dict[str, torch.Tensor]
    psnrs: dict[str, float]
    grids: dict[str, dict[str, torch.Tensor]]
    densities: dict[str, dict[str, float]]
    overlaps: dict[str, dict[str, dict[str, list[float]]]]
    thresholds: dict[str, dict[str, float]]
