"""The steps of ``faig reproduce`` for one architecture and seed, each a thin call into
:mod:`faig.experiments` that returns plain data (or tensors) for the step cache:

models       PSNR of the baseline, the target and bicubic upsampling on the ``test`` split (Sec. 4.1)
attribution  rankings of the four methods (Sec. 5.2) on the ``discover`` split, and Eq. 6 per image
masking      Sec. 5.2.1 (Fig. 3, Table 2);  ablation: Sec. 5.4 (Fig. 5)
modulation   θ_λ curves;  prediction: Sec. 4.3 / 5.3 (Eq. 8);  images: the figures' examples
levels       beyond the paper: each degradation's kind at several levels (overlap and masking matrices)
retrain      Sec. 5.2.2 (Table 3), one entry per re-training run (:func:`retrain_runs`)

Rankings are keyed ``<method>/<degradation>``, Eq. 6's per-image scores ``per_image/<degradation>``.
Every step runs over the configuration's degradations (the paper's blur and noise, or N of them):
one filter set, one input kind, one re-training task and one label of Eq. 8 each.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Callable, Iterator, TypeVar

import torch
from torch import nn
from tqdm import tqdm

from faig.attribution.api import attribute
from faig.attribution.faig import faig_scores
from faig.attribution.filters import FilterIndex
from faig.attribution.groups import attention_heads
from faig.data.degradations import variant
from faig.data.layout import Pair, degraded_pairs
from faig.data.splits import NamedImage, load_images
from faig.evaluate import score_variants
from faig.experiments.ablation import ablation_drops, without_elimination_ranking
from faig.experiments.common import outputs, runner
from faig.experiments.levels import level_names, level_study
from faig.experiments.masking import MAIN_PERCENT, masked_outputs, masking_drops
from faig.experiments.modulation import modulated_outputs, modulation_curve
from faig.experiments.prediction import evaluate_prediction, label_combinations, own_filters, reference_free_pairs
from faig.experiments.retrain import retrain
from faig.metrics import psnr
from faig.models.interpolation import Bicubic
from faig.models.registry import ArchConfig
from faig.names import METHODS, function_label, input_kind, method_label
from faig.reproduce.config import ReproduceConfig

Rankings = dict[str, torch.Tensor]
T = TypeVar("T")


@dataclass
class Setup:
    """One architecture under one seed: its models, and ``work_dir`` for the per-image attribution
    records and the re-training runs' weights."""

    config: ReproduceConfig
    arch: str
    seed: int
    baseline: nn.Module
    target: nn.Module
    baseline_path: Path
    arch_config: ArchConfig
    work_dir: Path
    device: str | None
    progress: bool

    @property
    def scale(self) -> int:
        return self.arch_config.scale

    @property
    def label(self) -> str:
        """How the console names this architecture and seed: ``srresnet seed 0``."""
        return f"{self.arch} seed {self.seed}"

    @property
    def degradations(self) -> tuple[str, ...]:
        """Whose filters the run finds: each a filter set, an input kind and a re-training task."""
        return self.config.degradations

    @property
    def variants(self) -> list[str]:
        """The evaluation variants: clean and every combination of the degradations (for blur and
        noise the paper's four: ``clean``, ``blur``, ``noise``, ``blur+noise``)."""
        return label_combinations(self.degradations)

    @cached_property
    def index(self) -> FilterIndex:
        return FilterIndex.from_module(self.target)

    @cached_property
    def heads(self) -> dict[str, tuple[int, int]]:
        """The target's attention modules: ``{module: (heads, head width)}`` (none for a CNN)."""
        return attention_heads(self.target)

    def images(self, split: str, count: int) -> list[NamedImage]:
        """``count`` images of the embedded split, or of the user's folder in its role."""
        return spread(load_images(split, self.config.folder(split), self.scale), count)

    def pairs(self, images: list[NamedImage], name: str) -> list[Pair]:
        return degraded_pairs(images, variant(name, self.scale), self.seed)

    def selection(self, ranking: torch.Tensor, percent: float = MAIN_PERCENT) -> torch.Tensor:
        return self.index.selection(ranking, percent)


def spread(images: list[NamedImage], count: int) -> list[NamedImage]:
    """``count`` images evenly spread over the list (all of them for 0), so every photo is sampled."""
    if count <= 0 or count >= len(images):
        return images
    positions = torch.linspace(0, len(images) - 1, count).round().long().tolist()
    return [images[i] for i in positions]


