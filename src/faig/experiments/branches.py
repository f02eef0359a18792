"""One branch against two at equal computation: Sec. 3, Table 1 and Fig. 1 of the paper.

The paper trains two-branch blind-SR networks (DAN, DASR: a degradation branch conditioning a
restoration branch) and a one-branch SRResNet-noBN whose number of residual blocks is adjusted to
the same FLOPs and parameters, in each method's blur and blur+noise settings, and finds the one
branch as good (Table 1: e.g. DAN blur 26.168 against 26.182 dB). Here the two-branch networks are
the scaled-down DAN-style and DASR-style networks of ``faig.models.dan`` and ``faig.models.dasr``,
the one-branch network is faig's SRResNet matched within 5% of FLOPs (``faig.experiments.flops``),
and every network of a comparison is trained by ``faig.training.two_branch.train_network`` on the
same batches (one seeded generator), degradations, steps and schedule (Adam, cosine learning rate,
EMA of the weights, as ``faig train``); the two-branch networks add their own losses (DAN: L1 on the
degradation code; DASR: MoCo's contrastive loss, the encoder trained alone for the first sixth of
the steps, as DASR pre-trains it). PSNR on RGB (``faig.evaluate.score_pairs``) over the ``test``
split, mean ± std over seeds.

The settings follow each method's protocol at the chosen scale s (isotropic 21x21 Gaussian blur,
Eq. 1): training blur sigma on a 10-point grid over [0.2, s] (the DAN and DASR papers' ranges:
[0.2, 2] at x2, [0.2, 4] at x4; their released x2 scripts train on [0.2, 4]) and, for blur+noise,
noise sigma on a 6-point grid over [0, 0.1] (DASR's 0-25 of 255); test blur from DAN's Gaussian8
widths (8 sigmas over [0.8, 1.6] at x2, [1.35, 2.4] at x3, [1.8, 3.2] at x4) or, for DASR, sigmas
spread over the training range (6 from 0.15 s to 0.9 s; 3 with noise); with noise, each sigma with noise 5, 15 and 25 of 255. Each test image is
degraded by a fixed few of these (round robin, seeded).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch
from torch import nn

from faig.data.degradations import Degradation, DegradationSampler, degrade_image
from faig.data.layout import Pair
from faig.data.patches import check_patchable
from faig.data.splits import NamedImage, load_images
from faig.devices import resolve_device
from faig.errors import FaigError
from faig.evaluate import score_pairs
from faig.experiments.common import mean_std
from faig.experiments.flops import INPUT_SIZE, TOLERANCE, Complexity, Match, complexity, match_one_branch
from faig.files import check_writable_dir, exclusive, write_json, write_tensors
from faig.models.dan import DAN, NOISE_SIGMA_MAX, DANConfig
from faig.models.dasr import DASR, DASRConfig
from faig.models.interpolation import Bicubic
from faig.models.registry import ArchConfig, build_model
from faig.training.config import TrainConfig
from faig.training.two_branch import (Objective, TwoBranchLosses, dan_objective, dasr_objective, l1_objective,
                                     train_network)

METHODS: tuple[str, ...] = ("dan", "dasr")
SETTINGS: tuple[str, ...] = ("blur", "blur+noise")
NETWORK_NAMES = {"dan": "DAN-style", "dasr": "DASR-style", "one_branch": "SRResNet"}

# Table 1 of the paper: PSNR (dB, RGB) mean and std over seeds, (method, setting) -> network -> (mean, std).
PAPER_TABLE1: dict[tuple[str, str], dict[str, tuple[float, float]]] = {
    ("dan", "blur"): {"two_branch": (26.168, 0.009), "one_branch": (26.182, 0.011)},
    ("dan", "blur+noise"): {"two_branch": (27.341, 0.072), "one_branch": (27.288, 0.027)},
    ("dasr", "blur"): {"two_branch": (27.518, 0.034), "one_branch": (27.573, 0.010)},
    ("dasr", "blur+noise"): {"two_branch": (25.116, 0.012), "one_branch": (25.143, 0.013)},
}

# A Table 1 training in progress is saved this often (and on SIGINT/SIGTERM): a lent GPU's call lasts
# at most 10 minutes, and a CPU run goes on across sessions.
TABLE1_CHECKPOINT_MINUTES = 2.0
# Part of every kept training's key (:func:`run_key`): raise it with any change to Table 1's networks,
# losses or training, so that a rerun trains again rather than mixing runs of two versions in one
# table. 2: DASR's positive keys are other patches of the sample's image (1: crops of the sample);
# 3: on a CPU the networks train in channels-last memory (other rounding).
TABLE1_CODE_VERSION = 3
GAUSSIAN8_RANGES = {2: (0.8, 1.6), 3: (1.35, 2.4), 4: (1.8, 3.2)}
TEST_NOISE = (5 / 255, 15 / 255, 25 / 255)


def _grid(low: float, high: float, count: int) -> tuple[float, ...]:
    return tuple(round(float(x), 4) for x in torch.linspace(low, high, count))


@dataclass(frozen=True)
class Setting:
    """One column of Table 1: a method's protocol for one degradation setting (``blur`` or
    ``blur+noise``): the training mix and the fixed test degradations."""

    method: str
    name: str
    train: DegradationSampler
    test: tuple[Degradation, ...]


def setting(method: str, name: str, scale: int) -> Setting:
    """The training mix and test degradations of ``method``'s ``name`` setting at ``scale``.

    Example:
        >>> s = setting("dan", "blur", 2)
        >>> s.train.blur_sigmas[0], s.train.blur_sigmas[-1], s.train.noise_prob, len(s.test)
        (0.2, 2.0, 0.0, 8)
    """
    if method not in METHODS:
        raise FaigError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")
    if name not in SETTINGS:
        raise FaigError(f"unknown setting {name!r}; choose from {', '.join(SETTINGS)}")
    if scale not in GAUSSIAN8_RANGES:
        raise FaigError(f"scale must be 2, 3 or 4, not {scale}")
    noisy = name == "blur+noise"
    train = DegradationSampler(scale=scale, blur_prob=1.0, blur_sigmas=_grid(0.2, scale, 10),
                               noise_prob=1.0 if noisy else 0.0, noise_sigmas=_grid(0.0, NOISE_SIGMA_MAX, 6))
    if method == "dan":
        blurs = _grid(*GAUSSIAN8_RANGES[scale], 8)
    else:
        blurs = _grid(0.15 * scale, 0.9 * scale, 6 if not noisy else 3)
    noises = TEST_NOISE if noisy else (None,)
    test = tuple(Degradation(scale, blur, noise) for blur in blurs for noise in noises)
    return Setting(method, name, train, test)


def evaluation_pairs(images: list[NamedImage], degradations: tuple[Degradation, ...], per_image: int,
                     seed: int = 0) -> list[Pair]:
    """LR/HR pairs: image i degraded by test degradations i·p ... i·p + p - 1 (mod their number), with
    a fixed noise seed per image and degradation, so every network sees the same inputs.

    Example:
        >>> image = NamedImage("tile", torch.rand(1, 3, 12, 12))
        >>> [p.name for p in evaluation_pairs([image, image], (Degradation(2, 1.0), Degradation(2, 2.0)), 1)]
        ['tile/0', 'tile/1']
    """
    pairs = []
    for index, image in enumerate(images):
        for offset in range(per_image):
            k = (index * per_image + offset) % len(degradations)
            name = f"{image.name}/{k}"
            pairs.append(Pair(name, degrade_image(image.hr, name, degradations[k], seed), image.hr))
    return pairs


@dataclass(frozen=True)
class BranchesConfig:
    """Everything a Table 1 run depends on; saved beside its results.

    ``steps``, ``batch_size``, ``gt_size``, ``lr``: the one schedule every network gets; ``seeds``:
    training runs per network; ``input_size``: the LR side FLOPs are counted at; ``tolerance``: the
    FLOP matching's; ``test_stride``/``tests_per_image``: every n-th test image, degraded by that many
    of the setting's test degradations.
    """

    scale: int = 2
    steps: int = 10_000
    batch_size: int = 16
    gt_size: int = 64
    lr: float = 5e-4
    seeds: int = 3
    methods: tuple[str, ...] = METHODS
    settings: tuple[str, ...] = SETTINGS
    dan: DANConfig = field(default_factory=DANConfig)
    dasr: DASRConfig = field(default_factory=DASRConfig)
    losses: TwoBranchLosses = field(default_factory=TwoBranchLosses)
    input_size: int = INPUT_SIZE
    tolerance: float = TOLERANCE
    test_stride: int = 1
    tests_per_image: int = 2

    def __post_init__(self) -> None:
        if self.dan.scale != self.scale or self.dasr.scale != self.scale:
            raise FaigError(f"the DAN and DASR configs must have scale {self.scale}, "
                            f"not {self.dan.scale} and {self.dasr.scale}")
        for name in ("steps", "batch_size", "seeds", "test_stride", "tests_per_image"):
            if getattr(self, name) < 1:
                raise FaigError(f"{name} must be at least 1, got {getattr(self, name)}")
        for method in self.methods:
            if method not in METHODS:
                raise FaigError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")

    def to_dict(self) -> dict:
        return asdict(self)

    def train_config(self, arch: ArchConfig, sampler: DegradationSampler, seed: int) -> TrainConfig:
        """The schedule of one comparison, shared by both of its networks: ``arch`` names the
        one-branch network, stage ``target`` means trained on the blind mix (from scratch here)."""
        return TrainConfig(arch=arch, stage="target", steps=self.steps, lr=self.lr, batch_size=self.batch_size,
                           gt_size=self.gt_size, degradations=sampler, val_every=0,
                           checkpoint_every=self.steps, seed=seed)


FULL = BranchesConfig()
QUICK = replace(FULL, steps=20, batch_size=4, gt_size=48, seeds=1, test_stride=6, tests_per_image=1)


def two_branch(method: str, config: BranchesConfig) -> nn.Module:
    """A freshly initialised two-branch network of ``method`` (``dan`` or ``dasr``).

    Example:
        >>> type(two_branch("dasr", FULL)).__name__
        'DASR'
    """
    return DAN(config.dan) if method == "dan" else DASR(config.dasr)


def _restorer_width(method: str, config: BranchesConfig) -> int:
    return config.dan.width if method == "dan" else config.dasr.width


def network_and_objective(kind: str, method: str, config: BranchesConfig, match: Match, seed: int,
                          train_images: list[NamedImage]) -> tuple[nn.Module, Objective]:
    """One Table 1 network, freshly initialised from the global seed, and the loss it trains with:
    ``kind`` ``two_branch`` is ``method``'s network with its own loss (DAN's on the SR image and the
    code; DASR's contrastive plus L1), ``one_branch`` the FLOP-matched SRResNet ``match`` with L1."""
    if kind == "one_branch":
        return build_model(match.arch), l1_objective
    if method == "dan":
        return two_branch(method, config), dan_objective(config.losses)
    return two_branch(method, config), dasr_objective(config.losses, config.steps, seed, train_images)


