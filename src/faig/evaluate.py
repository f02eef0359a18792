"""Running a network over LR/HR pairs and scoring it (PSNR, SSIM) per evaluation variant."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import torch
from torch import nn
from tqdm import tqdm

from faig.checks import check_seed
from faig.data.degradations import VARIANTS, variant
from faig.data.layout import Pair, degraded_pairs
from faig.data.splits import NamedImage
from faig.devices import model_device, resolve_device
from faig.errors import FaigError
from faig.metrics import psnr, ssim


@torch.no_grad()
def super_resolve(model: nn.Module, lr: torch.Tensor) -> torch.Tensor:
    """The network's output for one LR image, clipped to [0, 1], on the CPU."""
    return model(lr.to(model_device(model))).clamp(0, 1).cpu()


def score_pairs(model: nn.Module, pairs: list[Pair], scale: int, with_ssim: bool = True,
                bar: tqdm | None = None) -> dict[str, float]:
    """Mean PSNR (and SSIM) of a network's outputs over pairs; ``bar``, when given, advances one
    step a pair.

    Raises:
        FaigError: a pair the metrics refuse (too small once the border is cropped), naming it.
    """
    psnrs, ssims = [], []
    for pair in pairs:
        output = super_resolve(model, pair.lr)
        try:
            psnrs.append(psnr(output, pair.hr, scale))
            if with_ssim:
                ssims.append(ssim(output, pair.hr, scale))
        except FaigError as error:
            raise FaigError(f"image {pair.name}: {error}") from None
        if bar is not None:
            bar.update()
    scores = {"psnr": sum(psnrs) / len(psnrs)}
    if with_ssim:
        scores["ssim"] = sum(ssims) / len(ssims)
    return scores


def score_variants(model: nn.Module, images: list[NamedImage], scale: int, variants: tuple[str, ...] = VARIANTS,
                   seed: int = 0, folder: str | None = None, with_ssim: bool = True,
                   bar: tqdm | None = None) -> dict[str, dict[str, float]]:
    """PSNR/SSIM of a network on each named evaluation variant of an HR set (``bar``: as
    :func:`score_pairs`)."""
    return {
        name: score_pairs(model, degraded_pairs(images, variant(name, scale), seed, folder), scale, with_ssim, bar)
        for name in variants
    }


def model_labels(paths: list[str | os.PathLike]) -> list[str]:
    """Short, distinct names for checkpoint files: each file's stem, with as many of its folders as
    tell it apart from the others (two runs of ``faig train`` both write ``srresnet_target``), and
    its extension where only that differs.

    Args:
        paths: checkpoint files, each named once.

    Returns:
        One label per path, in order, no two alike.

    Raises:
        FaigError: a file is named twice (by the same path or another one).

    Example:
        >>> model_labels(["runs/a/srresnet_target.safetensors", "runs/b/srresnet_target.safetensors", "x.pth"])
        ['a/srresnet_target', 'b/srresnet_target', 'x']
        >>> model_labels(["net.pth", "net.safetensors"])
        ['net.pth', 'net.safetensors']
    """
    files, seen = [Path(path).resolve() for path in paths], {}
    for path, file in zip(paths, files):
        if file in seen:
            raise FaigError(f"checkpoint {path} is {seen[file]} again: name each file once")
        seen[file] = path

    def candidates(file: Path) -> list[str]:
        folders = file.parent.parts
        return [str(Path(*folders[len(folders) - depth:], name)) for name in (file.stem, file.name)
                for depth in range(len(folders) + 1)]

    names = [candidates(file) for file in files]
    files_per_label = Counter(label for own in names for label in set(own))
    return [next(label for label in own if files_per_label[label] == 1) for own in names]


