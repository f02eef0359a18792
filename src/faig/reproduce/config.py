"""What a ``faig reproduce`` run does: its configuration, the quick settings, and the command line
that reruns it. The configuration is saved in results.json (``config``) beside the results."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from faig.data.degradations import mix_kinds, variant, variant_parts
from faig.data.patches import check_patchable
from faig.data.splits import SPLITS, load_images
from faig.errors import FaigError
from faig.experiments.masking import PAPER_PERCENTS
from faig.experiments.modulation import PAPER_LAMBDAS
from faig.experiments.retrain import RetrainConfig
from faig.models.registry import check_arch, check_preset, preset_archs, shipped_archs
from faig.names import DEGRADATIONS


ALL_IMAGES = 0  # an image count of 0 takes the whole split


@dataclass(frozen=True)
class ReproduceConfig:
    """Everything a reproduction run does; saved in results.json. Image counts of
    :data:`ALL_IMAGES` (0) take the whole split.

    ``seeds`` seeds run every step; re-training and prediction run for the first ``retrain_seeds``
    and ``prediction_seeds`` of them. ``steps`` are the quadrature nodes of Eq. 6 for the rankings,
    ``prediction_steps`` those of each input's own filter set (Eq. 8). ``degradations`` are the
    ones whose filters are found, one against the rest (Eq. 7): the paper's blur and noise, or N of
    them (``blur,noise,jpeg``), each a re-training task and a label of Eq. 8.
    """

    preset: str = "embedded"
    archs: tuple[str, ...] = field(default_factory=lambda: shipped_archs("embedded"))
    degradations: tuple[str, ...] = DEGRADATIONS
    quick: bool = False
    seeds: int = 3
    retrain_seeds: int = 1
    prediction_seeds: int = 1
    quadrature: str = "gausslegendre"
    steps: int = 8
    discover_images: int = ALL_IMAGES
    percents: tuple[float, ...] = PAPER_PERCENTS
    table_percents: tuple[float, ...] = (1.0, 5.0)
    retrain: RetrainConfig = field(default_factory=RetrainConfig)
    test_images: int = ALL_IMAGES
    prediction_percent: float = 1.0
    # Eq. 8's nodes by benchmarks/quadrature_study.py's rule (fixed before it ran): the fewest within a point of
    # the best accuracy on every embedded network, 2 since srcnn_style's paper-regime weights (8 before).
    prediction_steps: int = 2
    calibrate_images: int = ALL_IMAGES
    prediction_test_images: int = ALL_IMAGES
    modulation_images: int = 8
    lambdas: tuple[float, ...] = PAPER_LAMBDAS
    strip_lambdas: tuple[float, ...] = (0.0, 0.5, 1.0, 1.5)
    level_study: bool = True  # beyond the paper: each degradation's kind at several levels (first seed)
    folders: tuple[tuple[str, str], ...] = ()  # (split, folder of HR images) replacing embedded splits

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def mix(self) -> tuple[str, ...]:
        """The kinds beyond the paper's blur and noise that the target must have been fine-tuned on
        (``("jpeg",)`` for ``blur,noise,jpeg``): they pick the embedded target of the wider mix."""
        return mix_kinds(self.degradations)

    def folder(self, split: str) -> str | None:
        """The user's folder that plays ``split``'s role (the paper's protocol on DIV2K-train, Set14,
        BSD100, DIV2K-val), or None for the embedded split."""
        return dict(self.folders).get(split)

    def step_seeds(self) -> dict[str, int]:
        """How many seeds each step whose results are judged runs with."""
        return {"models": self.seeds, "masking": self.seeds, "ablation": self.seeds, "retrain": self.retrain_seeds,
                "prediction": self.prediction_seeds}


# ``--quick``: a smoke test of every step in a few minutes on two CPU cores, not the paper's protocol
# (4 discover images, 4 quadrature nodes, 8 re-training steps, one seed).
QUICK: dict[str, Any] = dict(
    seeds=1, retrain_seeds=1, prediction_seeds=1, steps=4, discover_images=4, percents=(0.5, 1.0, 5.0, 20.0, 100.0),
    retrain=RetrainConfig(steps=8, batch_size=4, gt_size=32), test_images=6, prediction_steps=2, calibrate_images=4,
    prediction_test_images=4, modulation_images=2, lambdas=(0.0, 0.5, 1.0, 1.5))


def check_degradations(names: tuple[str, ...]) -> tuple[str, ...]:
    """The degradations of a reproduction run, checked: at least two (Eq. 7 eliminates the others),
    each one kind at one level (``blur``, ``noise0.05``, ``jpeg50``), no kind twice (Eq. 8's labels
    are kinds: a ``blur1`` input contains blur as a ``blur3`` one does).

    Example:
        >>> check_degradations(("blur", "noise", "jpeg"))
        ('blur', 'noise', 'jpeg')

    Raises:
        FaigError: fewer than two, ``clean`` or a ``+`` combination, an unknown name or a kind twice.
    """
    names = tuple(name.strip() for name in names)
    for name in names:  # an unknown name first: "needs two" would hide the typo
        variant(name)
    if len(names) < 2:
        raise FaigError(f"--degradations needs at least two (Eq. 7 eliminates the others), "
                        f"got {','.join(names) or 'none'}")
    kinds = []
    for name in names:
        parts = variant_parts(name)
        if len(parts) != 1:
            raise FaigError(f"--degradations takes single degradations (blur, noise0.05, jpeg), not {name!r}")
        kinds += list(parts)
    if len(set(kinds)) != len(kinds):
        raise FaigError(f"--degradations names a kind twice ({','.join(names)}); the level study compares levels")
    return names


def make_config(preset: str = "embedded", archs: tuple[str, ...] | None = None, quick: bool = False,
                seeds: int | None = None, retrain_steps: int | None = None, retrain_seeds: int | None = None,
                prediction_seeds: int | None = None, folders: dict[str, str] | None = None,
                degradations: tuple[str, ...] | None = None, level_study: bool = True) -> ReproduceConfig:
    """The default (or ``quick``) configuration with the command line's overrides, checked.

    Args:
        preset: ``embedded`` or ``paper``.
        archs: architectures to run (None: those the preset ships weights for, for a wider mix its
            target; when none ships that target, those shipping a pair, whose targets the run then
            fine-tunes on the mix; all of the preset's when it ships nothing, trained by the run).
        degradations: whose filters are found (None: the paper's blur and noise); see
            :func:`check_degradations`.
        level_study: run the level study (beyond the paper; about a fifth of the compute).
        quick: start from :data:`QUICK` instead of the full protocol.
        seeds, retrain_steps, retrain_seeds, prediction_seeds: overrides (None: the default's).
        folders: split -> folder of HR images (or an official layout with ``GTmod12/``) that takes
            that split's role: ``train``, ``discover``, ``calibrate``, ``test``.

    Returns:
        The configuration; ``retrain_seeds`` and ``prediction_seeds`` at most ``seeds``.

    Raises:
        FaigError: an unknown preset or architecture, no architecture, a count below 1, an unknown
            split, a folder that does not exist, or degradations :func:`check_degradations` refuses.

    Example:
        >>> config = make_config(quick=True, seeds=2, retrain_steps=50)
        >>> config.archs, config.seeds, config.retrain.steps
        (('srresnet', 'srcnn_style', 'swinir'), 2, 50)
    """
    degradations = check_degradations(DEGRADATIONS if degradations is None else tuple(degradations))
    check_preset(preset)
    if archs is None:  # those whose models the preset ships: the wider mix's target, else the pair (its target
        # then fine-tuned here on the mix), else all of them, trained here
        archs = shipped_archs(preset, mix_kinds(degradations)) or shipped_archs(preset) or preset_archs(preset)
    archs = tuple(check_arch(a) for a in archs)
    config = ReproduceConfig(preset=preset, archs=archs, quick=quick, degradations=degradations,
                             level_study=level_study, **(QUICK if quick else {}))
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
    chosen = {split: str(folder) for split, folder in (folders or {}).items() if folder is not None}
    for split, folder in chosen.items():
        if split not in SPLITS:
            raise FaigError(f"unknown split {split!r} for a folder; choose from {', '.join(SPLITS)}")
        if not folder or not Path(folder).is_dir():  # '' would be the current folder
            raise FaigError(f"--{split}-dir {folder!r} is not a folder")
    roles: dict[Path, str] = {}
    for split, folder in sorted(chosen.items()):
        other = roles.setdefault(Path(folder).resolve(), split)
        if other != split:  # e.g. thresholds fitted on the very images they are then tested on
            raise FaigError(f"--{other}-dir and --{split}-dir name the same folder ({folder}): each role needs "
                            "its own images, or the measurement grades what it was fitted on")
    config = replace(config, folders=tuple(sorted(chosen.items())))
    return replace(config, retrain_seeds=min(config.retrain_seeds, config.seeds),
                   prediction_seeds=min(config.prediction_seeds, config.seeds))


def check_folders(config: ReproduceConfig, scale: int) -> None:
    """Read every user folder as the run will (its HR images, mod-cropped to ``scale``), so that a
    folder without images, with an unreadable one, or with one too small for ``scale`` (or, in the
    ``train`` role, for the re-training patch) is refused before any work, with the error the run's
    own load would give hours later. The price: each folder is decoded once more (about a minute
    for DIV2K's 800 training images), also by a rerun whose steps are all cached.

    Raises:
        FaigError: from :func:`~faig.data.splits.load_images` or
            :func:`~faig.data.patches.check_patchable`, naming the file or folder.
    """
    for split, folder in config.folders:
        images = load_images(split, folder, scale)
        if split == "train":
            check_patchable(images, config.retrain.gt_size)


def rerun_command(config: ReproduceConfig, weights: str | os.PathLike | tuple | None = None) -> str:
    """The command line that reruns this configuration (on ``weights``: a folder, or a (baseline,
    target) pair of checkpoints).

    Example:
        >>> rerun_command(make_config(archs=("srresnet",), quick=True, seeds=2))
        'faig reproduce --preset embedded --arch srresnet --quick --seeds 2'
    """
    parts = ["faig reproduce", f"--preset {config.preset}", f"--arch {','.join(config.archs)}"]
    if config.degradations != DEGRADATIONS:
        parts.append(f"--degradations {','.join(config.degradations)}")
    if config.quick:
        parts.append("--quick")
    if not config.level_study:
        parts.append("--no-level-study")
    defaults = make_config(config.preset, config.archs, config.quick)
    for name in ("seeds", "retrain_seeds", "prediction_seeds"):
        if getattr(config, name) != getattr(defaults, name):
            parts.append(f"--{name.replace('_', '-')} {getattr(config, name)}")
    if config.retrain.steps != defaults.retrain.steps:
        parts.append(f"--retrain-steps {config.retrain.steps}")
    parts += [f"--{split}-dir {folder}" for split, folder in config.folders]
    if isinstance(weights, tuple):
        parts += [f"--baseline {weights[0]}", f"--target {weights[1]}"]
    elif weights is not None:
        parts.append(f"--weights {weights}")
    return " ".join(parts)