def budgets(config: BranchesConfig) -> dict[str, tuple[Complexity, Match]]:
    """Each method's two-branch complexity and its FLOP-matched one-branch SRResNet."""
    result = {}
    for method in config.methods:
        target = complexity(two_branch(method, config), config.input_size)
        result[method] = (target, match_one_branch(target, config.scale, _restorer_width(method, config),
                                                   config.tolerance))
    return result


def _summary(results: list[dict]) -> dict:
    psnrs = [result["psnr"] for result in results]
    runs = [result["run"] for result in results]
    return {"psnr": mean_std(psnrs), "psnrs": [round(p, 4) for p in psnrs],
            "train_seconds": [run["train_seconds"] for run in runs],
            "devices": sorted({segment["device"] for run in runs for segment in run["segments"]}),
            "seconds_per_step": round(sum(run["seconds_per_step"] for run in runs) / len(runs), 4),
            "final_loss": [run["final_loss"] for run in runs]}


def run_key(config: BranchesConfig) -> dict:
    """What a cached training result depends on: the whole config but the number of seeds, as JSON
    would store it (so more seeds reuse the runs already made), and :data:`TABLE1_CODE_VERSION`."""
    data = config.to_dict()
    del data["seeds"]
    return json.loads(json.dumps({**data, "code_version": TABLE1_CODE_VERSION}))


