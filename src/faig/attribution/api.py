"""The public entry points: :func:`attribute` (models and images in, :class:`Attribution` out) and
:func:`run_attribute` (everything ``faig attribute`` does: load, run, write)."""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Sequence

import torch
import torch.distributed as dist
from torch import nn
from torch.func import functional_call

from faig import __version__
from faig.attribution import distributed
from faig.attribution.baselines import abs_scores, random_ranking, ranking_scores
from faig.attribution.discriminative import discriminative_scores, set_scores
from faig.attribution.faig import (Networks, PathAttribution, equal_size_groups, faig_paths,
                                   lanes_per_call, networks)
from faig.attribution.filters import FilterIndex
from faig.attribution.groups import attention_heads, filter_groups
from faig.attribution.ig import ig_paths
from faig.attribution.quadrature import check_rule
from faig.attribution.result import Attribution, rank
from faig.attribution.store import save_attribution
from faig.cache import DiskCache, cached_rows, settings_key, tensor_key
from faig.checks import check_number, check_seed
from faig.data.degradations import mix_kinds, variant
from faig.data.layout import Pair, degraded_pairs
from faig.data.splits import NamedImage, load_images
from faig.errors import FaigError
from faig.files import check_writable_dir
from faig.models.checkpoints import load_pair
from faig.models.registry import checkpoint_pair
from faig.names import DEGRADATIONS, IMAGE_METHODS, METHODS, name_list

SUMMARIES: tuple[str, ...] = ("attribution_sum", "loss_target", "loss_baseline")  # per-image FAIG facts


@dataclass(frozen=True)
class AttributeConfig:
    """What a run computes; saved with its results. ``steps`` None: the quadrature's default;
    ``elimination`` None: Eq. 7 for faig, none for ig (as the official code)."""

    method: str = "faig"
    degradations: tuple[str, ...] = DEGRADATIONS
    quadrature: str | None = "gausslegendre"
    steps: int | None = None
    elimination: bool | None = None
    normalise: bool = True
    seed: int = 0
    memory_mb: float | None = None

    def resolved(self) -> "AttributeConfig":
        """Defaults filled in; a one-line FaigError for anything that cannot run."""
        if self.method not in METHODS:
            raise FaigError(f"unknown attribution method {self.method!r}; choose from {', '.join(METHODS)}")
        degradations = name_list(self.degradations)
        if not degradations:
            raise FaigError("no degradations named")
        if len(set(degradations)) != len(degradations):
            raise FaigError(f"a degradation is named twice: {','.join(degradations)}")
        for name in degradations:
            variant(name)
        check_seed("--seed", self.seed)
        if self.memory_mb is not None:
            check_number("--memory-mb", self.memory_mb, 0, open_low=True)
        steps = check_rule(self.quadrature, self.steps)  # for every method: a bad option is refused, never ignored
        if self.method not in IMAGE_METHODS:
            return replace(self, degradations=degradations, quadrature=None, steps=None, elimination=None)
        elimination = (self.method == "faig") if self.elimination is None else self.elimination
        if elimination and len(degradations) < 2:
            raise FaigError("Eq. 7 needs at least two degradations to eliminate the others; "
                            "name more, or ask for Eq. 6 alone (no elimination)")
        return replace(self, degradations=degradations, steps=steps, elimination=elimination)


def detect_scale(nets: Networks) -> int:
    """The network's upscaling factor, read off one small forward pass."""
    probe = torch.zeros(1, 3, 8, 8, device=nets.device)
    with torch.no_grad():
        return functional_call(nets.model, nets.target, (probe,)).shape[-1] // 8


def image_pairs(images: list[NamedImage], degradation: str, scale: int, seed: int,
                folder: str | os.PathLike | None) -> list[Pair]:
    """The LR/HR pairs of one degradation (a stored LR image of the wrong size is refused by
    :func:`faig.data.layout.degraded_pairs`)."""
    return degraded_pairs(images, variant(degradation, scale), seed, folder)


