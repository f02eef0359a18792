"""``faig reproduce``: every experiment of Sec. 5 on both architectures, and the report; and
``faig modulate``: the discovered filters at strength λ on a user's image.

Each (architecture, seed) runs the steps below; every finished step is stored under
``OUT/cache/`` at once, keyed by the models' hash and the settings it depends on, so an interrupted
or repeated run resumes where it stopped and a changed setting recomputes only what it affects.

models       PSNR of the baseline and target on the four variants of the ``test`` split
attribution  rankings of the four methods (Sec. 5.2) on the ``discover`` split, Eq. 6 per image
masking      Sec. 5.2.1 (Fig. 3, Table 2);  ablation: Sec. 5.4 (Fig. 5)
modulation   θ_λ curves;  prediction: Sec. 4.3 / 5.3 (Eq. 8);  images: the figures' examples
retrain      Sec. 5.2.2 (Table 3), one cached entry per re-training run
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any, Callable

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from faig.attribution.api import attribute
from faig.attribution.faig import faig_scores
from faig.attribution.filters import FilterIndex, read_index_file, write_index_file
from faig.data.degradations import VARIANTS, variant
from faig.data.images import read_image, write_image
from faig.data.layout import Pair, degraded_pairs
from faig.data.splits import NamedImage, load_images
from faig.errors import FaigError
from faig.evaluate import resolve_device, score_variants
from faig.experiments.ablation import ablation_drops, without_elimination_ranking
from faig.experiments.common import mean_std, outputs, runner
from faig.experiments.distribution import layer_densities, layer_shares, selection_grids
from faig.experiments.masking import PAPER_PERCENTS, masked_outputs, masking_drops, percent_key
from faig.experiments.modulation import PAPER_LAMBDAS, modulated_outputs, modulation_curve
from faig.experiments.prediction import evaluate_prediction, own_filters, reference_free_pairs
from faig.experiments.retrain import TASKS, RetrainConfig, retrain
from faig.files import atomic_path, write_json
from faig.metrics import psnr
from faig.models.checkpoints import load_pair
from faig.models.interpolation import Bicubic
from faig.models.registry import ARCHS, ArchConfig, check_arch, check_preset, preset_weights
from faig.training.trainer import train_stages

METHODS: tuple[str, ...] = ("faig", "ig", "abs", "random")
DEGRADATIONS: tuple[str, ...] = ("blur", "noise")  # the filter sets, the tasks and the input kinds
INPUTS: dict[str, str] = {"blur_input": "blur", "noise_input": "noise"}
MAIN_PERCENT = 1.0  # Fig. 2-5 and Table 3 use the top 1 %


@dataclass(frozen=True)
class ReproduceConfig:
    """Everything a reproduction run does; saved in results.json. 0 images: the whole split."""

    preset: str = "embedded"
    archs: tuple[str, ...] = ARCHS
    quick: bool = False
    seeds: int = 3
    retrain_seeds: int = 1
    prediction_seeds: int = 1
    quadrature: str = "gausslegendre"
    steps: int = 8
    discover_images: int = 0
    percents: tuple[float, ...] = PAPER_PERCENTS
    table_percents: tuple[float, ...] = (1.0, 5.0)
    retrain: RetrainConfig = field(default_factory=RetrainConfig)
    test_images: int = 0
    prediction_percent: float = 1.0
    prediction_steps: int = 2
    calibrate_images: int = 0
    prediction_test_images: int = 0
    modulation_images: int = 8
    lambdas: tuple[float, ...] = PAPER_LAMBDAS
    strip_lambdas: tuple[float, ...] = (0.0, 0.5, 1.0, 1.5)

    def to_dict(self) -> dict:
        return asdict(self)


QUICK = dict(seeds=1, retrain_seeds=1, prediction_seeds=1, steps=4, discover_images=4,
             percents=(0.5, 1.0, 5.0, 20.0, 100.0), retrain=RetrainConfig(steps=8, batch_size=4, gt_size=32),
             test_images=6, prediction_steps=2, calibrate_images=4, prediction_test_images=4, modulation_images=2,
             lambdas=(0.0, 0.5, 1.0, 1.5))

# The settings each step's result depends on (besides the models and the seed): its cache key.
ATTRIBUTION_FIELDS = ("quadrature", "steps", "discover_images")
STEP_FIELDS: dict[str, tuple[str, ...]] = {
    "models": ("test_images",),
    "attribution": ATTRIBUTION_FIELDS,
    "masking": ATTRIBUTION_FIELDS + ("percents",),
    "ablation": ATTRIBUTION_FIELDS,
    "modulation": ATTRIBUTION_FIELDS + ("modulation_images", "lambdas"),
    "prediction": ATTRIBUTION_FIELDS + ("prediction_percent", "prediction_steps", "calibrate_images",
                                        "prediction_test_images"),
    "images": ATTRIBUTION_FIELDS + ("strip_lambdas",),
    "retrain": ATTRIBUTION_FIELDS + ("retrain", "test_images"),
}


def make_config(preset: str = "embedded", archs: tuple[str, ...] = ARCHS, quick: bool = False,
                seeds: int | None = None, retrain_steps: int | None = None, retrain_seeds: int | None = None,
                prediction_seeds: int | None = None) -> ReproduceConfig:
    """The default (or ``quick``) configuration with the command line's overrides, checked."""
    config = ReproduceConfig(preset=check_preset(preset), archs=tuple(check_arch(a) for a in archs), quick=quick,
                             **(QUICK if quick else {}))
    if not config.archs:
        raise FaigError("no architecture named")
    overrides: dict[str, Any] = {"seeds": seeds, "retrain_seeds": retrain_seeds, "prediction_seeds": prediction_seeds}
    config = replace(config, **{k: v for k, v in overrides.items() if v is not None})
    if retrain_steps is not None:
        config = replace(config, retrain=replace(config.retrain, steps=retrain_steps))
    for name in ("seeds", "retrain_seeds", "prediction_seeds"):
        if getattr(config, name) < 1:
            raise FaigError(f"--{name.replace('_', '-')} must be at least 1, not {getattr(config, name)}")
    if config.retrain.steps < 1:
        raise FaigError(f"--retrain-steps must be at least 1, not {config.retrain.steps}")
    return replace(config, retrain_seeds=min(config.retrain_seeds, config.seeds),
                   prediction_seeds=min(config.prediction_seeds, config.seeds))


