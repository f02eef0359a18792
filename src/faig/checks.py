"""Checks of the values and tensors users pass in, each refusing bad input with a one-line FaigError
that names the value and what it should be, before any work is done."""

from __future__ import annotations

import math
import numbers

import torch

from faig.errors import FaigError


# The largest seed any command takes: numpy's limit, and small enough that image_seed's name-and-seed
# mix (crc32 + 1,000,003 x seed) stays within torch's 64-bit seeds.
SEED_MAX = 2**32 - 1


def _bound_text(bound: float) -> str:
    """A bound as the user would type it: integers whole (4294967295, not 4.29497e+09), floats short."""
    return str(bound) if isinstance(bound, numbers.Integral) else f"{bound:g}"


def _range_text(low: float | None, high: float | None, open_low: bool, open_high: bool) -> str:
    if low is not None and high is not None:
        return f"in {'(' if open_low else '['}{_bound_text(low)}, {_bound_text(high)}{')' if open_high else ']'}"
    if low is not None:
        return f"{'>' if open_low else '>='} {_bound_text(low)}"
    if high is not None:
        return f"{'<' if open_high else '<='} {_bound_text(high)}"
    return ""


def check_number(name: str, value: object, low: float | None = None, high: float | None = None, *,
                 open_low: bool = False, open_high: bool = False, integer: bool = False) -> None:
    """Refuse anything but a finite number (an integer with ``integer``) within the bounds.

    Args:
        name: what the user calls the value (an option such as ``--blur-sigma``, or a field name).
        value: the value to check; booleans, strings, nan and infinities are refused.
        low, high: the bounds (None: unbounded); inclusive unless ``open_low``/``open_high``.
        integer: whether only whole numbers are allowed.

    Raises:
        FaigError: e.g. "--blur-sigma must be a finite number > 0, got nan".
    """
    kind = numbers.Integral if integer else numbers.Real
    valid = isinstance(value, kind) and not isinstance(value, bool) and math.isfinite(value)
    if valid and low is not None:
        valid = value > low if open_low else value >= low
    if valid and high is not None:
        valid = value < high if open_high else value <= high
    if not valid:
        wanted = " ".join(filter(None, ["an integer" if integer else "a finite number",
                                        _range_text(low, high, open_low, open_high)]))
        raise FaigError(f"{name} must be {wanted}, got {value!r}")


def check_seed(name: str, value: object) -> None:
    """Refuse a seed that is not an integer in [0, 2**32 - 1]: the one range every command's seed
    can take, checked where it enters, so that a huge or negative seed is a one-line error and not
    torch's "Overflow when unpacking long long" halfway through a run.

    Raises:
        FaigError: e.g. "--seed must be an integer in [0, 4294967295], got -1".
    """
    check_number(name, value, 0, SEED_MAX, integer=True)


def check_images(function: str, images: object, channels: int | None = 3, single: bool = False) -> None:
    """Refuse anything but a non-empty NCHW image tensor (with ``channels`` channels; one image with
    ``single``).

    Raises:
        FaigError: e.g. "gradient_mse expects NCHW images (4 dims), got shape (1, 1, 3, 8, 8)".
    """
    if not isinstance(images, torch.Tensor):
        raise FaigError(f"{function} expects NCHW images as a torch tensor, got {type(images).__name__}")
    shape = tuple(images.shape)
    if images.dim() != 4:
        raise FaigError(f"{function} expects NCHW images (4 dims), got shape {shape}")
    if single and shape[0] != 1:
        raise FaigError(f"{function} expects one image (N = 1), got shape {shape}")
    if channels is not None and shape[1] != channels:
        raise FaigError(f"{function} expects {channels}-channel images, got shape {shape}")
    if 0 in shape:
        raise FaigError(f"{function} expects images with pixels, got shape {shape}")
