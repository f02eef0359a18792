"""Modulating the discovered filters: controllable restoration without extra parameters.

θ_λ = θ̄ + λ(θ − θ̄) on the chosen filters and θ everywhere else (as the official
filter-modulation script does, λ from 0 to 1.5): λ = 0 turns the chosen function off (those filters
are the baseline's), λ = 1 is the target, λ > 1 extrapolates past it. :func:`modulate_image` is
``faig modulate``: the same on a user's image, with the filters from an index file or found (and
cached) on the embedded ``discover`` split.
"""

from __future__ import annotations

import math
import os
import statistics
from collections.abc import Iterator
from pathlib import Path

import torch
from torch import nn

from faig.attribution.api import attribute
from faig.attribution.filters import FilterIndex, modulated_state, read_index_file, state_of
from faig.cache import DiskCache, file_key, settings_key
from faig.data.degradations import MIX_KINDS, mix_kinds
from faig.data.images import check_image_file, read_image, write_image
from faig.data.layout import Pair
from faig.data.splits import load_images
from faig.devices import resolve_device
from faig.errors import FaigError
from faig.experiments.common import outputs, runner
from faig.experiments.masking import MAIN_PERCENT
from faig.experiments.metrics import gradient_energy
from faig.files import check_writable_dir
from faig.metrics import psnr
from faig.models.checkpoints import load_pair
from faig.models.registry import checkpoint_pair
from faig.names import DEGRADATIONS

PAPER_LAMBDAS: tuple[float, ...] = tuple(round(0.1 * step, 1) for step in range(16))  # 0, 0.1, ..., 1.5
QUADRATURE = "gausslegendre"  # the rule ``faig modulate`` finds its filters with


def modulated_networks(baseline: nn.Module, target: nn.Module, selection: torch.Tensor,
                       strengths: tuple[float, ...]) -> Iterator[tuple[float, nn.Module]]:
    """θ_λ for each λ in turn: one private copy of the target whose selected filters become
    θ̄ + λ(θ − θ̄) (the others stay the target's), reloaded per λ; use each before taking the next.
    Its raw output may overflow where :func:`modulated_outputs` clamps it to 8 bit."""
    network, index = runner(target), FilterIndex.from_module(target)
    base, tuned = state_of(baseline), state_of(target)
    for strength in strengths:
        network.load_state_dict(modulated_state(base, tuned, index, selection, strength))
        yield strength, network


def modulated_outputs(baseline: nn.Module, target: nn.Module, selection: torch.Tensor, lrs: list[torch.Tensor],
                      strengths: tuple[float, ...]) -> dict[float, list[torch.Tensor]]:
    """The 8-bit outputs of θ_λ for each λ and each LR image."""
    return {strength: outputs(network, lrs)
            for strength, network in modulated_networks(baseline, target, selection, strengths)}


def modulation_curve(baseline: nn.Module, target: nn.Module, selection: torch.Tensor, pairs: list[Pair],
                     strengths: tuple[float, ...], scale: int) -> list[dict[str, float]]:
    """Mean PSNR against the ground truth and mean gradient energy of the outputs, per λ."""
    results = modulated_outputs(baseline, target, selection, [pair.lr for pair in pairs], strengths)
    return [{"lambda": strength,
             "psnr": statistics.fmean(psnr(o, pair.hr, scale) for o, pair in zip(images, pairs)),
             "gradient_energy": statistics.fmean(float(gradient_energy(o)) for o in images)}
            for strength, images in results.items()]