def kept_trainings(out_dir: str | os.PathLike, config: BranchesConfig) -> int:
    """How many of ``config``'s trainings (:func:`trainings`) ``out_dir/runs/`` holds finished under
    its key (a run kept under another configuration or code version does not count)."""
    key = run_key(config)
    return sum(kept_run(run_file(Path(out_dir) / "runs", *training), key) is not None
               for training in trainings(config))


def kept_run(path: Path, key: dict) -> dict | None:
    """The result a finished training kept at ``path`` (a :func:`run_file`), if it was made under ``key``."""
    if not path.is_file():
        return None
    stored = json.loads(path.read_text())
    return stored if stored.get("key") == key else None


def _train_and_score(kind: str, method: str, chosen: Setting, config: BranchesConfig, match: Match, seed: int,
                     train_images: list[NamedImage], pairs: list[Pair], device: torch.device, progress: bool,
                     cache: Path) -> dict:
    """One network trained with one seed and scored, or its result read from ``cache`` (a JSON
    beside the EMA weights, ``.safetensors``) when that was made under the same config. One process
    at a time trains it (:func:`faig.files.exclusive`): two shards given the same training refuse."""
    key = run_key(config)
    with exclusive(checkpoint_file(cache), "Table 1 training"):
        stored = kept_run(cache, key)
        if stored is not None:
            checkpoint_file(cache).unlink(missing_ok=True)  # left by a run stopped right after its result
            return stored
        torch.manual_seed(seed)
        model, objective = network_and_objective(kind, method, config, match, seed, train_images)
        label = f"{NETWORK_NAMES[method if kind == 'two_branch' else kind]} {method} {chosen.name} seed {seed}"
        ema, run = train_network(model, objective, config.train_config(match.arch, chosen.train, seed),
                                 train_images, device, progress, label, checkpoint_file(cache), key,
                                 TABLE1_CHECKPOINT_MINUTES)
        result = {"key": key, "psnr": score_pairs(ema, pairs, config.scale, with_ssim=False)["psnr"], "run": run}
        write_tensors(cache.with_suffix(".safetensors"), ema.state_dict(), {"table1_key": json.dumps(key)})
        write_json(cache, result)
        checkpoint_file(cache).unlink(missing_ok=True)
        return result


