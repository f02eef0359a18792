"""Checks of the values and tensors users pass in, each refusing bad input with a one-line FaigError
that names the value and what it should be, before any work is done."""

from __future__ import annotations

import math
import numbers

import torch

from faig.errors import FaigError


def _range_text(low: float | None, high: float | None, open_low: bool, open_high: bool) -> str:
    if low is not None and high is not None:
        return f"in {'(' if open_low else '['}{low:g}, {high:g}{')' if open_high else ']'}"
    if low is not None:
        return f"{'>' if open_low else '>='} {low:g}"
    if high is not None:
        return f"{'<' if open_high else '<='} {high:g}"
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
