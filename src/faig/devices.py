"""Where computations run: choosing a device from the user's word, and finding a network's.

One home for both, so that evaluation, attribution, training and the experiments agree on what
``--device`` means and refuse a device this machine lacks with the same one-line error.
"""

from __future__ import annotations

import torch
from torch import nn

from faig.errors import FaigError


def resolve_device(name: str | None = None) -> torch.device:
    """The device a ``--device`` value names.

    Args:
        name: ``cpu``, ``cuda``, ``cuda:N``; None or ``auto`` pick CUDA when present, else the CPU.

    Returns:
        The device.

    Raises:
        FaigError: a name that is no device, or a device this machine does not have.

    Example:
        >>> resolve_device("cpu")
        device(type='cpu')
    """
    if name in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        device = None
    if device is None or device.type not in ("cpu", "cuda"):
        raise FaigError(f"unknown device {name!r}; use cpu, cuda or cuda:N")
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise FaigError(f"device {name!r} asked for, but this machine has no CUDA device")
        if device.index is not None and device.index >= count:
            raise FaigError(f"device {name!r} asked for, but this machine has {count} CUDA device(s)")
    return device


def model_device(model: nn.Module) -> torch.device:
    """Where a network's weights live (the CPU for one without weights, such as bicubic upsampling).

    Example:
        >>> model_device(nn.Conv2d(3, 3, 3))
        device(type='cpu')
    """
    parameter = next(model.parameters(), None)
    return torch.device("cpu") if parameter is None else parameter.device