def settings_hash(values: Any) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()[:12]


def file_hash(*paths: Path) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()[:12]


class StepCache:
    """Finished steps as files (JSON, or safetensors for tensors) with the wall and CPU seconds they
    took, which ``timing`` and ``cpu`` sum per step (a cached step counts what it cost when run)."""

    def __init__(self, folder: Path, config: ReproduceConfig, timing: dict[str, float], cpu: dict[str, float],
                 log: Callable[[str], None]):
        self.folder, self.config, self.timing, self.cpu, self.log = folder, config, timing, cpu, log

    def key(self, step: str) -> str:
        settings = {name: asdict(self.config)[name] for name in STEP_FIELDS[step]}
        return f"{step}-{settings_hash(settings)}"

    def _run(self, compute: Callable[[], Any]) -> tuple[Any, dict[str, float]]:
        wall, cpu = time.perf_counter(), time.process_time()
        value = compute()
        return value, {"seconds": round(time.perf_counter() - wall, 3),
                       "cpu_seconds": round(time.process_time() - cpu, 3)}

    def _count(self, step: str, path: Path, cost: dict[str, float], fresh: bool) -> None:
        self.timing[step] = self.timing.get(step, 0.0) + cost["seconds"]
        self.cpu[step] = self.cpu.get(step, 0.0) + cost["cpu_seconds"]
        if fresh:
            self.log(f"{path.relative_to(self.folder.parent.parent)}: {cost['seconds']:.1f} s")

    def json(self, step: str, compute: Callable[[], Any], name: str | None = None) -> Any:
        path = self.folder / f"{name or self.key(step)}.json"
        fresh = not path.is_file()
        if fresh:
            data, cost = self._run(compute)
            write_json(path, {"data": data, **cost})
        stored = json.loads(path.read_text())
        self._count(step, path, stored, fresh)
        return stored["data"]

    def tensors(self, step: str, compute: Callable[[], dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
        path = self.folder / f"{self.key(step)}.safetensors"
        fresh = not path.is_file()
        if fresh:
            tensors, cost = self._run(lambda: {k: v.detach().cpu().contiguous().clone()
                                               for k, v in compute().items()})
            with atomic_path(path) as tmp:
                save_file(tensors, str(tmp))
            write_json(path.with_suffix(".json"), cost)
        self._count(step, path, json.loads(path.with_suffix(".json").read_text()), fresh)
        return load_file(str(path))


@dataclass
class Setup:
    """One architecture under one seed: its models and where its steps are cached."""

    config: ReproduceConfig
    arch: str
    seed: int
    baseline: nn.Module
    target: nn.Module
    baseline_path: Path
    arch_config: ArchConfig
    cache: StepCache
    device: str | None
    progress: bool

    @property
    def scale(self) -> int:
        return self.arch_config.scale

    @cached_property
    def index(self) -> FilterIndex:
        return FilterIndex.from_module(self.target)

    def images(self, split: str, count: int) -> list[NamedImage]:
        return spread(load_images(split, None, self.scale), count)

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


def model_paths(preset: str, arch: str, seed: int, out_dir: Path, weights: Path | None, device: str | None,
                progress: bool) -> tuple[Path, Path, bool]:
    """``weights/<arch>_{baseline,target}.safetensors`` when a folder is given, else the preset's
    committed weights, else (when it has none) a pair trained here with this seed; the flag says
    whether they were trained."""
    if weights is not None:
        paths = weights / f"{arch}_baseline.safetensors", weights / f"{arch}_target.safetensors"
        for path in paths:
            if not path.is_file():
                raise FaigError(f"no {path.name} in {weights}")
        return paths[0], paths[1], False
    try:
        return preset_weights(preset, arch, "baseline"), preset_weights(preset, arch, "target"), False
    except FaigError:
        folder = out_dir / "models" / f"seed{seed}"
        paths = folder / f"{arch}_baseline.safetensors", folder / f"{arch}_target.safetensors"
        if not all(path.is_file() for path in paths):
            train_stages(preset, arch, folder, seed=seed, device=device, resume=True, progress=progress)
        return paths[0], paths[1], True


# ---- the steps -------------------------------------------------------------------------------

def step_models(setup: Setup) -> dict:
    """Test-split PSNR per variant of the baseline, the target and bicubic upsampling (the reference
    a common SR model, Sec. 4.1's baseline, has to beat)."""
    images = setup.images("test", setup.config.test_images)
    return {stage: {name: scores["psnr"] for name, scores in
                    score_variants(model, images, setup.scale, VARIANTS, setup.seed, with_ssim=False).items()}
            for stage, model in (("baseline", setup.baseline), ("target", setup.target),
                                 ("bicubic", Bicubic(setup.scale)))}


def step_attribution(setup: Setup) -> dict[str, torch.Tensor]:
    """``<method>/<degradation>`` rankings and ``per_image/<degradation>`` Eq. 6 scores of faig."""
    config = setup.config
    images = setup.images("discover", config.discover_images)
    tensors: dict[str, torch.Tensor] = {}
    for method in METHODS:
        result = attribute(method, setup.baseline, setup.target, images, DEGRADATIONS, config.quadrature,
                           config.steps, setup.device, setup.cache.folder / "attribution", setup.progress,
                           seed=setup.seed, scale=setup.scale)
        tensors.update({f"{method}/{d}": result.rankings[d] for d in DEGRADATIONS})
        if method == "faig":
            tensors.update({f"per_image/{d}": result.per_image[d] for d in DEGRADATIONS})
    return tensors


def discover_inputs(setup: Setup) -> dict[str, list[torch.Tensor]]:
    images = setup.images("discover", setup.config.discover_images)
    return {kind: [pair.lr for pair in setup.pairs(images, name)] for kind, name in INPUTS.items()}


def target_outputs(setup: Setup, inputs: dict[str, list[torch.Tensor]]) -> dict[str, list[torch.Tensor]]:
    model = runner(setup.target)
    return {kind: outputs(model, lrs) for kind, lrs in inputs.items()}


def step_masking(setup: Setup, rankings: dict[str, torch.Tensor]) -> dict:
    inputs = discover_inputs(setup)
    references, seen = target_outputs(setup, inputs), {}
    return {method: {d: masking_drops(setup.baseline, setup.target, rankings[f"{method}/{d}"], inputs,
                                      setup.config.percents, references, seen) for d in DEGRADATIONS}
            for method in METHODS}


def ablation_rankings(rankings: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The deblurring filters with and without Eq. 7's elimination term (Fig. 5)."""
    return {"with_elimination": rankings["faig/blur"],
            "without_elimination": without_elimination_ranking(rankings["per_image/blur"])}


def step_ablation(setup: Setup, rankings: dict[str, torch.Tensor]) -> dict:
    inputs = discover_inputs(setup)
    return ablation_drops(setup.baseline, setup.target, ablation_rankings(rankings), inputs, MAIN_PERCENT,
                          target_outputs(setup, inputs))


def step_modulation(setup: Setup, rankings: dict[str, torch.Tensor]) -> dict:
    images = setup.images("test", setup.config.modulation_images)
    return {d: modulation_curve(setup.baseline, setup.target, setup.selection(rankings[f"faig/{d}"]),
                                setup.pairs(images, d), setup.config.lambdas, setup.scale) for d in DEGRADATIONS}


def variant_pairs(setup: Setup, split: str, count: int) -> tuple[list[Pair], list[str]]:
    """Every image of a split under all four variants, and each input's variant name."""
    images = setup.images(split, count)
    pairs = [(name, pair) for name in VARIANTS for pair in setup.pairs(images, name)]
    return [pair for _, pair in pairs], [name for name, _ in pairs]


def step_prediction(setup: Setup, rankings: dict[str, torch.Tensor]) -> dict:
    """Eq. 8 with thresholds from ``calibrate`` and accuracy on ``test``, with ground truth
    (``standard``) and with the target's output standing in for it (``reference_free``)."""
    config = setup.config
    calibrate, calibrate_variants = variant_pairs(setup, "calibrate", config.calibrate_images)
    test, test_variants = variant_pairs(setup, "test", config.prediction_test_images)
    degradation_sets = {d: setup.selection(rankings[f"faig/{d}"], config.prediction_percent).bool()
                        for d in DEGRADATIONS}

    def own(pairs: list[Pair]) -> torch.Tensor:
        scores = faig_scores(setup.baseline, setup.target, pairs, config.quadrature, config.prediction_steps,
                             setup.device, setup.progress)
        return own_filters(scores, config.prediction_percent)

    modes = {"standard": (calibrate, test),
             "reference_free": (reference_free_pairs(setup.target, calibrate), reference_free_pairs(setup.target, test))}
    return {mode: evaluate_prediction(own(first), calibrate_variants, own(second), test_variants, degradation_sets)
            for mode, (first, second) in modes.items()}


def step_images(setup: Setup, rankings: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The example images of Fig. 2/3 (masking), Fig. 5 (ablation) and the modulation strips, as
    ``<figure>/<row>/<column>`` tensors, from the first image of each split."""
    inputs = {kind: lrs[:1] for kind, lrs in discover_inputs(setup).items()}
    lrs = [inputs["blur_input"][0], inputs["noise_input"][0]]
    masks = {f"mask {d}": setup.selection(rankings[f"faig/{d}"]) for d in DEGRADATIONS}
    ablation = {name: setup.selection(ranking) for name, ranking in ablation_rankings(rankings).items()}
    tensors = {}
    for figure, selections in (("masking", masks), ("ablation", ablation)):
        images = masked_outputs(setup.baseline, setup.target, selections, lrs)
        for row, kind in enumerate(INPUTS):
            tensors[f"{figure}/{kind}/input"] = lrs[row]
            tensors.update({f"{figure}/{kind}/{name}": values[row] for name, values in images.items()})
    test = setup.images("test", 1)
    for d in DEGRADATIONS:
        pair = setup.pairs(test, d)[0]
        strip = modulated_outputs(setup.baseline, setup.target, setup.selection(rankings[f"faig/{d}"]), [pair.lr],
                                  setup.config.strip_lambdas)
        tensors[f"modulation/{d}/input"] = pair.lr
        tensors.update({f"modulation/{d}/λ={strength:g}": images[0] for strength, images in strip.items()})
        tensors[f"modulation/{d}/ground truth"] = pair.hr
    return tensors


def per_image_psnr(model: nn.Module, pairs: list[Pair], scale: int) -> list[float]:
    return [psnr(output, pair.hr, scale) for output, pair in zip(outputs(runner(model), [p.lr for p in pairs]), pairs)]


def step_retrain(setup: Setup, rankings: dict[str, torch.Tensor]) -> dict:
    """Table 3: per-image test PSNR of every re-training run (upper bound: all parameters)."""
    config = setup.config
    key = setup.cache.key("retrain")
    test = setup.images("test", config.test_images)
    runs: list[tuple[tuple[str, ...], torch.Tensor | None, str]] = [
        (("upper_bound", task), None, task) for task in TASKS]
    runs += [((method, d, task), setup.selection(rankings[f"{method}/{d}"], config.retrain.percent), task)
             for method in METHODS for d in DEGRADATIONS for task in TASKS]
    results: dict = {}
    for path, selection, task in runs:
        name = "-".join(path)

        def run() -> list[float]:
            model = retrain(setup.baseline_path, setup.arch_config, task, selection, config.retrain, setup.seed,
                            setup.cache.folder / key, name, setup.device, progress=False)
            return per_image_psnr(model, setup.pairs(test, task), setup.scale)

        node = results
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = setup.cache.json("retrain", run, name=f"{key}/{name}")
    return results


# ---- aggregation over seeds ------------------------------------------------------------------

def psnr_summary(values: list[float]) -> dict[str, float]:
    """Mean ± std of PSNRs under the keys results.json gives models and upper bounds."""
    stats = mean_std(values)
    return {"psnr": stats["mean"], "std": stats["std"]}


def summary(per_seed: list[list[float]]) -> dict[str, float]:
    """Mean ± std: over the seeds' means when there are several seeds, else over the images."""
    return mean_std([statistics.fmean(v) for v in per_seed] if len(per_seed) > 1 else per_seed[0])


def gather(per_seed: list[Any], leaf: Callable[[list[Any]], Any]) -> Any:
    """Zip nested dicts of the same shape (one per seed) and reduce each leaf list with ``leaf``."""
    if isinstance(per_seed[0], dict):
        return {key: gather([entry[key] for entry in per_seed], leaf) for key in per_seed[0]}
    return leaf(per_seed)


def aggregate_prediction(per_seed: list[dict]) -> tuple[dict, dict]:
    """Per degradation: mean threshold and accuracy over seeds, inputs per seed; the summed confusion."""
    table = {d: {"threshold": statistics.fmean(s["degradations"][d]["threshold"] for s in per_seed),
                 "accuracy": statistics.fmean(s["degradations"][d]["accuracy"] for s in per_seed),
                 "n": per_seed[0]["degradations"][d]["n"],
                 "calibrate_accuracy": statistics.fmean(s["degradations"][d]["calibrate_accuracy"] for s in per_seed),
                 "accuracy_by_variant": gather([s["degradations"][d]["accuracy_by_variant"] for s in per_seed],
                                               statistics.fmean)}
             for d in DEGRADATIONS}
    confusion = gather([s["confusion"] for s in per_seed], sum)
    return table, confusion


def findings(results: dict, arch: str) -> list[dict]:
    """The issue's expectations for the embedded default, checked against the measurements."""
    masking = results["masking"][arch]
    one = percent_key(MAIN_PERCENT)
    models = results["models"][arch]
    checks = [{"claim": "the baseline is a real SR model (Sec. 4.1): it beats bicubic upsampling on clean inputs",
               "measured": f"{models['baseline']['clean']['psnr']:.2f} vs {models['bicubic']['clean']['psnr']:.2f} dB",
               "holds": models["baseline"]["clean"]["psnr"] > models["bicubic"]["clean"]["psnr"]}]
    for d in DEGRADATIONS:
        own = f"{d}_input"
        other = "noise_input" if d == "blur" else "blur_input"
        faig = masking["faig"][d][one][own]["mean"]
        random = masking["random"][d][one][own]["mean"]
        checks.append({"claim": f"masking 1% FAIG {d} filters: ≥ 5× the drop of random ones on {d} inputs",
                       "measured": f"{faig:.3g} vs {random:.3g} (×{faig / max(random, 1e-12):.1f})",
                       "holds": faig >= 5 * random})
        best_other = max(masking[m][d][one][own]["mean"] for m in ("ig", "abs"))
        checks.append({"claim": f"masking 1% FAIG {d} filters: larger drop than IG and |θ − θ̄| on {d} inputs",
                       "measured": f"{faig:.3g} vs best other {best_other:.3g}", "holds": faig > best_other})
        cross = masking["faig"][d][one][other]["mean"]
        checks.append({"claim": f"masking 1% FAIG {d} filters: the drop on {other.split('_')[0]} inputs is "
                                f"much smaller (≤ 1/3) than on {d} inputs",
                       "measured": f"{cross:.3g} vs {faig:.3g}", "holds": cross * 3 <= faig})
    retrained = results["retrain"][arch]
    gain = retrained["faig"]["blur"]["blur"]["mean"] - retrained["random"]["blur"]["blur"]["mean"]
    checks.append({"claim": "re-training 1% FAIG deblurring filters on the blur task beats random ones by ≥ 0.5 dB",
                   "measured": f"{gain:+.3f} dB", "holds": gain >= 0.5})
    for d in DEGRADATIONS:
        accuracy = results["prediction"][arch][d]["accuracy"]
        checks.append({"claim": f"degradation prediction accuracy ≥ 90% for {d}",
                       "measured": f"{100 * accuracy:.1f}%", "holds": accuracy >= 0.9})
    ablation = results["ablation"][arch]
    kept = ablation["with_elimination"]["noise_input"]["mean"]
    lost = ablation["without_elimination"]["noise_input"]["mean"]
    checks.append({"claim": "without Eq. 7's elimination term, masking 1% deblurring filters harms noisy inputs "
                            "at least twice as much",
                   "measured": f"{lost:.3g} vs {kept:.3g}", "holds": lost >= 2 * kept})
    return [{"arch": arch, **check} for check in checks]


# ---- the run --------------------------------------------------------------------------------

RESULT_KEYS: tuple[str, ...] = ("models", "masking", "retrain", "distribution", "prediction",
                                "prediction_reference_free", "prediction_confusion",
                                "prediction_reference_free_confusion", "ablation", "modulation")


def run_seed(setup: Setup) -> dict:
    """Every step for one architecture and seed (prediction and re-training only for the first
    ``prediction_seeds`` / ``retrain_seeds`` seeds): plain data per step."""
    config, cache = setup.config, setup.cache
    rankings = cache.tensors("attribution", lambda: step_attribution(setup))
    entry = {
        "rankings": rankings,
        "models": cache.json("models", lambda: step_models(setup)),
        "masking": cache.json("masking", lambda: step_masking(setup, rankings)),
        "ablation": cache.json("ablation", lambda: step_ablation(setup, rankings)),
        "modulation": cache.json("modulation", lambda: step_modulation(setup, rankings)),
        "distribution": {d: layer_shares(setup.index, setup.selection(rankings[f"faig/{d}"])) for d in DEGRADATIONS},
    }
    if setup.seed < config.prediction_seeds:
        entry["prediction"] = cache.json("prediction", lambda: step_prediction(setup, rankings))
    if setup.seed < config.retrain_seeds:
        entry["retrain"] = step_retrain(setup, rankings)
    return entry


def seed_artifacts(setup: Setup, entry: dict) -> dict:
    """What the figures need beyond results.json, from one seed: example images, the discovered
    filters layer by layer, and the test inputs' overlap scores."""
    rankings = entry["rankings"]
    selections = {d: setup.selection(rankings[f"faig/{d}"]) for d in DEGRADATIONS}
    return {"images": setup.cache.tensors("images", lambda: step_images(setup, rankings)),
            "grids": {d: selection_grids(setup.index, s) for d, s in selections.items()},
            "densities": {d: layer_densities(setup.index, s) for d, s in selections.items()},
            "overlaps": {mode: {d: entry["prediction"][mode]["degradations"][d]["test_overlaps"] for d in DEGRADATIONS}
                         for mode in ("standard", "reference_free")}}


def write_rankings(rankings: dict[str, torch.Tensor], folder: Path) -> None:
    """Every method's rankings as official index files: ``folder/<method>/<degradation>_index.txt``."""
    for method in METHODS:
        for d in DEGRADATIONS:
            write_index_file(folder / method / f"{d}_index.txt", rankings[f"{method}/{d}"])


def aggregate(per_seed: dict[str, list]) -> dict[str, Any]:
    """One architecture's entry of each results.json section, from its seeds' data."""
    section = {
        "models": gather(per_seed["models"], psnr_summary),
        "masking": gather(per_seed["masking"], summary),
        "ablation": gather(per_seed["ablation"], summary),
        "distribution": gather(per_seed["distribution"], statistics.fmean),
        "modulation": {d: [{"lambda": points[0]["lambda"], "psnr": statistics.fmean(p["psnr"] for p in points),
                            "gradient_energy": statistics.fmean(p["gradient_energy"] for p in points)}
                           for points in zip(*[entry[d] for entry in per_seed["modulation"]])]
                       for d in DEGRADATIONS},
    }
    for mode, key in (("standard", "prediction"), ("reference_free", "prediction_reference_free")):
        section[key], section[f"{key}_confusion"] = aggregate_prediction([s[mode] for s in per_seed["prediction"]])
    retrained = gather(per_seed["retrain"], summary)
    retrained["upper_bound"] = {task: {"psnr": value["mean"], "std": value["std"]}
                                for task, value in retrained["upper_bound"].items()}
    section["retrain"] = retrained
    return section


def reproduce(preset: str = "embedded", archs: tuple[str, ...] = ARCHS, out_dir: str | os.PathLike = "faig-reproduce",
              quick: bool = False, seeds: int | None = None, retrain_steps: int | None = None,
              retrain_seeds: int | None = None, prediction_seeds: int | None = None,
              weights: str | os.PathLike | None = None, device: str | None = None, progress: bool = True) -> dict:
    """Run every experiment for each architecture and seed on the models in ``weights`` (a folder of
    ``<arch>_{baseline,target}.safetensors``) or the preset's (training them only when the preset
    ships none), and write ``OUT/results.json``, ``OUT/report.html``, ``OUT/report.md``,
    ``OUT/figures/*.png`` and ``OUT/filters/<arch>/<method>/<degradation>_index.txt``. Returns the
    results."""
    from faig.report.build import write_report

    config = make_config(preset, tuple(archs), quick, seeds, retrain_steps, retrain_seeds, prediction_seeds)
    resolve_device(device)  # a device this machine lacks is refused before anything is written
    out_dir = Path(out_dir)
    began = time.perf_counter()
    timing: dict[str, float] = {}
    cpu: dict[str, float] = {}

    def log(message: str) -> None:
        if progress:
            print(f"faig reproduce: {message}", file=sys.stderr, flush=True)

    results: dict = {key: {} for key in RESULT_KEYS}
    artifacts, trained = {}, {}
    for arch in config.archs:
        per_seed: dict[str, list] = {}
        for seed in range(config.seeds):
            log(f"{arch}, seed {seed}")
            baseline_path, target_path, trained[arch] = model_paths(
                preset, arch, seed, out_dir, None if weights is None else Path(weights), device, progress)
            baseline, target, arch_config = load_pair(baseline_path, target_path)
            folder = out_dir / "cache" / f"{arch}-{file_hash(baseline_path, target_path)}" / f"seed{seed}"
            setup = Setup(config, arch, seed, baseline, target, baseline_path, arch_config,
                          StepCache(folder, config, timing, cpu, log), device, progress)
            entry = run_seed(setup)
            if seed == 0:
                artifacts[arch] = seed_artifacts(setup, entry)
                write_rankings(entry["rankings"], out_dir / "filters" / arch)
            for name, value in entry.items():
                per_seed.setdefault(name, []).append(value)
        for key, value in aggregate(per_seed).items():
            results[key][arch] = value
    results["findings"] = [check for arch in config.archs for check in findings(results, arch)]
    results["spread"] = {"masking": "seeds" if config.seeds > 1 else "images",
                         "ablation": "seeds" if config.seeds > 1 else "images",
                         "retrain": "seeds" if config.retrain_seeds > 1 else "images", "models": "seeds"}
    results["config"] = {**config.to_dict(), "models_trained_here": trained, "command": rerun_command(config),
                         "torch": torch.__version__, "threads": torch.get_num_threads()}
    timing["total_compute"], cpu["total_compute"] = sum(timing.values()), sum(cpu.values())
    results["timing"] = {k: round(v, 3) for k, v in timing.items()}
    results["timing_cpu"] = {k: round(v, 3) for k, v in cpu.items()}
    report_began = time.perf_counter()
    write_report(results, artifacts, out_dir)
    results["timing"]["report"] = round(time.perf_counter() - report_began, 3)
    results["timing"]["wall_this_invocation"] = round(time.perf_counter() - began, 3)
    write_json(out_dir / "results.json", results)
    log(f"wrote {out_dir / 'report.html'}, {out_dir / 'report.md'} and {out_dir / 'results.json'}")
    return results


def rerun_command(config: ReproduceConfig) -> str:
    """The command line that reruns this configuration."""
    parts = ["faig reproduce", f"--preset {config.preset}", f"--arch {','.join(config.archs)}"]
    if config.quick:
        parts.append("--quick")
    defaults = make_config(config.preset, config.archs, config.quick)
    for name in ("seeds", "retrain_seeds", "prediction_seeds"):
        if getattr(config, name) != getattr(defaults, name):
            parts.append(f"--{name.replace('_', '-')} {getattr(config, name)}")
    if config.retrain.steps != defaults.retrain.steps:
        parts.append(f"--retrain-steps {config.retrain.steps}")
    return " ".join(parts)


# ---- faig modulate ---------------------------------------------------------------------------

def modulate_image(image: str | os.PathLike, degradation: str, strength: float, out: str | os.PathLike, *,
                   preset: str = "embedded", arch: str = "srresnet", baseline: str | os.PathLike | None = None,
                   target: str | os.PathLike | None = None, filters: str | os.PathLike | None = None,
                   percent: float = MAIN_PERCENT, steps: int = 16, seed: int = 0, device: str | None = None,
                   cache_dir: str | os.PathLike | None = None, progress: bool = True) -> Path:
    """Super-resolve a user's LR image with the target whose top ``percent`` % filters for
    ``degradation`` are set to strength λ (θ̄ + λ(θ − θ̄) on them): λ = 0 removes that restoration,
    1 is the target, above 1 strengthens it. The filters come from ``filters`` (an official
    ``<degradation>_index.txt``, e.g. from ``faig reproduce`` or ``faig attribute``) or are found with
    FAIG (Eq. 7) on the embedded ``discover`` split. Writes ``out`` and returns its path."""
    if degradation not in DEGRADATIONS:
        raise FaigError(f"unknown degradation {degradation!r}; choose from {', '.join(DEGRADATIONS)}")
    if not math.isfinite(strength):
        raise FaigError(f"λ must be a finite number, not {strength}")
    if not 0 < percent <= 100:
        raise FaigError(f"the share of filters must be in (0, 100] %, not {percent}")
    if (baseline is None) != (target is None):
        raise FaigError("give both --baseline and --target, or neither (to use --preset)")
    if baseline is None:
        baseline, target = preset_weights(preset, arch, "baseline"), preset_weights(preset, arch, "target")
    baseline_model, target_model, arch_config = load_pair(baseline, target)
    lr = read_image(image)
    index = FilterIndex.from_module(target_model)
    if filters is not None:
        ranking = read_index_file(filters, index)
    else:
        images = load_images("discover", None, arch_config.scale)
        ranking = attribute("faig", baseline_model, target_model, images, DEGRADATIONS, steps=steps, device=device,
                            cache_dir=cache_dir, progress=progress, seed=seed,
                            scale=arch_config.scale).rankings[degradation]
    output = modulated_outputs(baseline_model, target_model, index.selection(ranking, percent), [lr], (strength,))
    write_image(out, output[strength][0])
    return Path(out)