KINDS = ("two_branch", "one_branch")


def run_file(runs_dir: Path, method: str, name: str, kind: str, seed: int) -> Path:
    """Where one training's result is kept: ``<method>_<setting>_<kind>_seed<n>.json`` (its EMA
    weights beside it, ``.safetensors``)."""
    return runs_dir / f"{method}_{name.replace('+', '_')}_{kind}_seed{seed}.json"


def checkpoint_file(run: Path) -> Path:
    """Where the unfinished training of ``run`` (a :func:`run_file`) is kept: ``checkpoints/`` beside it."""
    return run.parent / "checkpoints" / f"{run.stem}.pt"


def trainings(config: BranchesConfig) -> list[tuple[str, str, str, int]]:
    """Every training of a Table 1 run, (method, setting, kind, seed), in the order shards take them:
    seed by seed, so that every network has its first seed before any has its second, and a run with
    fewer ``seeds`` (an interim table) finds its trainings first.

    Example:
        >>> trainings(replace(FULL, seeds=2, methods=("dan",)))[:3]
        [('dan', 'blur', 'two_branch', 0), ('dan', 'blur', 'one_branch', 0), ('dan', 'blur+noise', 'two_branch', 0)]
    """
    return [(method, name, kind, seed) for seed in range(config.seeds) for method in config.methods
            for name in config.settings for kind in KINDS]