def evaluate_models(preset: str = "embedded", archs: tuple[str, ...] | None = None,
                    model_paths: list[str] | None = None, split: str | None = "test", hr_dir: str | None = None,
                    variants: tuple[str, ...] = VARIANTS, scale: int = 2, seed: int = 0,
                    device: str | None = None, progress: bool = False) -> dict:
    """PSNR/SSIM per variant of a preset's baseline and target networks (or of the checkpoints
    given) on an embedded split or a folder: ``{"split", "images", "models": {arch: {stage: {variant:
    {"psnr", "ssim"}}}}}`` (with ``model_paths``: ``{"models": {label: {variant: ...}}}``);
    ``archs`` None: the networks the preset ships (an empty tuple is refused, not read as None).
    The checkpoints are named by :func:`model_labels`. ``progress``: one bar on stderr over every
    network's images, a step per image and variant."""
    from faig.data.splits import load_images
    from faig.models.checkpoints import load_model
    from faig.models.registry import preset_archs, preset_weights, shipped_archs

    if archs is not None and not archs:
        raise FaigError("no architecture named")
    if not variants:
        raise FaigError("no variant named: give clean, blur, noise, blur+noise or another Eq. 1 variant")
    for name in variants:
        variant(name)
    check_seed("--seed", seed)
    images = load_images(split, hr_dir, scale)
    torch_device = resolve_device(device)
    if model_paths:
        paths = dict(zip(model_labels(model_paths), model_paths))
    else:
        archs = shipped_archs(preset) or preset_archs(preset) if archs is None else archs
        paths = {(arch, stage): preset_weights(preset, arch, stage) for arch in archs for stage in ("baseline", "target")}
    networks = {key: load_model(path, expected_scale=scale)[0].to(torch_device) for key, path in paths.items()}
    scores = {}
    with tqdm(total=len(networks) * len(variants) * len(images), desc="faig eval", unit="image",
              disable=not progress, dynamic_ncols=True) as bar:
        for key, network in networks.items():
            bar.set_postfix_str(key if model_paths else " ".join(key))
            scores[key] = score_variants(network, images, scale, variants, seed, hr_dir, bar=bar)
    models = scores if model_paths else {arch: {stage: scores[arch, stage] for stage in ("baseline", "target")}
                                         for arch in archs}
    return {"split": str(hr_dir) if hr_dir else split, "scale": scale, "images": [i.name for i in images],
            "models": models}


# The blind-SR marks embedded weights must clear (issue 10): the least target - baseline PSNR on the
# test split per variant, in dB (JPEG at quality 30: a wider mix's target only).
BLIND_SR_MARKS = {"clean": -1.5, "blur": 1.5, "noise": 3.0, "jpeg": 0.5}


def bicubic_psnr(split: str = "test", scale: int = 2) -> float:
    """Bicubic upsampling's mean PSNR on an embedded split's clean inputs: a baseline (Sec. 4.1's
    converged SR model) must beat it."""
    from faig.data.splits import load_images
    from faig.models.interpolation import Bicubic

    return score_variants(Bicubic(scale), load_images(split, None, scale), scale, ("clean",),
                          with_ssim=False)["clean"]["psnr"]


def missed_marks(psnr: dict[str, dict[str, float]], bicubic_clean: float) -> list[str]:
    """The blind-SR marks (:data:`BLIND_SR_MARKS`, and the baseline above bicubic on clean inputs)
    a baseline/target pair misses, each as a short phrase; empty when it clears them all.

    Args:
        psnr: ``{"baseline": {variant: dB}, "target": {variant: dB}}`` on the test split; a mark is
            checked for each variant the target has.
        bicubic_clean: bicubic upsampling's PSNR on the same clean inputs (:func:`bicubic_psnr`).

    Returns:
        One phrase per missed mark, in :data:`BLIND_SR_MARKS`'s order, the bicubic one last.

    Example:
        >>> missed_marks({"baseline": {"clean": 32.34, "blur": 26.0, "noise": 19.24},
        ...               "target": {"clean": 30.80, "blur": 28.91, "noise": 26.82}}, 30.82)
        ['clean -1.54 < -1.5']
    """
    gain = {v: psnr["target"][v] - psnr["baseline"][v] for v in BLIND_SR_MARKS if v in psnr["target"]}
    missed = [f"{v} {g:+.2f} < {BLIND_SR_MARKS[v]:+g}" for v, g in gain.items() if g < BLIND_SR_MARKS[v]]
    if psnr["baseline"]["clean"] <= bicubic_clean:
        missed.append(f"baseline clean {psnr['baseline']['clean']:.2f} <= bicubic {bicubic_clean:.2f}")
    return missed


def _rows(label: str, entry: dict):
    """(label, {variant: scores}) for every leaf of a nested result."""
    if "psnr" in next(iter(entry.values())):
        yield label, entry
        return
    for key, sub in entry.items():
        yield from _rows(f"{label} {key}".strip(), sub)


def format_table(result: dict) -> str:
    """A plain-text table of an :func:`evaluate_models` result (PSNR dB / SSIM)."""
    rows = [f"{label:22s} " + "  ".join(f"{name} {s['psnr']:6.2f} / {s['ssim']:.4f}" for name, s in leaf.items())
            for label, leaf in _rows("", result["models"])]
    count = len(result["images"])
    header = f"{result['split']} ({count} image{'s' if count != 1 else ''}, x{result['scale']}): PSNR dB / SSIM"
    return "\n".join([header, *rows])
