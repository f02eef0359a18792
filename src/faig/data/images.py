"""Reading and writing images as NCHW float32 tensors in [0, 1]."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import torch

from faig.checks import check_images
from faig.errors import FaigError
from faig.files import atomic_path, check_writable_file

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


def to_rgb_float(array: np.ndarray) -> np.ndarray:
    """Any 8/16-bit or float, gray, gray+alpha, RGB or RGBA array as HxWx3 float32 in [0, 1].

    Grayscale is repeated to three channels and alpha is dropped, as SR data loaders do; float
    values outside [0, 1] are clipped, but nan and infinities are refused (clipping would keep nan,
    and the pixel would turn black without a word).

    Raises:
        FaigError: an unsupported data type or shape, or a float array with non-finite values.
    """
    if array.dtype == np.uint8:
        data = array.astype(np.float32) / 255.0
    elif array.dtype == np.uint16:
        data = array.astype(np.float32) / 65535.0
    elif array.dtype == bool:
        data = array.astype(np.float32)
    elif np.issubdtype(array.dtype, np.floating):
        bad = int(np.count_nonzero(~np.isfinite(array)))
        if bad:
            raise FaigError(f"{bad} pixel value{'s are' if bad != 1 else ' is'} not finite (nan or infinity); "
                            "a float image must hold finite numbers")
        data = np.clip(array.astype(np.float32), 0.0, 1.0)
    else:
        raise FaigError(f"unsupported image data type {array.dtype}")
    if data.ndim == 2:
        data = data[:, :, None]
    if data.ndim != 3 or data.shape[2] not in (1, 2, 3, 4):
        raise FaigError(f"unsupported image shape {array.shape}")
    channels = data.shape[2]
    if channels in (1, 2):
        data = np.repeat(data[:, :, :1], 3, axis=2)
    return np.ascontiguousarray(data[:, :, :3])


def array_to_tensor(array: np.ndarray) -> torch.Tensor:
    """HxWxC array (any supported dtype) -> 1x3xHxW float32 tensor in [0, 1]."""
    return torch.from_numpy(to_rgb_float(array)).permute(2, 0, 1).unsqueeze(0).contiguous()


def tensor_to_uint8(image: torch.Tensor) -> np.ndarray:
    """1x3xHxW or 3xHxW tensor in [0, 1] -> HxWx3 uint8, rounded as the paper's PNGs are.

    Raises:
        FaigError: anything but one 3-channel image.
    """
    if isinstance(image, torch.Tensor) and image.dim() == 3:
        image = image[None]
    check_images("tensor_to_uint8", image, single=True)
    array = image[0].detach().clamp(0, 1).mul(255).round().to(torch.uint8).permute(1, 2, 0)
    return array.cpu().numpy()


def _too_large_text(error: Exception) -> str:
    """Why Pillow refused an image as a possible decompression bomb, with its pixel count and
    Pillow's limit when its message gives them (it names no width or height)."""
    found = re.search(r"(\d+) pixels\) exceeds limit of (\d+) pixels", str(error))
    sizes = f" ({int(found[1]):,} pixels; Pillow reads at most {int(found[2]):,})" if found else ""
    return f"the image is too large{sizes}"


# The decoders tried, in order: tifffile for TIFF (Pillow reads 16-bit RGB as 8-bit), Pillow for
# every format. imageio's own choice is not used: it falls back on whatever else is installed
# (OpenCV crashes on some file names).
_DECODERS: dict[str, tuple[str, ...]] = {".tif": ("tifffile", "pillow"), ".tiff": ("tifffile", "pillow")}


def _decode(path: Path) -> np.ndarray:
    """The pixels of an image file, from the first decoder of :data:`_DECODERS` that reads it.

    Raises:
        PIL.Image.DecompressionBombError, OSError with an errno (the file could not be opened):
            unwrapped from imageio's error; otherwise the first decoder's error when none reads it.
    """
    import imageio.v3 as iio
    from PIL import Image

    first_error = None
    for plugin in _DECODERS.get(path.suffix.lower(), ("pillow",)):
        try:
            return np.asarray(iio.imread(path, plugin=plugin))
        except Exception as error:  # the next decoder may read it
            cause = error.__cause__
            if isinstance(cause, Image.DecompressionBombError) or (isinstance(cause, OSError) and cause.errno):
                raise cause from None
            first_error = first_error or error
    raise first_error


def read_image(path: str | os.PathLike) -> torch.Tensor:
    """Read an image file as a 1x3xHxW float32 tensor in [0, 1]; a one-line FaigError if unreadable.

    Raises:
        FaigError: naming the file: missing, not an image, too large for Pillow, or holding data
            :func:`to_rgb_float` refuses (nan pixels, an unsupported type or shape).
    """
    from PIL import Image

    path = Path(path)
    if not path.is_file():
        raise FaigError(f"image not found: {path}")
    try:
        array = _decode(path)
    except Image.DecompressionBombError as error:
        raise FaigError(f"cannot read image {path}: {_too_large_text(error)}") from None
    except Exception as error:  # imageio raises many types for corrupt files
        if isinstance(error, OSError) and error.errno is not None:
            raise  # the file could not be opened (permission denied, ...): the CLI says so
        raise FaigError(f"cannot read image {path}: not an image file, or a damaged one") from None
    if array.ndim == 4:  # animated or multi-page: first frame
        array = array[0]
    try:
        return array_to_tensor(array)
    except FaigError as error:
        raise FaigError(f"cannot read image {path}: {error}") from None


def write_image(path: str | os.PathLike, image: torch.Tensor) -> None:
    """Write a 1x3xHxW tensor as an 8-bit PNG (or the format the suffix names), atomically.

    Raises:
        FaigError: anything but one 3-channel image, or a file name whose suffix is no image format.
    """
    import imageio.v3 as iio

    check_images("write_image", image, single=True)
    check_image_file(path)
    with atomic_path(path) as tmp:
        iio.imwrite(tmp, tensor_to_uint8(image), extension=Path(path).suffix or ".png")


def check_image_file(path: str | os.PathLike) -> None:
    """Refuse, before any work, an output image whose suffix names no format :func:`write_image`
    writes (no suffix: PNG), or that cannot be written.

    Raises:
        FaigError: naming the file and the suffixes allowed.
    """
    suffix = Path(path).suffix
    if suffix and suffix.lower() not in IMAGE_SUFFIXES:
        raise FaigError(f"cannot write image {path}: the suffix must be one of {', '.join(IMAGE_SUFFIXES)}")
    check_writable_file(path)


def mod_crop(image: torch.Tensor, multiple: int) -> torch.Tensor:
    """Crop the bottom/right so that height and width are multiples of ``multiple`` (GTmod)."""
    height, width = image.shape[-2:]
    return image[..., : height - height % multiple, : width - width % multiple]


def is_image_name(path: Path) -> bool:
    """Whether a file name is one of a set's images: an image suffix, and not hidden (macOS's
    ``._x.png``, an interrupted write's temporary ``.x.png.<random>.png``)."""
    return path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".")


def list_images(folder: str | os.PathLike) -> list[Path]:
    """The image files directly inside ``folder``, sorted by name; a FaigError if there are none.
    Hidden files (a leading dot: macOS's ``._x.png``, an interrupted write's temporary file) are not
    images of the set."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FaigError(f"not a folder: {folder}")
    files = sorted(p for p in folder.iterdir() if p.is_file() and is_image_name(p))
    if not files:
        raise FaigError(f"no images in {folder}")
    return files
