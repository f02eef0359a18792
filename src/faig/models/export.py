"""Checkpoints out: our safetensors weights as a BasicSR ``.pth`` in the network's own key order.

safetensors files store their tensors sorted by name, so ``body.10`` comes before ``body.2``. The
official FAIG scripts number filters by walking the checkpoint's keys in file order (the flat order
of :class:`faig.attribution.filters.FilterIndex` is the network's), so a straight conversion of a
sorted file silently renumbers them. :func:`export_basicsr` rebuilds the network and writes its
``state_dict()`` as BasicSR does: ``{"params_ema": ..., "params": ...}`` (both the EMA weights that
faig saves), loadable with ``torch.load(..., weights_only=True)`` and by BasicSR's classes.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path

import torch

from faig.errors import FaigError
from faig.files import atomic_path, check_writable_file


def basicsr_checkpoint(state: dict[str, torch.Tensor]) -> dict[str, OrderedDict]:
    """The BasicSR checkpoint layout of one state dict, keys in the order given."""
    ordered = OrderedDict((key, value.detach().cpu().contiguous()) for key, value in state.items())
    return {"params_ema": ordered, "params": OrderedDict(ordered)}


def export_basicsr(weights: str | os.PathLike, out: str | os.PathLike) -> Path:
    """Write ``weights`` (any checkpoint faig reads) as a BasicSR ``.pth`` at ``out``, in the
    network's key order, atomically.

    Args:
        weights: a faig ``.safetensors`` file or a BasicSR ``.pth``.
        out: the ``.pth`` to write.

    Returns:
        The path written.

    Raises:
        FaigError: an unreadable checkpoint, an output that is not a ``.pth``/``.pt`` or cannot be written.

    Example:
        >>> export_basicsr("srresnet_target.safetensors", "srresnet_target.pth")  # doctest: +SKIP
        PosixPath('srresnet_target.pth')
    """
    from faig.models.checkpoints import load_model  # the registry imports this package's modules first

    out = Path(out)
    if out.suffix.lower() not in (".pth", ".pt"):
        raise FaigError(f"a BasicSR checkpoint ends in .pth: {out}")
    check_writable_file(out)
    model, _ = load_model(weights)
    with atomic_path(out) as tmp:
        torch.save(basicsr_checkpoint(model.state_dict()), tmp)
    return out