def progress_over(setup: Setup, what: str, items: list[T], describe: Callable[[T], str]) -> Iterator[T]:
    """The items, under a progress bar ``<arch> seed <n>: <what>`` that names the current one."""
    with tqdm(items, desc=f"{setup.label}: {what}", disable=not setup.progress, dynamic_ncols=True) as bar:
        for item in bar:
            bar.set_postfix_str(describe(item))
            yield item


def filter_set(method: str, degradation: str) -> str:
    """``FAIG deblurring filters``: how bars and logs name a method's filters for a degradation."""
    return f"{method_label(method)} {function_label(degradation)} filters"


def step_models(setup: Setup) -> dict:
    """Test-split PSNR per variant of the baseline, the target and bicubic upsampling (the reference
    a common SR model, Sec. 4.1's baseline, has to beat)."""
    images = setup.images("test", setup.config.test_images)
    stages = [("baseline", setup.baseline), ("target", setup.target), ("bicubic", Bicubic(setup.scale))]
    return {stage: {name: scores["psnr"] for name, scores in
                    score_variants(model, images, setup.scale, setup.variants, setup.seed, with_ssim=False).items()}
            for stage, model in progress_over(setup, "test-split PSNR", stages, lambda item: item[0])}


def step_attribution(setup: Setup) -> Rankings:
    """Every method's rankings per degradation, and FAIG's per-image Eq. 6 scores."""
    config = setup.config
    images = setup.images("discover", config.discover_images)
    tensors: Rankings = {}
    for method in METHODS:
        result = attribute(method, setup.baseline, setup.target, images, setup.degradations, config.quadrature,
                           config.steps, setup.device, setup.work_dir / "attribution", setup.progress,
                           seed=setup.seed, scale=setup.scale,
                           label=f"{setup.label}: {method_label(method)} attribution on "
                                 f"{', '.join(setup.degradations)}")
        tensors.update({f"{method}/{d}": result.rankings[d] for d in setup.degradations})
        if method == "faig":
            tensors.update({f"per_image/{d}": result.per_image[d] for d in setup.degradations})
    return tensors


def discover_inputs(setup: Setup) -> dict[str, list[torch.Tensor]]:
    """The ``discover`` split's LR inputs per input kind (``blur_input``, ``noise_input``)."""
    images = setup.images("discover", setup.config.discover_images)
    return {input_kind(d): [pair.lr for pair in setup.pairs(images, d)] for d in setup.degradations}


def target_outputs(setup: Setup, inputs: dict[str, list[torch.Tensor]]) -> dict[str, list[torch.Tensor]]:
    """The target's outputs on each input kind: the unmasked reference that masking drops are measured against."""
    model = runner(setup.target)
    return {kind: outputs(model, lrs) for kind, lrs in inputs.items()}


def step_masking(setup: Setup, rankings: Rankings) -> dict:
    """Fig. 3's curves for every method's filter set per degradation."""
    inputs = discover_inputs(setup)
    references, seen = target_outputs(setup, inputs), {}
    curves: dict = {}
    for method, d in progress_over(setup, "masking", [(m, d) for m in METHODS for d in setup.degradations],
                                   lambda item: filter_set(*item)):
        curves.setdefault(method, {})[d] = masking_drops(setup.baseline, setup.target, rankings[f"{method}/{d}"],
                                                         inputs, setup.config.percents, references, seen)
    return curves


def step_masking_official(setup: Setup, rankings: Rankings) -> dict:
    """Table 2 in the official scripts' metric (the 8-bit blue channel's gradient map): each method's
    filters for D masked on D-degraded inputs, at the table's percentages."""
    inputs = discover_inputs(setup)
    references = target_outputs(setup, inputs)
    curves: dict = {}
    for method, d in progress_over(setup, "masking, official metric",
                                   [(m, d) for m in METHODS for d in setup.degradations],
                                   lambda item: filter_set(*item)):
        own = {input_kind(d): inputs[input_kind(d)]}
        curves.setdefault(method, {})[d] = masking_drops(setup.baseline, setup.target, rankings[f"{method}/{d}"], own,
                                                         setup.config.table_percents,
                                                         {input_kind(d): references[input_kind(d)]}, channel="blue")
    return curves


