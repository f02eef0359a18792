"""``faig reproduce``: every step for each architecture and seed, the aggregation over seeds, the
findings, the report; and the step cache that makes a run resumable.

Every finished step is stored under ``OUT/cache/<arch>-<models' hash>/seed<N>/`` at once, in the one
:class:`~faig.cache.DiskCache`, keyed by the settings it depends on (:data:`STEP_SETTINGS`), so an
interrupted or repeated run resumes where it stopped and a changed setting recomputes only what it
affects; the console lists what was reused.
"""

from __future__ import annotations

import os
import sys
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch
from tqdm import tqdm

from faig.attribution.filters import FilterIndex, write_index_file
from faig.cache import DiskCache, Tensors, file_key, settings_key
from faig.devices import resolve_device
from faig.errors import FaigError
from faig.experiments.distribution import head_shares, layer_densities, layer_shares, selection_grids
from faig.files import check_writable_dir, write_json
from faig.models.checkpoints import load_model, load_pair
from faig.models.registry import preset_weights, weights_stem
from faig.names import DEGRADATIONS, METHODS
from faig.report.build import write_report
from faig.reproduce.aggregate import aggregate
from faig.reproduce.config import ReproduceConfig, check_folders, make_config, rerun_command
from faig.reproduce.findings import judge
from faig.reproduce.steps import (Rankings, Setup, progress_over, retrain_psnrs, retrain_runs, step_ablation,
                                  step_attribution, step_images, step_levels, step_masking,
                                  step_masking_official, step_models, step_modulation, step_prediction)
from faig.results import Artifacts, Results
from faig.training.config import STAGES
from faig.training.trainer import stage_begun, train_stages

# What a run analyses: a folder of <arch>_{baseline,target}.safetensors, or one (baseline, target) pair.
Weights = str | os.PathLike | tuple[str | os.PathLike, str | os.PathLike]
PRESET_SCALE = 2  # the upscaling factor of the presets' networks, shipped or trained here

# The settings each step's result depends on (besides the models and the seed): its cache key.
ATTRIBUTION_SETTINGS = ("degradations", "quadrature", "steps", "discover_images", "folders")
STEP_SETTINGS: dict[str, tuple[str, ...]] = {
    "models": ("degradations", "test_images", "folders"),
    "attribution": ATTRIBUTION_SETTINGS,
    "masking": ATTRIBUTION_SETTINGS + ("percents",),
    "masking_official": ATTRIBUTION_SETTINGS + ("table_percents",),
    "ablation": ATTRIBUTION_SETTINGS,
    "modulation": ATTRIBUTION_SETTINGS + ("modulation_images", "lambdas"),
    "prediction": ATTRIBUTION_SETTINGS + ("prediction_percent", "prediction_steps", "calibrate_images",
                                          "prediction_test_images"),
    "images": ATTRIBUTION_SETTINGS + ("strip_lambdas",),
    "retrain": ATTRIBUTION_SETTINGS + ("retrain", "test_images"),
    "levels": ATTRIBUTION_SETTINGS,
}
# Settings that joined the keys after caches had been written: a key leaves one out while it holds the
# value those caches were computed with, so their results stay valid (the paper's two degradations).
KEY_DEFAULTS: dict[str, Any] = {"degradations": DEGRADATIONS}


@dataclass
class Ledger:
    """What a run did: wall and CPU seconds per step (a reused step counts what it cost when it
    ran), and per architecture and seed the steps it computed and those it reused."""

    seconds: dict[str, float] = field(default_factory=dict)
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    computed: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    reused: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def count(self, step: str, cost: dict[str, float]) -> None:
        self.seconds[step] = self.seconds.get(step, 0.0) + cost["seconds"]
        self.cpu_seconds[step] = self.cpu_seconds.get(step, 0.0) + cost["cpu_seconds"]


def timed(compute: Callable[[], Any]) -> tuple[Any, dict[str, float]]:
    """``compute()`` and the wall and CPU seconds it took."""
    wall, cpu = time.perf_counter(), time.process_time()
    value = compute()
    return value, {"seconds": round(time.perf_counter() - wall, 3), "cpu_seconds": round(time.process_time() - cpu, 3)}