def compare(method: str, name: str, config: BranchesConfig, target: Complexity, match: Match,
            train_images: list[NamedImage], test_images: list[NamedImage], device: torch.device,
            progress: bool, runs_dir: Path) -> dict:
    """One Table 1 cell pair: the two-branch network and its one-branch match, trained ``seeds``
    times each under the same schedule, scored on the same test pairs; each training's result is
    kept in ``runs_dir`` (:func:`run_file`) and reused."""
    chosen = setting(method, name, config.scale)
    pairs = evaluation_pairs(test_images, chosen.test, config.tests_per_image)
    results = {
        kind: _summary([_train_and_score(kind, method, chosen, config, match, seed, train_images, pairs, device,
                                         progress, run_file(runs_dir, method, name, kind, seed))
                        for seed in range(config.seeds)])
        for kind in KINDS
    }
    paper = PAPER_TABLE1[(method, name)]
    return {
        "method": method, "setting": name,
        "train_degradations": asdict(chosen.train), "test_degradations": [asdict(d) for d in chosen.test],
        "test_pairs": len(pairs),
        "bicubic_psnr": score_pairs(Bicubic(config.scale), pairs, config.scale, with_ssim=False)["psnr"],
        "two_branch": {"network": NETWORK_NAMES[method], **target.to_dict(), **results["two_branch"]},
        "one_branch": {"network": NETWORK_NAMES["one_branch"], **match.to_dict(), **results["one_branch"]},
        "paper": {kind: {"mean": mean, "std": std} for kind, (mean, std) in paper.items()},
    }


def run_branches(out_dir: str | os.PathLike, quick: bool = False, seeds: int | None = None,
                 device: str | None = None, progress: bool = True, steps: int | None = None,
                 config: BranchesConfig | None = None, shard: tuple[int, int] | None = None) -> dict:
    """Sec. 3's comparison: Table 1 as ``out_dir/branches.json`` (plain data; Fig. 1 and the report
    are drawn from it by :func:`faig.report.branches.write_branches_report`).

    Every training run's PSNR and EMA weights are kept in ``out_dir/runs/``; a rerun with the same
    configuration (any number of seeds) reuses them, and a training in progress is checkpointed in
    ``out_dir/runs/checkpoints/`` (every :data:`TABLE1_CHECKPOINT_MINUTES` and on SIGINT/SIGTERM), so a long
    run can be stopped anywhere and continued, across sessions or machines, by the same call.

    Args:
        out_dir: where the files go.
        quick: the :data:`QUICK` settings (20 steps of 4 patches, one seed, 7 test images) instead
            of :data:`FULL`.
        seeds, steps: override the config's.
        device: ``cpu``, ``cuda``, ``cuda:N`` (None: CUDA when present).
        progress: show a progress bar per training run.
        config: the whole configuration (``quick`` is then ignored).
        shard: ``(i, n)``: train only the i-th of every n trainings (:func:`trainings`' order) and
            keep them in ``out_dir/runs/``, writing no table, so that n processes can share a GPU;
            a run without ``shard`` then reads them all.

    Returns:
        The JSON's content: ``{"config", "networks", "table", "seconds", "device", "torch"}``; each
        table row holds one (method, setting) pair's PSNR mean/std over seeds, FLOPs, parameters,
        step times and the paper's numbers. With ``shard``: ``{"trained": [run file names]}``.

    Raises:
        FaigError: a shard outside ``0 <= i < n``.

    Example:
        >>> run_branches("runs/branches/quick", quick=True)  # doctest: +SKIP
    """
    if shard is not None and not 0 <= shard[0] < shard[1]:
        raise FaigError(f"shard {shard[0]}/{shard[1]}: give i/n with 0 <= i < n")
    config = config or (QUICK if quick else FULL)
    if seeds is not None:
        config = replace(config, seeds=seeds)
    if steps is not None:
        config = replace(config, steps=steps)
    check_writable_dir(out_dir)
    out_dir = Path(out_dir)
    torch_device = resolve_device(device)
    began = time.time()
    train_images = load_images("train", None, config.scale)
    check_patchable(train_images, config.gt_size)
    test_images = load_images("test", None, config.scale)[::config.test_stride]
    found = budgets(config)
    if shard is not None:
        return _train_shard(config, shard, found, train_images, test_images, torch_device, progress, out_dir / "runs")
    table = [compare(method, name, config, *found[method], train_images, test_images, torch_device, progress,
                     out_dir / "runs")
             for method in config.methods for name in config.settings]
    result = {
        "config": config.to_dict(),
        "networks": {method: {"two_branch": target.to_dict(), "one_branch": match.to_dict()}
                     for method, (target, match) in found.items()},
        "table": table, "test_images": [image.name for image in test_images],
        "seconds": round(time.time() - began, 1), "device": str(torch_device), "torch": torch.__version__,
    }
    write_json(out_dir / "branches.json", result)
    return result