def ablation_rankings(rankings: Rankings, degradation: str) -> Rankings:
    """One degradation's filters (Fig. 5: the deblurring ones) with and without Eq. 7's elimination
    term."""
    return {"with_elimination": rankings[f"faig/{degradation}"],
            "without_elimination": without_elimination_ranking(rankings[f"per_image/{degradation}"])}


def step_ablation(setup: Setup, rankings: Rankings) -> dict:
    """Fig. 5 for the first degradation's filters (the paper's deblurring ones), on every input kind."""
    inputs = discover_inputs(setup)
    return ablation_drops(setup.baseline, setup.target, ablation_rankings(rankings, setup.degradations[0]), inputs,
                          MAIN_PERCENT, target_outputs(setup, inputs))


def step_modulation(setup: Setup, rankings: Rankings) -> dict:
    """PSNR and gradient energy of θ_λ = θ̄ + λ(θ − θ̄) on each degradation's 1% filters, over the
    test images."""
    images = setup.images("test", setup.config.modulation_images)
    return {d: modulation_curve(setup.baseline, setup.target, setup.selection(rankings[f"faig/{d}"]),
                                setup.pairs(images, d), setup.config.lambdas, setup.scale) for d in setup.degradations}


def step_levels(setup: Setup, rankings: Rankings) -> dict:
    """The level study (:mod:`faig.experiments.levels`) of each degradation's kind: Eq. 6 on the
    ``discover`` split at every level, each level's Eq. 7 set against the run's other degradations.
    A level that is a run degradation itself (``blur2`` for ``blur``) reuses its per-image scores
    from the attribution step: the same inputs, so the same scores."""
    config = setup.config
    images = setup.images("discover", config.discover_images)
    per_image = {d: rankings[f"per_image/{d}"] for d in setup.degradations}
    levels = [level for d in setup.degradations for level in level_names(d)]
    for level in levels:
        same = next((d for d in setup.degradations if variant(d, setup.scale) == variant(level, setup.scale)), None)
        if same is not None:
            per_image[level] = per_image[same]
    fresh = [level for level in levels if level not in per_image]
    per_image.update(attribute("faig", setup.baseline, setup.target, images, fresh, config.quadrature, config.steps,
                               setup.device, setup.work_dir / "attribution", setup.progress, seed=setup.seed,
                               scale=setup.scale, label=f"{setup.label}: FAIG attribution on the levels").per_image)
    inputs = {level: [pair.lr for pair in setup.pairs(images, level)] for level in levels}
    return {d: level_study(setup.baseline, setup.target, per_image, inputs, d,
                           tuple(o for o in setup.degradations if o != d), setup.seed)
            for d in progress_over(setup, "level study", list(setup.degradations), lambda d: d)}


def variant_pairs(setup: Setup, split: str, count: int) -> tuple[list[Pair], list[str]]:
    """Every image of a split under every variant (:attr:`Setup.variants`), and each input's variant name."""
    images = setup.images(split, count)
    pairs = [(name, pair) for name in setup.variants for pair in setup.pairs(images, name)]
    return [pair for _, pair in pairs], [name for name, _ in pairs]


def step_prediction(setup: Setup, rankings: Rankings) -> dict:
    """Eq. 8 with thresholds from ``calibrate`` and accuracy on ``test``, with ground truth
    (``standard``) and with the target's output standing in for it (``reference_free``)."""
    config = setup.config
    calibrate, calibrate_variants = variant_pairs(setup, "calibrate", config.calibrate_images)
    test, test_variants = variant_pairs(setup, "test", config.prediction_test_images)
    degradation_sets = {d: setup.selection(rankings[f"faig/{d}"], config.prediction_percent).bool()
                        for d in setup.degradations}

    def own(pairs: list[Pair], what: str) -> torch.Tensor:
        scores = faig_scores(setup.baseline, setup.target, pairs, config.quadrature, config.prediction_steps,
                             setup.device, setup.progress, label=f"{setup.label}: Eq. 8 filter sets, {what}")
        return own_filters(scores, setup.index, config.prediction_percent)

    modes = {"standard": (calibrate, test),
             "reference_free": tuple(reference_free_pairs(setup.target, pairs) for pairs in (calibrate, test))}
    return {mode: evaluate_prediction(own(first, f"{mode} calibrate"), calibrate_variants,
                                      own(second, f"{mode} test"), test_variants, degradation_sets)
            for mode, (first, second) in modes.items()}


