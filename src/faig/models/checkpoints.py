"""Weights on disk: safetensors for our files, BasicSR ``.pth`` read with ``weights_only=True``.

A ``.pth`` that holds anything but tensors is refused before any of it runs. Our safetensors files
carry their :class:`ArchConfig` (and any other metadata) as JSON in the header.
"""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from safetensors import safe_open
from torch import nn

from faig.errors import FaigError
from faig.files import atomic_path
from faig.models.registry import ArchConfig, build_model, infer_config

PICKLE_SUFFIXES = (".pth", ".pt")


def save_weights(path: str | os.PathLike, model: nn.Module, config: ArchConfig,
                 metadata: dict | None = None) -> None:
    """Write a model's state dict as safetensors with its architecture in the header, atomically."""
    header = {"faig_arch": json.dumps(config.to_dict())}
    header.update({key: json.dumps(value) for key, value in (metadata or {}).items()})
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=header)


def read_metadata(path: str | os.PathLike) -> dict:
    """The JSON metadata our safetensors files carry (empty for other files)."""
    if Path(path).suffix != ".safetensors":
        return {}
    with safe_open(str(path), framework="pt") as handle:
        return {k: json.loads(v) for k, v in (handle.metadata() or {}).items()}


def load_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Tensors of a safetensors file or of a BasicSR checkpoint (``params_ema`` preferred, then
    ``params``), never unpickling arbitrary objects."""
    path = Path(path)
    if not path.is_file():
        raise FaigError(f"checkpoint not found: {path}")
    if path.suffix in PICKLE_SUFFIXES:
        try:
            content = torch.load(path, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as error:
            if "allowed global" in str(error) or "Unsupported global" in str(error):
                raise FaigError(f"refusing {path}: it holds pickled objects that are not plain tensors") from None
            raise FaigError(f"cannot read checkpoint {path}: not a PyTorch checkpoint") from None
        except Exception as error:
            raise FaigError(f"cannot read checkpoint {path}: {type(error).__name__}") from None
        for key in ("params_ema", "params"):
            if isinstance(content, dict) and key in content:
                content = content[key]
                break
    else:
        try:
            content = load_file(str(path))
        except (SafetensorError, OSError, ValueError) as error:
            raise FaigError(f"cannot read checkpoint {path}: {error}") from None
    if not isinstance(content, dict) or not content or not all(isinstance(v, torch.Tensor) for v in content.values()):
        raise FaigError(f"{path} holds no state dict of tensors")
    return content


def check_same_structure(first: dict[str, torch.Tensor], second: dict[str, torch.Tensor],
                         names: tuple[str, str] = ("baseline", "target")) -> None:
    """Refuse two state dicts whose keys or shapes differ, naming the first tensor that differs."""
    for key in list(first) + [k for k in second if k not in first]:
        if key not in first or key not in second:
            missing = names[0] if key not in first else names[1]
            raise FaigError(f"{names[0]} and {names[1]} differ: {missing} has no tensor {key!r}")
        if first[key].shape != second[key].shape:
            raise FaigError(f"{names[0]} and {names[1]} differ at {key!r}: "
                            f"{tuple(first[key].shape)} vs {tuple(second[key].shape)}")


def load_model(path: str | os.PathLike, expected_scale: int | None = None) -> tuple[nn.Module, ArchConfig]:
    """A network ready for inference (eval mode) from any supported checkpoint."""
    state = load_state_dict(path)
    stored = read_metadata(path).get("faig_arch")
    config = ArchConfig(**stored) if stored else infer_config(state)
    if expected_scale is not None and config.scale != expected_scale:
        raise FaigError(f"{path} is a x{config.scale} network; x{expected_scale} was asked for")
    model = build_model(config)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as error:
        first_line = str(error).strip().splitlines()[0]
        raise FaigError(f"{path} does not fit {config.arch}: {first_line}") from None
    return model.eval(), config


def load_pair(baseline: str | os.PathLike, target: str | os.PathLike) -> tuple[nn.Module, nn.Module, ArchConfig]:
    """The baseline and target networks of Sec. 4.1, refused unless their tensors line up."""
    check_same_structure(load_state_dict(baseline), load_state_dict(target))
    baseline_model, config = load_model(baseline)
    target_model, _ = load_model(target)
    return baseline_model, target_model, config