def image_tables(nets: Networks, images: list[NamedImage], config: AttributeConfig, scale: int,
                 folder: str | os.PathLike | None, cache_dir: str | os.PathLike | None,
                 context: distributed.Context, progress: bool,
                 label: str | None = None) -> tuple[dict[str, torch.Tensor], int]:
    """Per-image records of faig or ig for every (image, degradation), each computed once: batched
    over equal-size images, cached per image, sharded over the ranks; the progress bar says ``label``
    (default: the method). Returns the tables and the lanes per call used."""
    degradations, count = config.degradations, len(config.degradations)
    probe = image_pairs(images[:1], degradations[0], scale, config.seed, folder)[0]
    lanes = lanes_per_call(nets, probe.lr, probe.hr if config.method == "faig" else None, config.memory_mb)
    per_group = max(1, lanes // count)
    groups = equal_size_groups([tuple(image.hr.shape) for image in images], per_group)

    def inputs(group: list[int], degradation: str) -> list[Pair]:
        return image_pairs([images[i] for i in group], degradation, scale, config.seed, folder)

    def stacked(group: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """LR and HR batches of the group's items, image-major: (image 0, D_1), (image 0, D_2), ..."""
        per_degradation = [inputs(group, name) for name in degradations]
        items = [pairs[j] for j in range(len(group)) for pairs in per_degradation]
        return (torch.cat([pair.lr for pair in items]).to(nets.device),
                torch.cat([pair.hr for pair in items]).to(nets.device))

    def compute_faig(group: list[int]) -> dict[str, torch.Tensor]:
        result = faig_paths(nets, *stacked(group), config.quadrature, config.steps, lanes)
        return {"scores": result.scores.view(len(group), count, -1),
                **{name: getattr(result, name).view(len(group), count) for name in SUMMARIES}}

    def compute_ig(group: list[int]) -> dict[str, torch.Tensor]:
        clean = torch.cat([pair.lr for pair in inputs(group, "clean")]).repeat_interleave(count, 0)
        scores = ig_paths(nets, clean.to(nets.device), stacked(group)[0], config.quadrature, config.steps, lanes)
        return {"scores": scores.view(len(group), count, -1)}

    total = nets.index.total
    specs = {"scores": ((count, total), torch.float32)}
    if config.method == "faig":
        specs.update({name: ((count,), torch.float64) for name in SUMMARIES})
    compute = compute_faig if config.method == "faig" else compute_ig
    if cache_dir is not None:
        facts = {"method": config.method, "degradations": degradations, "quadrature": config.quadrature,
                 "steps": config.steps, "seed": config.seed, "scale": scale, "folder": str(folder),
                 "baseline": tensor_key(nets.baseline), "target": tensor_key(nets.target)}
        cache = DiskCache(Path(cache_dir) / settings_key(facts))  # what the records depend on, and nothing else
        compute = cached_rows(cache, compute, [f"{image.name}-{tensor_key({'hr': image.hr})}" for image in images],
                              specs)
    tables = distributed.gather_rows(len(images), groups, specs, compute, context, progress, label or config.method)
    return tables, lanes


def attribute(method: str, baseline: nn.Module, target: nn.Module, images: list[NamedImage],
              degradations: str | Sequence[str] = DEGRADATIONS, quadrature: str = "gausslegendre",
              steps: int | None = None, device: str | torch.device | None = None,
              cache_dir: str | os.PathLike | None = None, progress: bool = True, elimination: bool | None = None,
              normalise: bool = True, seed: int = 0, scale: int | None = None,
              folder: str | os.PathLike | None = None, memory_mb: float | None = None,
              label: str | None = None) -> Attribution:
    """Attribute the baseline -> target change to filters with ``faig`` (Eq. 7; Eq. 6 alone with
    ``elimination=False``), ``ig``, ``abs`` or ``random`` (Sec. 5.2), per degradation.

    ``images`` are HR images; each degradation's LR input is read from ``folder``'s official layout
    when there, else made by Eq. 1 with ``seed``. ``cache_dir`` keeps per-image results so that an
    interrupted run resumes; under ``torchrun`` the images are sharded over the ranks. ``label``
    names the progress bar (default: the method).

    Args:
        method: ``faig``, ``ig``, ``abs`` or ``random``.
        baseline, target: the networks θ̄ and θ (the target fine-tuned from the baseline).
        images: HR images (each 1 x 3 x H x W in [0, 1], H and W multiples of the scale).
        degradations: names of the Eq. 1 variants (``blur``, ``noise``, ``jpeg``, levels such as
            ``blur1``), as a list or a comma-separated string.
        quadrature, steps: the rule along the path and its number of nodes (default: the rule's).

    Returns:
        An :class:`Attribution`: per degradation, the scores (total,) and the ranking (best first),
        with ``faig`` also the per-image Eq. 6 scores and completeness gaps; ``metadata`` holds the
        settings and what the result was computed on.

    Raises:
        FaigError: an unknown method, degradation or rule, no images for an image-based method, or
            networks whose tensors do not line up.

    Example:
        >>> from faig.data.splits import NamedImage
        >>> from faig.models.registry import ArchConfig, build_model
        >>> _ = torch.manual_seed(0)
        >>> baseline, target = (build_model(ArchConfig("srresnet", 2, width=4, depth=1)) for _ in range(2))
        >>> images = [NamedImage("square", torch.rand(1, 3, 16, 16))]
        >>> result = attribute("faig", baseline, target, images, steps=4, progress=False)
        >>> result.degradations, result.rankings["blur"].shape, result.top("noise", 2.0).shape
        (('blur', 'noise'), torch.Size([136]), torch.Size([2]))
    """
    config = AttributeConfig(method, name_list(degradations), quadrature, steps, elimination, normalise, seed,
                             memory_mb).resolved()
    context = distributed.setup(device)
    try:
        started = time.perf_counter()
        nets = networks(baseline, target, context.device)
        per_image = gaps = None
        facts: dict = {}
        if config.method == "abs":
            shared = abs_scores(nets.baseline, nets.target, nets.index, config.normalise)
            scores = {name: shared for name in config.degradations}
        elif config.method == "random":
            scores = {name: ranking_scores(random_ranking(nets.index.total, config.seed, name))
                      for name in config.degradations}
        else:
            if not images:
                raise FaigError("no images to attribute: the image set is empty")
            scale = scale or detect_scale(nets)
            tables, lanes = image_tables(nets, images, config, scale, folder, cache_dir, context, progress, label)
            per_image = {name: tables["scores"][:, k] for k, name in enumerate(config.degradations)}
            scores = discriminative_scores(per_image) if config.elimination else set_scores(per_image)
            facts = {"scale": scale, "images": [image.name for image in images], "lanes_per_call": lanes}
            if config.method == "faig":
                paths = PathAttribution(tables["scores"], *(tables[name] for name in SUMMARIES))
                gaps = {name: paths.gap[:, k] for k, name in enumerate(config.degradations)}
                facts["completeness_gap"] = {name: {"mean": float(gap.mean()), "max": float(gap.max())}
                                             for name, gap in gaps.items()}
        metadata = {**asdict(config), "degradations": list(config.degradations), **facts,
                    "filters": nets.index.total, "filter_layout": nets.index.layout,
                    "baseline_hash": tensor_key(nets.baseline), "target_hash": tensor_key(nets.target),
                    "device": str(context.device),
                    "world_size": context.world_size, "seconds": round(time.perf_counter() - started, 3),
                    "faig_version": __version__}
        return Attribution(nets.index, scores, {name: rank(value) for name, value in scores.items()},
                           per_image, gaps, metadata)
    finally:
        distributed.teardown(context)


def run_attribute(out: str | os.PathLike, methods: str | Sequence[str] = "faig", *, preset: str = "embedded",
                  arch: str = "srresnet", baseline: str | os.PathLike | None = None,
                  target: str | os.PathLike | None = None, hr_dir: str | os.PathLike | None = None,
                  split: str = "discover", degradations: str | Sequence[str] = DEGRADATIONS,
                  quadrature: str = "gausslegendre", steps: int | None = None, elimination: bool | None = None,
                  normalise: bool = True, seed: int = 0, device: str | None = None,
                  memory_mb: float | None = None, cache: bool = True, progress: bool = True,
                  groups: str | Sequence[str] = ()) -> dict[str, Attribution]:
    """``faig attribute``: load the preset's (or the given) baseline and target (for degradations
    beyond blur and noise, the preset's target fine-tuned on them), the embedded split's (or
    ``hr_dir``'s) images (read for every method, so a bad one is refused even for ``abs`` and
    ``random``, which use none), run each method and write ``out/<method>/`` (attribution.safetensors,
    top1.csv, ``<degradation>_index.txt``, config.json, and per grouping named in ``groups``,
    ``output_channel`` or ``head``, its units ranked in ``units_<grouping>.csv``). Under ``torchrun``
    rank 0 writes.

    Returns:
        Per method, its :class:`Attribution` (metadata: the checkpoints and images it came from).

    Raises:
        FaigError: an unknown method, degradation or rule; only one of ``baseline`` and ``target``;
            unreadable or mismatched checkpoints; bad images; an output folder that cannot be written.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as out:
        ...     results = run_attribute(out, "abs,random", progress=False)
        ...     sorted(path.name for path in (Path(out) / "abs").iterdir())  # doctest: +NORMALIZE_WHITESPACE
        ['attribution.safetensors', 'blur_index.json', 'blur_index.txt', 'config.json',
         'noise_index.json', 'noise_index.txt', 'top1.csv']
    """
    chosen = name_list(methods)
    if not chosen:
        raise FaigError(f"no attribution method named; choose from {', '.join(METHODS)}")
    if len(set(chosen)) < len(chosen):
        raise FaigError(f"a method is named twice ({','.join(chosen)}): each writes one folder")
    if not normalise and "abs" not in chosen:
        raise FaigError("the plain |θ − θ̄| (--abs-plain) changes the abs method alone, and abs is not run")
    for method in chosen:
        AttributeConfig(method, name_list(degradations), quadrature, steps, elimination, normalise, seed,
                        memory_mb).resolved()
    check_writable_dir(out)
    baseline, target = checkpoint_pair(preset, arch, baseline, target, mix_kinds(name_list(degradations)))
    baseline_model, target_model, arch_config = load_pair(baseline, target)
    index = FilterIndex.from_module(target_model)
    groupings = {by: filter_groups(index, by, attention_heads(target_model)) for by in name_list(groups)}
    source = {"baseline": str(baseline), "target": str(target), "arch": arch_config.to_dict(),
              "images_from": str(hr_dir) if hr_dir is not None else f"embedded:{split}"}
    # abs and random need no images, but the split or folder named is read all the same: checked, never ignored
    images = load_images(split, hr_dir, scale=arch_config.scale)
    context = distributed.setup(device)
    try:
        results = {}
        for method in chosen:
            folder = Path(out) / method
            result = attribute(method, baseline_model, target_model, images, degradations, quadrature, steps,
                               device, folder / "cache" if cache else None, progress, elimination, normalise,
                               seed, arch_config.scale, hr_dir, memory_mb)
            results[method] = replace(result, metadata={**result.metadata, **source})
            if context.rank == 0:
                save_attribution(results[method], folder, groupings)
        if context.world_size > 1:
            dist.barrier()
        return results
    finally:
        distributed.teardown(context)