def _train_shard(config: BranchesConfig, shard: tuple[int, int], found: dict[str, tuple[Complexity, Match]],
                 train_images: list[NamedImage], test_images: list[NamedImage], device: torch.device,
                 progress: bool, runs_dir: Path) -> dict:
    """The trainings of one shard, each kept in ``runs_dir`` as :func:`compare` keeps them."""
    index, count = shard
    trained = []
    for method, name, kind, seed in trainings(config)[index::count]:
        chosen = setting(method, name, config.scale)
        pairs = evaluation_pairs(test_images, chosen.test, config.tests_per_image)
        path = run_file(runs_dir, method, name, kind, seed)
        _train_and_score(kind, method, chosen, config, found[method][1], seed, train_images, pairs, device,
                         progress, path)
        trained.append(path.name)
    return {"trained": trained}


def psnr_text(network: dict) -> str:
    """One network's Table 1 cell: its PSNR mean ± sample std over seeds, the mean alone when a
    single seed was trained (an interim table: no spread to show).

    Example:
        >>> psnr_text({"psnr": {"mean": 26.1684, "std": 0.0091}, "psnrs": [26.16, 26.17, 26.18]})
        '26.168 ± 0.009'
        >>> psnr_text({"psnr": {"mean": 26.1684, "std": 0.0}, "psnrs": [26.1684]})
        '26.168'
    """
    mean, spread = f"{network['psnr']['mean']:.3f}", f"{network['psnr']['std']:.3f}"
    return mean if len(network["psnrs"]) == 1 else f"{mean} ± {spread}"


def format_branches(result: dict) -> str:
    """Table 1 as plain text: PSNR mean ± std per (method, setting), two-branch against one-branch,
    with their GFLOPs, parameters and the paper's numbers.

    Example:
        >>> row = {"method": "dan", "setting": "blur", "bicubic_psnr": 25.0,
        ...        "two_branch": {"psnr": {"mean": 26.0, "std": 0.1}, "psnrs": [25.9, 26.1], "flops": 2e9,
        ...                       "params": 5e4},
        ...        "one_branch": {"psnr": {"mean": 26.2, "std": 0.0}, "psnrs": [26.2, 26.2], "flops": 2e9,
        ...                       "params": 2e5},
        ...        "paper": {"two_branch": {"mean": 26.168, "std": 0.009},
        ...                  "one_branch": {"mean": 26.182, "std": 0.011}}}
        >>> print(format_branches({"table": [row], "config": {"seeds": 2, "steps": 5}}).splitlines()[2])
        dan   blur        26.000 ± 0.100  26.200 ± 0.000  +0.200   25.000   2.00 /  2.00   50k / 200k  26.168 / 26.182
    """
    seeds = result["config"]["seeds"]
    spread = f"mean ± sample std over {seeds} seeds" if seeds > 1 else "one seed: no spread"
    header = f"Table 1 (PSNR dB on RGB, {spread}, {result['config']['steps']} steps each)"
    columns = (f"{'method':5s} {'setting':10s}  {'two-branch':14s}  {'one-branch':14s}  {'1b-2b':6s}  "
               f"{'bicubic':7s}  GFLOPs 2b/1b  params 2b/1b  paper 2b / 1b")
    lines = [header, columns]
    for row in result["table"]:
        two, one, paper = row["two_branch"], row["one_branch"], row["paper"]
        lines.append(
            f"{row['method']:5s} {row['setting']:10s}  {psnr_text(two):14s}  {psnr_text(one):14s}  "
            f"{one['psnr']['mean'] - two['psnr']['mean']:+6.3f}  {row['bicubic_psnr']:7.3f}  "
            f"{two['flops'] / 1e9:5.2f} / {one['flops'] / 1e9:5.2f}  "
            f"{two['params'] / 1e3:3.0f}k / {one['params'] / 1e3:3.0f}k  "
            f"{paper['two_branch']['mean']:.3f} / {paper['one_branch']['mean']:.3f}")
    return "\n".join(lines)