class StepCache:
    """One architecture's and seed's finished steps in a :class:`DiskCache`, each stored with what it
    cost; every step it serves is counted in the :class:`Ledger` as computed or reused."""

    def __init__(self, folder: Path, config: ReproduceConfig, ledger: Ledger, label: str,
                 log: Callable[[str], None]) -> None:
        self.disk, self.config, self.ledger, self.label, self.log = DiskCache(folder), config, ledger, label, log

    def key(self, step: str) -> str:
        """``<step>-<hash of the settings it depends on>`` (:data:`KEY_DEFAULTS` left out at their value)."""
        values = asdict(self.config)
        settings = {name: values[name] for name in STEP_SETTINGS[step]
                    if name not in KEY_DEFAULTS or values[name] != KEY_DEFAULTS[name]}
        return f"{step}-{settings_key(settings)}"

    def _served(self, step: str, what: str, cost: dict[str, float], fresh: bool, announce: bool = True) -> None:
        self.ledger.count(step, cost)
        (self.ledger.computed if fresh else self.ledger.reused)[self.label].append(what)
        if fresh and announce:
            self.log(f"{self.label}: {what} took {cost['seconds']:.1f} s")

    def json(self, step: str, compute: Callable[[], Any], entry: str | None = None, what: str | None = None) -> Any:
        """The step's data (``entry``: one of several entries of a step, e.g. one re-training run)."""
        key = self.key(step) if entry is None else f"{self.key(step)}/{entry}"
        stored = self.disk.load_json(key)
        fresh = stored is None
        if fresh:
            data, cost = timed(compute)
            self.disk.save_json(key, {"data": data, **cost})
            stored = self.disk.load_json(key)
        self._served(step, what or step, stored, fresh, announce=entry is None)
        return stored["data"]

    def tensors(self, step: str, compute: Callable[[], Tensors]) -> Tensors:
        """The step's tensors; what they cost is stored beside them."""
        key = self.key(step)
        stored, cost = self.disk.load_tensors(key), self.disk.load_json(key)
        fresh = stored is None or cost is None
        if fresh:
            tensors, cost = timed(compute)
            self.disk.save_tensors(key, tensors)
            self.disk.save_json(key, cost)
            stored = self.disk.load_tensors(key)
        self._served(step, step, cost, fresh)
        return stored  # type: ignore[return-value]


def run_retrain(setup: Setup, rankings: Rankings, cache: StepCache) -> dict:
    """Table 3: per-image test PSNR of every re-training run, one cache entry per run (its weights
    are trained into the step's folder)."""
    folder = cache.disk.folder / cache.key("retrain")
    runs = retrain_runs(setup, rankings)
    computed, began = len(cache.ledger.computed[cache.label]), time.perf_counter()
    results: dict = {}
    for run in progress_over(setup, "re-training", runs, lambda r: r.describe()):
        node = results
        for part in run.path[:-1]:
            node = node.setdefault(part, {})
        node[run.path[-1]] = cache.json("retrain", lambda: retrain_psnrs(setup, run, folder), entry=run.name,
                                        what=f"re-training ({run.describe()})")
    trained = len(cache.ledger.computed[cache.label]) - computed
    if trained:
        seconds = time.perf_counter() - began
        cache.log(f"{cache.label}: re-training took {seconds:.1f} s ({trained} of {len(runs)} runs)")
    return results


def run_seed(setup: Setup, cache: StepCache) -> dict:
    """Every step for one architecture and seed (prediction and re-training only for the first
    ``prediction_seeds`` / ``retrain_seeds`` seeds, the level study for the first): plain data per
    step, and the rankings."""
    config = setup.config
    rankings = cache.tensors("attribution", lambda: step_attribution(setup))
    entry = {
        "rankings": rankings,
        "models": cache.json("models", lambda: step_models(setup)),
        "masking": cache.json("masking", lambda: step_masking(setup, rankings)),
        "masking_official": cache.json("masking_official", lambda: step_masking_official(setup, rankings),
                                       what="masking (official metric)"),
        "ablation": cache.json("ablation", lambda: step_ablation(setup, rankings)),
        "modulation": cache.json("modulation", lambda: step_modulation(setup, rankings)),
        "distribution": {d: layer_shares(setup.index, setup.selection(rankings[f"faig/{d}"]))
                         for d in setup.degradations},
        "heads": {d: head_shares(setup.index, setup.selection(rankings[f"faig/{d}"]), setup.heads)
                  for d in setup.degradations},
    }
    if setup.seed < config.prediction_seeds:
        entry["prediction"] = cache.json("prediction", lambda: step_prediction(setup, rankings))
    if setup.seed < config.retrain_seeds:
        entry["retrain"] = run_retrain(setup, rankings, cache)
    if config.level_study and setup.seed == 0:
        entry["levels"] = cache.json("levels", lambda: step_levels(setup, rankings), what="level study")
    return entry


