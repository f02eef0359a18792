"""The folder layout of the paper's official code: ``GTmod12/``, ``LRbicx2/``, ``Blur2_LRbicx2/``,
``LRbicx2_noise0.1/`` and ``Blur2_LRbicx2_noise0.1/``, each holding PNGs with the same file names."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch

from faig.checks import check_number, check_seed
from faig.data.degradations import VARIANTS, Degradation, degrade_image, variant
from faig.data.images import is_image_name, read_image, write_image
from faig.data.splits import GT_FOLDER, NamedImage
from faig.errors import FaigError
from faig.files import check_writable_dir


@dataclass(frozen=True)
class Pair:
    """A degraded LR input with its HR ground truth (both 1x3xHxW, [0, 1])."""

    name: str
    lr: torch.Tensor
    hr: torch.Tensor


def variant_folder(degradation: Degradation) -> str:
    """The official folder name of a degradation, e.g. ``Blur2_LRbicx2_noise0.1`` (JPEG, beyond the
    official code, in its style: ``LRbicx2_jpeg30``)."""
    name = f"LRbicx{degradation.scale}"
    if degradation.blur_sigma is not None:
        name = f"Blur{degradation.blur_sigma:g}_{name}"
    if degradation.noise_sigma is not None:
        name = f"{name}_noise{degradation.noise_sigma:g}"
    if degradation.jpeg_quality is not None:
        name = f"{name}_jpeg{degradation.jpeg_quality}"
    return name


def _check_stored_lr(path: str | os.PathLike, lr: torch.Tensor, hr: torch.Tensor, scale: int) -> None:
    """Refuse a stored LR image that is not its GT image's size / ``scale``: the network's output
    would not line up with the GT, and the error would come later, about the metric, not the file.

    Raises:
        FaigError: e.g. "set/LRbicx2/0.png is 10x10 pixels; the LR image of its 48x48 GT image at x2
            must be 24x24".
    """
    height, width = hr.shape[-2] // scale, hr.shape[-1] // scale
    if tuple(lr.shape[-2:]) != (height, width):
        raise FaigError(f"{path} is {lr.shape[-1]}x{lr.shape[-2]} pixels; the LR image of its "
                        f"{hr.shape[-1]}x{hr.shape[-2]} GT image at x{scale} must be {width}x{height}")


def degraded_pairs(images: list[NamedImage], degradation: Degradation, seed: int = 0,
                   folder: str | os.PathLike | None = None) -> list[Pair]:
    """LR/HR pairs for one degradation: read from ``folder``'s official sub-folder when it has the
    file, otherwise synthesised by Eq. 1 with each image's fixed noise seed.

    Raises:
        FaigError: a stored LR image of the wrong size (:func:`_check_stored_lr`), or a bad seed.
    """
    stored = Path(folder) / variant_folder(degradation) if folder is not None else None
    pairs = []
    for image in images:
        path = stored / f"{image.name}.png" if stored is not None else None
        if path is not None and path.is_file():
            lr = read_image(path)
            _check_stored_lr(path, lr, image.hr, degradation.scale)
        else:
            lr = degrade_image(image.hr, image.name, degradation, seed)
        pairs.append(Pair(image.name, lr, image.hr))
    return pairs


def check_layout_options(out_dir: str | os.PathLike, scale: int = 2, blur_sigma: float = 2.0,
                         noise_sigma: float = 0.1, seed: int = 0, variants: tuple[str, ...] = VARIANTS) -> None:
    """Refuse, before any image is loaded or written, what ``faig data`` cannot write.

    Raises:
        FaigError: naming the option, e.g. "--blur-sigma must be a finite number > 0, got 0.0", or
            an output folder that is a file or not writable.
    """
    check_number("--scale", scale, 1, integer=True)
    check_number("--blur-sigma", blur_sigma, 0, open_low=True)
    check_number("--noise-sigma", noise_sigma, 0, open_low=True)  # 0 would label clean inputs noisy
    check_seed("--seed", seed)
    if not variants:
        raise FaigError("--variants names no variant")
    for name in variants:
        variant(name, scale, blur_sigma, noise_sigma)
    check_writable_dir(out_dir)


def write_layout(images: list[NamedImage], out_dir: str | os.PathLike, scale: int = 2,
                 blur_sigma: float = 2.0, noise_sigma: float = 0.1, seed: int = 0,
                 variants: tuple[str, ...] = VARIANTS) -> dict[str, int]:
    """Write the HR set and its variants (by default the paper's four) as PNG folders; return files
    per folder.

    Raises:
        FaigError: a bad option or output folder (:func:`check_layout_options`), or a folder of the
            layout that already holds images of other names (a later reader would take them for
            part of this set), before any writing.
    """
    check_layout_options(out_dir, scale, blur_sigma, noise_sigma, seed, variants)
    out_dir = Path(out_dir)
    names = {image.name for image in images}
    folders = {variant_folder(degradation): degradation
               for degradation in (variant(name, scale, blur_sigma, noise_sigma) for name in variants)}
    for folder in (GT_FOLDER, *folders):
        others = sorted(path.name for path in (out_dir / folder).glob("*")
                        if is_image_name(path) and path.stem not in names)
        if others:
            raise FaigError(f"{out_dir / folder} already holds images of another set ({', '.join(others[:3])}"
                            f"{' ...' if len(others) > 3 else ''}); write into an empty --out")
    counts = {GT_FOLDER: 0}
    for image in images:
        write_image(out_dir / GT_FOLDER / f"{image.name}.png", image.hr)
        counts[GT_FOLDER] += 1
    for folder, degradation in folders.items():
        for pair in degraded_pairs(images, degradation, seed):
            write_image(out_dir / folder / f"{pair.name}.png", pair.lr)
        counts[folder] = len(images)
    return counts