def default_cache_dir() -> Path:
    """Where ``faig modulate`` keeps the rankings it computes: ``$XDG_CACHE_HOME/faig``, else
    ``~/.cache/faig``."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "faig"


def discovered_rankings(baseline_path: str | os.PathLike, target_path: str | os.PathLike, baseline: nn.Module,
                        target: nn.Module, scale: int, steps: int, seed: int, device: str | None,
                        cache_dir: str | os.PathLike, progress: bool,
                        degradations: tuple[str, ...] = DEGRADATIONS) -> dict[str, torch.Tensor]:
    """FAIG's Eq. 7 rankings of ``degradations`` (one against the rest) on the embedded ``discover``
    split, computed once per pair of model files and attribution settings and kept in
    ``cache_dir/rankings/`` (an entry that holds anything else is computed again)."""
    settings = {"models": file_key(baseline_path, target_path), "method": "faig", "split": "discover",
                "degradations": degradations, "quadrature": QUADRATURE, "steps": steps, "seed": seed}

    def compute() -> dict[str, torch.Tensor]:
        images = load_images("discover", None, scale)
        return attribute("faig", baseline, target, images, degradations, QUADRATURE, steps, device, progress=progress,
                         seed=seed, scale=scale, label="FAIG attribution on the discover split").rankings

    total = FilterIndex.from_module(target).total

    def are_rankings(stored: dict[str, torch.Tensor]) -> bool:
        """One permutation of the filters per degradation, as ``compute`` gives."""
        return set(stored) == set(degradations) and all(
            ranking.dtype == torch.int64 and torch.equal(ranking.sort().values, torch.arange(total))
            for ranking in stored.values())

    return DiskCache(Path(cache_dir) / "rankings").tensors(settings_key(settings), compute, are_rankings)


def modulate_image(image: str | os.PathLike, degradation: str, strength: float, out: str | os.PathLike, *,
                   preset: str = "embedded", arch: str = "srresnet", baseline: str | os.PathLike | None = None,
                   target: str | os.PathLike | None = None, filters: str | os.PathLike | None = None,
                   percent: float = MAIN_PERCENT, steps: int = 16, seed: int = 0, device: str | None = None,
                   cache_dir: str | os.PathLike | None = None, progress: bool = True) -> Path:
    """``faig modulate``: super-resolve a user's LR image with the target whose top ``percent`` %
    filters for ``degradation`` are set to strength λ (θ̄ + λ(θ − θ̄) on them).

    Args:
        image: the LR image file.
        degradation: whose filters to modulate (``blur``, ``noise``, or ``jpeg``: its filters are
            found against blur and noise, on the target fine-tuned on that wider mix).
        strength: λ; 0 removes that restoration, 1 is the target, above 1 strengthens it.
        out: the image to write: PNG, or the format its suffix names (see :func:`write_image`).
        preset, arch: the committed models to use, unless ``baseline`` and ``target`` name files.
        filters: an official ``<degradation>_index.txt`` ranking (from ``faig reproduce`` or
            ``faig attribute``), checked against the network; None: FAIG (Eq. 7) on the embedded
            ``discover`` split, with ``steps`` nodes, cached in ``cache_dir`` (default
            :func:`default_cache_dir`), so only the first call per model pair computes it.
        percent: the share of filters modulated.
        seed, device, progress: the attribution's noise seed, device and progress bar.

    Returns:
        The path written.

    Raises:
        FaigError: an unknown degradation, a λ that is not finite, a share outside (0, 100], one
            model file without the other, an output file that is no image or cannot be written, an
            unusable cache folder or device, an index file made for another network, or a λ so
            large that the modulated network's output overflows.

    Example:
        >>> modulate_image("photo.png", "noise", 0.5, "less_denoised.png")  # doctest: +SKIP
    """
    if degradation not in (*DEGRADATIONS, *MIX_KINDS):
        raise FaigError(f"unknown degradation {degradation!r}; choose from {', '.join((*DEGRADATIONS, *MIX_KINDS))}")
    degradations = tuple(dict.fromkeys((*DEGRADATIONS, degradation)))
    if not math.isfinite(strength):
        raise FaigError(f"λ must be a finite number, not {strength}")
    if not 0 < percent <= 100:
        raise FaigError(f"the share of filters must be in (0, 100] %, not {percent}")
    baseline, target = checkpoint_pair(preset, arch, baseline, target, mix_kinds(degradations))
    check_image_file(out)
    resolve_device(device)
    if filters is None:
        cache_dir = default_cache_dir() if cache_dir is None else cache_dir
        check_writable_dir(cache_dir, "cache folder")
    baseline_model, target_model, arch_config = load_pair(baseline, target)
    lr = read_image(image)
    index = FilterIndex.from_module(target_model)
    if filters is not None:
        ranking = read_index_file(filters, index)
    else:
        ranking = discovered_rankings(baseline, target, baseline_model, target_model, arch_config.scale, steps, seed,
                                      device, cache_dir, progress, degradations)[degradation]
    with torch.no_grad():
        selection = index.selection(ranking, percent)
        _, network = next(modulated_networks(baseline_model, target_model, selection, (strength,)))
        output = network(lr)
    if not torch.isfinite(output).all():
        raise FaigError(f"λ = {strength} makes the modulated network's output overflow (not finite); "
                        f"choose a smaller |λ| (the paper's run from 0 to 1.5)")
    write_image(out, output)
    return Path(out)