def seed_artifacts(setup: Setup, cache: StepCache, entry: dict) -> Artifacts:
    """What the figures need beyond results.json, from one seed: example images, the discovered
    filters layer by layer, and the test inputs' overlap scores."""
    rankings = entry["rankings"]
    selections = {d: setup.selection(rankings[f"faig/{d}"]) for d in setup.degradations}
    tensors = cache.tensors("images", lambda: step_images(setup, rankings))
    return Artifacts(images={key: value for key, value in tensors.items() if not key.startswith("psnr/")},
                     psnrs={key.removeprefix("psnr/"): float(value) for key, value in tensors.items()
                            if key.startswith("psnr/")},
                     grids={d: selection_grids(setup.index, s) for d, s in selections.items()},
                     densities={d: layer_densities(setup.index, s) for d, s in selections.items()},
                     overlaps={mode: {d: entry["prediction"][mode]["degradations"][d]["test_overlaps"]
                                      for d in setup.degradations} for mode in ("standard", "reference_free")},
                     thresholds={mode: {d: entry["prediction"][mode]["degradations"][d]["threshold"]
                                        for d in setup.degradations} for mode in ("standard", "reference_free")})


def write_rankings(rankings: Rankings, index: FilterIndex, folder: Path, degradations: tuple[str, ...]) -> None:
    """Every method's rankings as official index files, each tied to the network by its sidecar:
    ``folder/<method>/<degradation>_index.txt``."""
    for method in METHODS:
        for d in degradations:
            write_index_file(folder / method / f"{d}_index.txt", rankings[f"{method}/{d}"], index)


def model_paths(preset: str, arch: str, seed: int, out_dir: Path, weights: Weights | None, device: str | None,
                progress: bool, config: ReproduceConfig | None = None) -> tuple[Path, Path, bool]:
    """The (baseline, target) pair a run analyses: ``weights`` itself when it is a pair of checkpoint
    files, ``weights/<arch>_{baseline,target}.safetensors`` when it is a folder, else the preset's
    committed weights (for a wider mix, ``config.mix``, its ``<arch>_target_<kinds>``); a stage the
    preset does not ship is trained here with this seed (the target from the baseline, on the user's
    ``train`` folder and validated on the ``discover`` one when ``config`` names them), resuming
    from its checkpoint when there is one. The flag says whether any stage was trained."""
    mix = config.mix if config else ()
    if weights is not None:
        return *given_paths(arch, weights, mix), False
    folder, found, trained = out_dir / "models" / f"seed{seed}", [], False
    for stage in STAGES:
        kinds = mix if stage == "target" else ()
        try:
            found.append(preset_weights(preset, arch, stage, kinds))
            continue
        except FaigError:
            path = folder / f"{weights_stem(arch, stage, kinds)}.safetensors"
        if not path.is_file():
            if progress:
                tqdm.write(f"faig reproduce: the {preset} preset ships no {path.stem}; training it into {folder}",
                           file=sys.stderr)
            train_stages(preset, arch, folder, (stage,), scale=PRESET_SCALE, seed=seed, device=device,
                         progress=progress, init_weights=found[0] if stage == "target" else None,
                         resume=stage_begun(preset, arch, stage, folder, PRESET_SCALE, seed, kinds), mix=kinds,
                         hr_dir=config.folder("train") if config else None,
                         val_dir=config.folder("discover") if config else None,
                         to_continue="the same faig reproduce command continues it")
        found.append(path)
        trained = True
    return found[0], found[1], trained


def given_paths(arch: str, weights: Weights, mix: tuple[str, ...] = ()) -> tuple[Path, Path]:
    """The (baseline, target) files the user gave: the pair itself, or from a folder
    ``<arch>_baseline.safetensors`` and the target of the mix (``<arch>_target[_<kinds>]``).

    Raises:
        FaigError: no such folder, or one that lacks one of them.
    """
    if isinstance(weights, tuple):
        return Path(weights[0]), Path(weights[1])
    folder = Path(weights)
    if not folder.is_dir():
        raise FaigError(f"--weights {folder}: no such folder")
    paths = tuple(folder / f"{weights_stem(arch, stage, mix if stage == 'target' else ())}.safetensors"
                  for stage in STAGES)
    for path in paths:
        if not path.is_file():
            raise FaigError(f"no {path.name} in {folder}")
    return paths[0], paths[1]


