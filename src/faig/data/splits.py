"""Image sets: the embedded default built from scikit-image's photos, and any folder of HR images.

The embedded default needs no download. Its four splits play the roles of the paper's data sets
(Sec. 5.1, 5.3): ``train`` (DIV2K-train: whole photos, random patches), ``discover`` (Set14: where
filters are found), ``calibrate`` (BSD100: prediction thresholds) and ``test`` (DIV2K-val). The three
evaluation splits are non-overlapping 144x144 tiles (a multiple of 12, so ``GTmod12`` for every
scale) of photos that no other split uses.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from faig.cache import settings_key
from faig.data.images import array_to_tensor, list_images, mod_crop, read_image
from faig.errors import FaigError

TILE = 144
GT_FOLDER = "GTmod12"


@dataclass(frozen=True)
class NamedImage:
    """An HR image (1x3xHxW, [0, 1]) with the name its files and noise seed use."""

    name: str
    hr: torch.Tensor


def _photo(name: str) -> np.ndarray:
    from skimage import data

    if name.startswith("motorcycle_"):
        left, right, _ = data.stereo_motorcycle()
        return left if name == "motorcycle_left" else right
    return getattr(data, name)()


# split -> ((photo, number of tiles; 0 = the whole photo for training), ...)
EMBEDDED_SPLITS: dict[str, tuple[tuple[str, int], ...]] = {
    "train": (("astronaut", 0), ("coffee", 0), ("hubble_deep_field", 0), ("retina", 0), ("brick", 0),
              ("grass", 0), ("gravel", 0), ("page", 0), ("text", 0)),
    "discover": (("chelsea", 6), ("camera", 4), ("immunohistochemistry", 4)),
    "calibrate": (("moon", 9), ("coins", 4), ("cell", 12)),
    "test": (("motorcycle_left", 15), ("motorcycle_right", 15), ("rocket", 8)),
}
SPLITS: tuple[str, ...] = tuple(EMBEDDED_SPLITS)


def tiles(image: torch.Tensor, name: str, count: int, size: int = TILE) -> list[NamedImage]:
    """``count`` non-overlapping size x size tiles, evenly spread over the row-major grid."""
    rows, cols = image.shape[-2] // size, image.shape[-1] // size
    grid = [(r, c) for r in range(rows) for c in range(cols)]
    if count > len(grid):
        raise FaigError(f"{name} has only {len(grid)} tiles of {size}px, not {count}")
    picks = np.linspace(0, len(grid) - 1, count).round().astype(int)
    return [
        NamedImage(f"{name}_r{r}c{c}", image[..., r * size:(r + 1) * size, c * size:(c + 1) * size].contiguous())
        for r, c in (grid[i] for i in picks)
    ]


@lru_cache(maxsize=None)
def _embedded(split: str) -> tuple[NamedImage, ...]:
    images: list[NamedImage] = []
    for photo, count in EMBEDDED_SPLITS[split]:
        full = array_to_tensor(_photo(photo))
        images.extend([NamedImage(photo, mod_crop(full, 12))] if count == 0 else tiles(full, photo, count))
    return tuple(images)


def centre_crops(images: list[NamedImage], size: int, scale: int = 1) -> list[NamedImage]:
    """The centred size x size crop of each image (smaller images whole), mod-cropped to the scale."""
    crops = []
    for image in images:
        height, width = image.hr.shape[-2:]
        h, w = min(size, height), min(size, width)
        top, left = (height - h) // 2, (width - w) // 2
        crops.append(NamedImage(image.name, mod_crop(image.hr[..., top:top + h, left:left + w], scale)))
    return crops


def images_key(images: list[NamedImage]) -> str:
    """What identifies a set of images cheaply: 16 hex digits of the SHA-256 of their names and sizes,
    in order. A resumed training compares it, so that it never continues on another folder.

    Example:
        >>> key = images_key([NamedImage("a", torch.zeros(1, 3, 4, 6))])
        >>> key == images_key([NamedImage("a", torch.ones(1, 3, 4, 6))])  # the same name and size
        True
        >>> key == images_key([NamedImage("b", torch.zeros(1, 3, 4, 6))])
        False
    """
    return settings_key([[image.name, list(image.hr.shape)] for image in images])


def embedded_split(split: str) -> list[NamedImage]:
    """The HR images of one embedded split, in a fixed order."""
    if split not in EMBEDDED_SPLITS:
        raise FaigError(f"unknown split {split!r}; choose from {', '.join(SPLITS)}")
    return list(_embedded(split))


def hr_folder(folder: str | os.PathLike) -> Path:
    """The folder that holds the HR images: ``folder/GTmod12`` in the official layout, else ``folder``.

    Raises:
        FaigError: an empty path (which ``Path`` would read as the current folder).
    """
    if not str(folder):
        raise FaigError("an image folder of '' names no folder; give a path (. for the current folder)")
    folder = Path(folder)
    official = folder / GT_FOLDER
    return official if official.is_dir() else folder


def folder_images(folder: str | os.PathLike, scale: int = 1) -> list[NamedImage]:
    """Every HR image in a folder (or its ``GTmod12``), mod-cropped to the scale, named by file stem.

    Raises:
        FaigError: two files of one stem (``a.jpg`` and ``a.png``: one name would stand for both in
            the LR folders, the noise seeds and the caches), an unreadable image or one too small.
    """
    paths = list_images(hr_folder(folder))
    stems: dict[str, Path] = {}
    for path in paths:
        if path.stem in stems:
            raise FaigError(f"two images named {path.stem!r} in {path.parent}: {stems[path.stem].name} and "
                            f"{path.name}; rename one")
        stems[path.stem] = path
    images = []
    for path in paths:
        image = read_image(path)
        hr = mod_crop(image, scale)
        if min(hr.shape[-2:]) < 2 * scale:
            height, width = image.shape[-2:]
            raise FaigError(f"image too small: {path} is {width}x{height}; at least {2 * scale} pixels a side are "
                            f"needed (it is cropped to multiples of {scale})")
        images.append(NamedImage(path.stem, hr))
    return images


def load_images(split: str | None = None, hr_dir: str | os.PathLike | None = None,
                scale: int = 1) -> list[NamedImage]:
    """HR images from a user folder when one is given, else from an embedded split."""
    if hr_dir is not None:
        return folder_images(hr_dir, scale)
    return [NamedImage(i.name, mod_crop(i.hr, scale)) for i in embedded_split(split or "test")]
