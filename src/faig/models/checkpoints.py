"""Weights on disk: safetensors for our files, BasicSR ``.pth`` read with ``weights_only=True``.

A ``.pth`` that holds anything but tensors is refused before any of it runs. Our safetensors files
carry their :class:`ArchConfig` (``faig_arch``) and any other metadata as JSON in the header; other
tools' safetensors files carry plain strings there (``{"format": "pt"}``) and load like a ``.pth``.
"""

from __future__ import annotations

import json
import os
import pickle
import pickletools
import warnings
import zipfile
from pathlib import Path
from typing import IO

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file
from torch import nn

from faig.errors import FaigError
from faig.files import write_tensors
from faig.models.registry import ArchConfig, build_model, infer_config

PICKLE_SUFFIXES = (".pth", ".pt")
ARCH_KEY = "faig_arch"  # the header entry that holds a checkpoint's ArchConfig


def save_weights(path: str | os.PathLike, model: nn.Module, config: ArchConfig,
                 metadata: dict | None = None) -> None:
    """Write a model's state dict as safetensors with its architecture in the header, atomically."""
    header = {ARCH_KEY: json.dumps(config.to_dict())}
    header.update({key: json.dumps(value) for key, value in (metadata or {}).items()})
    write_tensors(path, model.state_dict(), header)


def _decoded(path: str | os.PathLike, key: str, value: str) -> object:
    """A header value decoded from JSON, as faig writes them; a value that is not JSON is another
    tool's (safetensors.torch writes ``{"format": "pt"}``) and stays the string it is, except
    ``faig_arch``, which faig must read.

    Raises:
        FaigError: ``faig_arch`` is not JSON.
    """
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        if key == ARCH_KEY:
            raise FaigError(f"{path}: its {ARCH_KEY} header is not JSON ({value[:40]!r}); "
                            "faig stores the architecture there as a JSON object") from None
        return value


def read_metadata(path: str | os.PathLike) -> dict:
    """The metadata of a safetensors file, JSON values decoded and other tools' strings kept as they
    are (empty for other files).

    Raises:
        FaigError: the ``faig_arch`` entry is not JSON.
    """
    if Path(path).suffix != ".safetensors":
        return {}
    with safe_open(str(path), framework="pt") as handle:
        return {key: _decoded(path, key, value) for key, value in (handle.metadata() or {}).items()}


def _imports_python_names(stream: IO[bytes]) -> bool:
    """Whether ``stream`` holds complete pickles, one of which imports a Python name (a class or a
    function); damaged or non-pickle bytes give False."""
    try:
        while True:
            names = [op.name for op, _, _ in pickletools.genops(stream)]  # one whole pickle, or an error
            if {"GLOBAL", "STACK_GLOBAL", "INST"} & set(names):
                return True
    except Exception:  # the end of the pickles, or bytes that are none: pickletools raises several types
        return False


def _holds_objects(path: Path) -> bool:
    """Whether a file that ``weights_only`` refused is a well-formed pickle of Python objects (PyTorch's
    zip format, its legacy format or a bare pickle), rather than a damaged file."""
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                pickles = [name for name in archive.namelist() if name.endswith("data.pkl")]
                return bool(pickles) and _imports_python_names(archive.open(pickles[0]))
        with path.open("rb") as stream:
            return _imports_python_names(stream)
    except (OSError, zipfile.BadZipFile):
        return False


def _load_pickle(path: Path) -> object:
    """``torch.load`` with ``weights_only=True``: plain containers of tensors and numbers only (torch's
    warnings about odd pickles are silenced: the error below says what matters, in one line).

    Raises:
        FaigError: the file holds other Python objects (which are never run), or is damaged.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return torch.load(path, map_location="cpu", weights_only=True)
    except OSError:
        raise
    except Exception as error:  # torch raises many types for damaged files
        if isinstance(error, pickle.UnpicklingError) and _holds_objects(path):
            raise FaigError(f"{path} holds pickled Python objects; faig loads tensors only (weights_only) "
                            "and will not run them") from None
        raise FaigError(f"cannot read checkpoint {path}: not a PyTorch checkpoint, or a damaged one") from None


def load_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Tensors of a safetensors file or of a BasicSR checkpoint (``params_ema`` preferred, then
    ``params``), never unpickling arbitrary objects.

    Raises:
        FaigError: the file is missing, damaged, holds Python objects, holds no tensors, or holds
            weights that are not finite (a diverged training's: every output would be nan).
    """
    if not str(path):
        raise FaigError("a checkpoint path of '' names no file")
    path = Path(path)
    if path.is_dir():
        raise FaigError(f"{path} is a folder, not a checkpoint file")
    if not path.is_file():
        raise FaigError(f"checkpoint not found: {path}")
    if path.suffix.lower() in PICKLE_SUFFIXES:
        content = _load_pickle(path)
        for key in ("params_ema", "params"):
            if isinstance(content, dict) and key in content:
                content = content[key]
                break
    else:
        try:
            content = load_file(str(path))
        except (SafetensorError, ValueError):
            raise FaigError(f"cannot read checkpoint {path}: not a safetensors file, or a damaged one") from None
    if not isinstance(content, dict) or not content or not all(isinstance(v, torch.Tensor) for v in content.values()):
        raise FaigError(f"{path} holds no state dict of tensors")
    for key, tensor in content.items():
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise FaigError(f"{path} holds weights that are not finite (nan or inf) in {key!r}")
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