def analysed_scale(arch: str, weights: Weights | None, mix: tuple[str, ...] = ()) -> int:
    """The upscaling factor of the networks a run analyses for ``arch``, known before any work (and
    before any training): the given checkpoints' own, else :data:`PRESET_SCALE`."""
    return PRESET_SCALE if weights is None else load_model(given_paths(arch, weights, mix)[0])[1].scale


def models_source(weights: Weights | None, mix: tuple[str, ...] = ()) -> str:
    """Where a run's networks came from, in words for the report (``mix``: the wider mix's target)."""
    target = weights_stem("<arch>", "target", mix)
    if isinstance(weights, tuple):
        return f"the pair {weights[0]} (baseline) and {weights[1]} (target)"
    if weights is not None:
        return f"<arch>_baseline.safetensors and {target}.safetensors in {weights}"
    return "the preset's committed weights" + (f" (the target: {target})" if mix else "")


def reused_sentence(label: str, steps: list[str]) -> str:
    """``srresnet seed 0: reused attribution, models, masking and 18 re-training runs from the cache``."""
    runs = sum(1 for step in steps if step.startswith("re-training"))
    named = list(dict.fromkeys(step for step in steps if not step.startswith("re-training")))
    named += [f"{runs} re-training run{'s' if runs != 1 else ''}"] if runs else []
    listed = named[0] if len(named) == 1 else f"{', '.join(named[:-1])} and {named[-1]}"
    return f"{label}: reused {listed} from the cache"


def reproduce(preset: str = "embedded", archs: tuple[str, ...] | None = None,
              out_dir: str | os.PathLike = "faig-reproduce", quick: bool = False, seeds: int | None = None,
              retrain_steps: int | None = None, retrain_seeds: int | None = None, prediction_seeds: int | None = None,
              weights: Weights | None = None, device: str | None = None, progress: bool = True,
              folders: dict[str, str] | None = None, degradations: tuple[str, ...] | None = None,
              level_study: bool = True) -> Results:
    """``faig reproduce``: every experiment for each architecture and seed, the paper's claims
    judged, and the report; on the embedded splits, or on the user's folders in their roles (the
    paper's protocol: ``train`` DIV2K-train, ``discover`` Set14, ``calibrate`` BSD100, ``test``
    DIV2K-val).

    Args:
        preset: ``embedded`` or ``paper`` (settings, and the models when ``weights`` is None).
        archs: architectures (None: the preset's).
        out_dir: where everything goes; its ``cache/`` makes a rerun resume.
        quick: a smoke test of every step in minutes, not the paper's protocol.
        seeds, retrain_steps, retrain_seeds, prediction_seeds: overrides of the configuration.
        weights: what to analyse: a folder of ``<arch>_{baseline,target}.safetensors``, or one
            ``(baseline, target)`` pair of checkpoints of any registered architecture (faig
            safetensors or BasicSR ``.pth``; ``archs`` then defaults to theirs). None: the preset's
            committed weights, or a pair trained here when it ships none.
        device: ``cpu``, ``cuda`` ... (None: CUDA when present).
        progress: progress bars and sentences on stderr.
        folders: split -> folder of HR images replacing that embedded split (LR inputs are made
            from them by Eq. 1; ``train`` also feeds re-training and any training of the models).
        degradations: whose filters are found, one against the rest (None: the paper's blur and
            noise; e.g. ``("blur", "noise", "jpeg")`` for the three-way study).
        level_study: also run the level study (each degradation's kind at three levels).

    Returns:
        The results, also written to ``OUT/results.json`` beside ``OUT/report.html``,
        ``OUT/report.md``, ``OUT/figures/*.png`` and ``OUT/filters/<arch>/<method>/<degradation>_index.txt``.

    Example:
        >>> reproduce(quick=True, out_dir="faig-quick")  # doctest: +SKIP
    """
    if isinstance(weights, tuple):
        archs = (pair_arch(weights, archs),)
    config = make_config(preset, None if archs is None else tuple(archs), quick, seeds, retrain_steps, retrain_seeds,
                         prediction_seeds, folders, degradations, level_study)
    return run(config, out_dir, weights, device, progress)


