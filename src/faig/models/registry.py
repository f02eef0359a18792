"""Architectures by name (BasicSR's registry pattern), the presets' widths, and building a network.

Each network file in ``faig/models/`` decorates its class with ``@ARCH_REGISTRY.register()``; the
class names itself (``arch``), lists the scales it supports, builds itself from an
:class:`ArchConfig` and recognises its own state dicts (:meth:`config_of`), so adding a network is
one new file here. The modules of this package are imported once, below, so that every class is
registered before a name is looked up. A network joins a preset (``embedded``, ``paper``) by a line
in :data:`PRESET_ARCHS`, where every preset width lives.

``width``/``depth`` mean num_feat/num_block for srresnet and num_feat/number of body convolutions
for srcnn_style; ``first_width`` is srcnn_style's first convolution's width.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import re
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Callable, ClassVar, Protocol, TypeVar

import torch
from torch import nn

from faig.checks import check_number
from faig.errors import FaigError


@dataclass(frozen=True)
class ArchConfig:
    """Everything needed to build a network of the paper (Sec. 5.1)."""

    arch: str
    scale: int = 2
    width: int = 64
    depth: int = 16
    first_width: int = 64

    def __post_init__(self) -> None:
        """Refuse fields no network can be built from (wrong types, zero or negative widths), so that a
        bad checkpoint header or training config fails in one line before any network is built.

        Whether ``arch`` is registered and supports ``scale`` is :func:`build_model`'s check: the
        presets below are built before the networks register themselves.

        Raises:
            FaigError: e.g. "width must be an integer >= 1, got -1".
        """
        if not isinstance(self.arch, str):
            raise FaigError(f"arch must be an architecture name (a string), got {self.arch!r}")
        check_number("scale", self.scale, 1, integer=True)
        check_number("width", self.width, 1, integer=True)
        check_number("depth", self.depth, 0, integer=True)
        check_number("first_width", self.first_width, 1, integer=True)

    def to_dict(self) -> dict:
        return asdict(self)

    @staticmethod
    def from_dict(data: object) -> "ArchConfig":
        """The configuration :meth:`to_dict` wrote (a checkpoint's ``faig_arch``, a training config's
        ``arch``), read back from JSON: an object with ``arch`` and any of the other fields, naming a
        registered architecture.

        Example:
            >>> ArchConfig.from_dict({"arch": "srresnet", "width": 8})
            ArchConfig(arch='srresnet', scale=2, width=8, depth=16, first_width=64)

        Raises:
            FaigError: not an object, an unknown field, no ``arch``, a bad value or an unknown network.
        """
        names = [field.name for field in fields(ArchConfig)]
        if not isinstance(data, dict) or "arch" not in data:
            raise FaigError(f"an architecture must be an object with an arch and any of {', '.join(names[1:])}, "
                            f"got {data!r}")
        unknown = [key for key in data if key not in names]
        if unknown:
            raise FaigError(f"unknown architecture field {unknown[0]!r}; allowed: {', '.join(names)}")
        config = ArchConfig(**data)
        check_arch(config.arch)
        return config


class Architecture(Protocol):
    """What a registered network class provides."""

    arch: ClassVar[str]  # the name users type (``--arch``) and checkpoints record
    scales: ClassVar[tuple[int, ...]]

    @classmethod
    def from_config(cls, config: ArchConfig) -> nn.Module: ...

    @staticmethod
    def config_of(state_dict: dict[str, torch.Tensor]) -> ArchConfig | None: ...


T = TypeVar("T")


class Registry:
    """Names -> classes, filled by a class decorator (BasicSR's ``Registry``).

    Example:
        >>> registry = Registry("toy")
        >>> @registry.register()
        ... class Toy:
        ...     arch = "toy"
        >>> registry.get("toy") is Toy, registry.names()
        (True, ('toy',))
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._classes: dict[str, type] = {}

    def register(self) -> Callable[[type[T]], type[T]]:
        """A decorator that records a class under its ``arch`` attribute."""

        def add(cls: type[T]) -> type[T]:
            name = cls.arch  # type: ignore[attr-defined]
            if name in self._classes:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._classes[name] = cls
            return cls

        return add

    def get(self, name: str) -> type:
        """The class registered as ``name``; a one-line FaigError for an unknown one."""
        if name not in self._classes:
            raise FaigError(f"unknown {self.kind} {name!r}; choose from {', '.join(self.names())}")
        return self._classes[name]

    def names(self) -> tuple[str, ...]:
        return tuple(sorted(self._classes))


ARCH_REGISTRY = Registry("architecture")

# The presets' networks, in the order reports list them: the paper's widths (Sec. 5.1, the official
# configs) and the embedded ones, small enough to train on a 2-core CPU.
PRESET_ARCHS: dict[str, dict[str, ArchConfig]] = {
    "embedded": {"srresnet": ArchConfig("srresnet", 2, width=32, depth=8),
                 "srcnn_style": ArchConfig("srcnn_style", 2, width=64, depth=4, first_width=32),
                 # Issue 12's attention network: SwinIR-lite at srresnet's attribution cost.
                 "swinir": ArchConfig("swinir", 2, width=32, depth=2)},
    "paper": {"srresnet": ArchConfig("srresnet", 2, width=64, depth=16),
              "srcnn_style": ArchConfig("srcnn_style", 2, width=128, depth=4, first_width=64)},
}
PRESETS: tuple[str, ...] = tuple(PRESET_ARCHS)


def check_preset(preset: str) -> str:
    """``preset`` itself when it names a preset; a one-line FaigError otherwise."""
    if preset not in PRESETS:
        raise FaigError(f"unknown preset {preset!r}; choose from {', '.join(PRESETS)}")
    return preset


def check_arch(arch: str) -> str:
    """``arch`` itself when a network is registered under it; a one-line FaigError otherwise."""
    ARCH_REGISTRY.get(arch)
    return arch


def preset_archs(preset: str) -> tuple[str, ...]:
    """The architectures a preset has, in report order.

    Example:
        >>> preset_archs("embedded")
        ('srresnet', 'srcnn_style', 'swinir')
    """
    return tuple(PRESET_ARCHS[check_preset(preset)])


def shipped_archs(preset: str, extra_kinds: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The preset's architectures whose baseline and target weights it ships (with ``extra_kinds``:
    whose target fine-tuned on that wider mix it ships), in report order; what runs by default.

    Example:
        >>> shipped_archs("embedded"), shipped_archs("paper")
        (('srresnet', 'srcnn_style', 'swinir'), ())
    """
    if check_preset(preset) != "embedded":
        return ()
    return tuple(arch for arch in preset_archs(preset)
                 if (EMBEDDED_WEIGHTS / f"{weights_stem(arch, 'baseline')}.safetensors").is_file()
                 and (EMBEDDED_WEIGHTS / f"{weights_stem(arch, 'target', extra_kinds)}.safetensors").is_file())


def preset_arch(preset: str, arch: str, scale: int = 2) -> ArchConfig:
    """A preset's widths for one architecture, at ``scale``.

    Example:
        >>> preset_arch("paper", "srresnet", scale=4)
        ArchConfig(arch='srresnet', scale=4, width=64, depth=16, first_width=64)
    """
    if check_arch(arch) not in preset_archs(preset):
        raise FaigError(f"preset {preset!r} has no {arch}; it has {', '.join(preset_archs(preset))}")
    return replace(PRESET_ARCHS[preset][arch], scale=scale)


def build_model(config: ArchConfig) -> nn.Module:
    """A freshly initialised network of the registered architecture ``config.arch``.

    Example:
        >>> build_model(ArchConfig("srresnet", 2, width=4, depth=1))(torch.zeros(1, 3, 5, 5)).shape
        torch.Size([1, 3, 10, 10])
    """
    network: type[Architecture] = ARCH_REGISTRY.get(config.arch)
    if config.scale not in network.scales:
        raise FaigError(f"scale must be one of {', '.join(map(str, network.scales))} for {config.arch}, "
                        f"not {config.scale}")
    return network.from_config(config)


def numbered(state_dict: dict[str, torch.Tensor], pattern: str) -> list[int]:
    r"""The distinct numbers, sorted, in the keys that match ``pattern`` (a regular expression with one
    ``(\d+)`` group): how a network's ``config_of`` counts its blocks.

    Example:
        >>> numbered({"body.0.w": 0, "body.2.w": 0, "head.w": 0}, r"body\.(\d+)\.w")
        [0, 2]
    """
    return sorted({int(m.group(1)) for key in state_dict if (m := re.fullmatch(pattern, key))})


def infer_config(state_dict: dict[str, torch.Tensor]) -> ArchConfig:
    """The architecture, widths, depth and scale of a state dict, read off its names and shapes by
    the registered networks, so the paper's BasicSR checkpoints load without a config."""
    for name in ARCH_REGISTRY.names():
        network: type[Architecture] = ARCH_REGISTRY.get(name)
        config = network.config_of(state_dict)
        if config is not None:
            return config
    keys = list(state_dict)
    found = ", ".join(keys[:3]) + (f" and {len(keys) - 3} more" if len(keys) > 3 else "")
    raise FaigError(f"unrecognised checkpoint: its keys ({found or 'none'}) match no registered architecture "
                    f"({', '.join(ARCH_REGISTRY.names())})")


EMBEDDED_WEIGHTS = Path(__file__).parent / "weights" / "embedded"


def weights_stem(arch: str, stage: str, extra_kinds: tuple[str, ...] = ()) -> str:
    """The file stem of a network's weights: ``<arch>_<stage>``, and for a target fine-tuned on more
    than the paper's blind mix (blur and noise) its extra kinds (issue 12's wider mix).

    Example:
        >>> weights_stem("srresnet", "target"), weights_stem("srresnet", "target", ("jpeg",))
        ('srresnet_target', 'srresnet_target_jpeg')
    """
    return "_".join((arch, stage, *extra_kinds))


def preset_weights(preset: str, arch: str, stage: str, extra_kinds: tuple[str, ...] = ()) -> Path:
    """The committed weights of a preset's network; only ``embedded`` ships weights. ``extra_kinds``
    picks the target fine-tuned on the blind mix plus those kinds (``("jpeg",)``).

    Raises:
        FaigError: an unknown architecture, a preset without weights, or weights it does not ship.
    """
    check_arch(arch)
    if check_preset(preset) != "embedded":
        raise FaigError(f"preset {preset!r} ships no weights: pass your own checkpoints (--baseline and --target; "
                        f"faig eval: --model)")
    path = EMBEDDED_WEIGHTS / f"{weights_stem(arch, stage, extra_kinds)}.safetensors"
    if not path.is_file():
        mix = f" --stage target --mix {','.join(extra_kinds)}" if extra_kinds else ""
        raise FaigError(f"embedded weights missing: {path} (run `faig train --preset embedded --arch {arch}{mix}`)")
    return path


def checkpoint_pair(preset: str, arch: str, baseline: str | os.PathLike | None, target: str | os.PathLike | None,
                    extra_kinds: tuple[str, ...] = ()) -> tuple[str | os.PathLike, str | os.PathLike]:
    """The baseline and target checkpoints a command runs on: the pair given, or, when neither is,
    the preset's (its target fine-tuned on the blind mix plus ``extra_kinds``).

    Example:
        >>> [path.name for path in checkpoint_pair("embedded", "srresnet", None, None)]
        ['srresnet_baseline.safetensors', 'srresnet_target.safetensors']

    Raises:
        FaigError: only one of the pair given, or preset weights that do not ship.
    """
    if (baseline is None) != (target is None):
        raise FaigError("give both --baseline and --target, or neither (to use --preset)")
    if baseline is None or target is None:
        return preset_weights(preset, arch, "baseline"), preset_weights(preset, arch, "target", extra_kinds)
    return baseline, target


def _register_package_networks() -> None:
    """Import every module of ``faig.models``: each network file registers itself on import."""
    for module in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if module.name != __name__.rsplit(".", 1)[-1]:
            importlib.import_module(f"{__package__}.{module.name}")


_register_package_networks()