def check_weights_differ(first: dict[str, torch.Tensor], second: dict[str, torch.Tensor]) -> None:
    """Refuse two state dicts of the same structure that hold the same values in every tensor: the
    same weights twice leave FAIG nothing to attribute (every score would be 0, every ranking arbitrary)."""
    if all(torch.equal(first[key], second[key]) for key in first):
        raise FaigError("baseline and target hold the same weights: there is no change to attribute")


def checkpoint_config(path: str | os.PathLike, state: dict[str, torch.Tensor]) -> ArchConfig:
    """The architecture of a checkpoint: its ``faig_arch`` header when it has one, otherwise read off
    its tensors (a BasicSR ``.pth``, another tool's safetensors file).

    Raises:
        FaigError: a ``faig_arch`` that is not a valid architecture (named with the file), or tensors
        of no registered network.
    """
    stored = read_metadata(path).get(ARCH_KEY)
    try:
        return infer_config(state) if stored is None else ArchConfig.from_dict(stored)
    except FaigError as error:
        raise FaigError(f"{path}: {'' if stored is None else f'bad {ARCH_KEY} header: '}{error}") from None


def load_model(path: str | os.PathLike, expected_scale: int | None = None) -> tuple[nn.Module, ArchConfig]:
    """A network ready for inference (eval mode) from any supported checkpoint: faig safetensors
    (the architecture read from its header) or a BasicSR ``.pth`` (``params_ema``, else ``params``;
    the architecture inferred from its keys and shapes, :func:`faig.models.registry.infer_config`).

    Args:
        path: the checkpoint file.
        expected_scale: refuse a network of another upscaling factor.

    Returns:
        (model, config): the network in eval mode and its :class:`ArchConfig`.

    Raises:
        FaigError: a missing or unreadable file, unknown keys, weights that do not fit the
            architecture, or another scale than ``expected_scale``.

    Example:
        >>> from faig.models.registry import preset_weights
        >>> model, config = load_model(preset_weights("embedded", "srresnet", "target"))
        >>> config, model(torch.rand(1, 3, 8, 8)).shape
        (ArchConfig(arch='srresnet', scale=2, width=32, depth=8, first_width=64), torch.Size([1, 3, 16, 16]))
    """
    state = load_state_dict(path)
    config = checkpoint_config(path, state)
    if expected_scale is not None and config.scale != expected_scale:
        raise FaigError(f"{path} is a x{config.scale} network; x{expected_scale} was asked for")
    model = build_model(config)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as error:
        raise FaigError(f"{path} does not fit {config.arch}: {_first_reason(error)}") from None
    return model.eval(), config


def _first_reason(error: RuntimeError, limit: int = 200) -> str:
    """The first reason of torch's ``load_state_dict`` error on one line (its first line only heads
    the list: "Error(s) in loading state_dict for X:"), cut at ``limit`` characters."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    reason = lines[1] if len(lines) > 1 and lines[0].endswith(":") else lines[0] if lines else "unknown error"
    return reason if len(reason) <= limit else reason[:limit - 3] + "..."


def load_pair(baseline: str | os.PathLike, target: str | os.PathLike) -> tuple[nn.Module, nn.Module, ArchConfig]:
    """The baseline and target networks of Sec. 4.1, refused unless their tensors line up and differ."""
    baseline_state, target_state = load_state_dict(baseline), load_state_dict(target)
    check_same_structure(baseline_state, target_state)
    check_weights_differ(baseline_state, target_state)
    baseline_model, config = load_model(baseline)
    target_model, _ = load_model(target)
    return baseline_model, target_model, config