def pair_arch(pair: tuple[str | os.PathLike, str | os.PathLike], archs: tuple[str, ...] | None) -> str:
    """The architecture of a (baseline, target) pair, checked against ``archs`` when given.

    Raises:
        FaigError: unreadable or mismatched checkpoints, or ``archs`` naming anything else.
    """
    arch = load_pair(*pair)[2].arch
    if archs is not None and tuple(archs) != (arch,):
        raise FaigError(f"--arch {','.join(archs)} does not match the checkpoints, which are {arch}")
    return arch


def run(config: ReproduceConfig, out_dir: str | os.PathLike, weights: Weights | None = None,
        device: str | None = None, progress: bool = True) -> Results:
    """:func:`reproduce` for a configuration (e.g. one smaller than ``--quick``, for tests)."""
    resolve_device(device)  # a device this machine lacks is refused before anything is written
    check_writable_dir(out_dir)  # before Path(), which makes an empty path the current folder
    out_dir = Path(out_dir)
    for scale in {analysed_scale(arch, weights, config.mix) for arch in config.archs}:
        check_folders(config, scale)  # a folder the run cannot use is refused now, not after hours of work
    began = time.perf_counter()
    ledger = Ledger()

    def log(message: str) -> None:
        if progress:
            tqdm.write(f"faig reproduce: {message}", file=sys.stderr)

    mode = "quick: a smoke test, not the paper's protocol" if config.quick else "the paper's protocol"
    log(f"{', '.join(config.archs)}, {config.seeds} seed{'s' if config.seeds > 1 else ''} ({mode}), into {out_dir}")
    per_arch, artifacts, trained = {}, {}, {}
    for arch in config.archs:
        per_seed: dict[str, list] = defaultdict(list)
        for seed in range(config.seeds):
            baseline_path, target_path, trained[arch] = model_paths(
                config.preset, arch, seed, out_dir, weights, device, progress, config)
            baseline, target, arch_config = load_pair(baseline_path, target_path)
            folder = out_dir / "cache" / f"{arch}-{file_key(baseline_path, target_path)}" / f"seed{seed}"
            setup = Setup(config, arch, seed, baseline, target, baseline_path, arch_config, folder, device, progress)
            cache = StepCache(folder, config, ledger, setup.label, log)
            entry = run_seed(setup, cache)
            if seed == 0:
                artifacts[arch] = seed_artifacts(setup, cache, entry)
                write_rankings(entry["rankings"], setup.index, out_dir / "filters" / arch, config.degradations)
            for name, value in entry.items():
                per_seed[name].append(value)
            if ledger.reused[setup.label]:
                log(reused_sentence(setup.label, ledger.reused[setup.label]))
        per_arch[arch] = aggregate(per_seed)
    seeds = config.step_seeds()
    spread = {step: "seeds" if seeds[step] > 1 else "images" for step in ("masking", "ablation", "retrain")}
    spread["models"] = "seeds"  # the mean over seeds of each seed's mean over the images
    findings = [finding for arch in config.archs for finding in judge(arch, per_arch[arch], spread, seeds,
                                                                             config.degradations)]
    ledger.seconds["total_compute"] = sum(ledger.seconds.values())
    ledger.cpu_seconds["total_compute"] = sum(ledger.cpu_seconds.values())
    results = Results(per_arch, findings, spread,
                      {**config.to_dict(), "models_trained_here": trained,
                       "models_source": models_source(weights, config.mix),
                       "command": rerun_command(config, weights),
                       "torch": torch.__version__, "threads": torch.get_num_threads()},
                      {k: round(v, 3) for k, v in ledger.seconds.items()},
                      {k: round(v, 3) for k, v in ledger.cpu_seconds.items()})
    report_began = time.perf_counter()
    write_report(results, artifacts, out_dir)
    results.timing["report"] = round(time.perf_counter() - report_began, 3)
    results.timing["wall_this_invocation"] = round(time.perf_counter() - began, 3)
    write_json(out_dir / "results.json", results.to_json())
    log(f"{results.holding()} of {len(results.findings)} findings hold; wrote report.html, report.md and "
        f"results.json to {out_dir}")
    return results