def step_images(setup: Setup, rankings: Rankings) -> dict[str, torch.Tensor]:
    """The example images of Fig. 2/3 (masking), Fig. 5 (ablation) and the modulation strips, from
    the first image of the ``discover`` and ``test`` splits, as ``<figure>/<row>/<column>`` tensors;
    under ``psnr/<figure>/<row>/<column>`` each panel's PSNR (dB) against the row's ground truth
    (the input's: of its bicubic upsampling)."""
    discover = {input_kind(d): setup.pairs(setup.images("discover", setup.config.discover_images)[:1], d)[0]
                for d in setup.degradations}
    test = {d: setup.pairs(setup.images("test", 1), d)[0] for d in setup.degradations}
    selections = {"masking": {f"mask {d}": setup.selection(rankings[f"faig/{d}"]) for d in setup.degradations},
                  "ablation": {name: setup.selection(r)
                               for name, r in ablation_rankings(rankings, setup.degradations[0]).items()}}
    figures: dict[str, tuple[dict[str, Pair], dict[str, dict[str, torch.Tensor]]]] = {}
    for figure, chosen in selections.items():
        images = masked_outputs(setup.baseline, setup.target, chosen, [pair.lr for pair in discover.values()])
        figures[figure] = discover, {row: {name: values[k] for name, values in images.items()}
                                     for k, row in enumerate(discover)}
    figures["modulation"] = test, {d: {f"λ={strength:g}": images[0] for strength, images in modulated_outputs(
        setup.baseline, setup.target, setup.selection(rankings[f"faig/{d}"]), [pair.lr],
        setup.config.strip_lambdas).items()} for d, pair in test.items()}
    tensors: dict[str, torch.Tensor] = {}
    for figure, (pairs, rows) in figures.items():
        for row, columns in rows.items():
            pair = pairs[row]
            panels = {"input": (pair.lr, outputs(Bicubic(setup.scale), [pair.lr])[0]),
                      **{column: (image, image) for column, image in columns.items()}}
            for column, (image, scored) in panels.items():
                tensors[f"{figure}/{row}/{column}"] = image
                tensors[f"psnr/{figure}/{row}/{column}"] = torch.tensor(psnr(scored, pair.hr, setup.scale),
                                                                        dtype=torch.float64)
            tensors[f"{figure}/{row}/ground truth"] = pair.hr
    return tensors


@dataclass(frozen=True)
class RetrainRun:
    """One row-and-column of Table 3: where its result goes (``("upper_bound", task)`` or
    ``(method, filters, task)``), its task and its filters (None: every parameter)."""

    path: tuple[str, ...]
    task: str
    selection: torch.Tensor | None

    @property
    def name(self) -> str:
        return "-".join(self.path)

    def describe(self) -> str:
        """``FAIG deblurring filters, blur task`` or ``every parameter, blur task``."""
        what = "every parameter" if self.selection is None else filter_set(*self.path[:2])
        return f"{what}, {self.task} task"


def retrain_runs(setup: Setup, rankings: Rankings) -> list[RetrainRun]:
    """Table 3's runs: the upper bound per task, then every method's 1% filters per degradation
    per task."""
    percent = setup.config.retrain.percent
    degradations = setup.degradations
    runs = [RetrainRun(("upper_bound", task), task, None) for task in degradations]
    return runs + [RetrainRun((method, d, task), task, setup.selection(rankings[f"{method}/{d}"], percent))
                   for method in METHODS for d in degradations for task in degradations]


def retrain_psnrs(setup: Setup, run: RetrainRun, folder: Path) -> list[float]:
    """Per-image test PSNR (dB) of one re-training run's network on its task's inputs."""
    model = retrain(setup.baseline_path, setup.arch_config, run.task, run.selection, setup.config.retrain,
                    setup.seed, folder, run.name, setup.device, progress=False, hr_dir=setup.config.folder("train"))
    pairs = setup.pairs(setup.images("test", setup.config.test_images), run.task)
    restored = outputs(runner(model), [pair.lr for pair in pairs])
    return [psnr(output, pair.hr, setup.scale) for output, pair in zip(restored, pairs)]
