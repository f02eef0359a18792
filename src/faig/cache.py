"""Results computed once and kept on disk: the one cache behind ``faig attribute``'s per-image
records, ``faig reproduce``'s finished steps and ``faig modulate``'s rankings.

An entry is a file in a folder, named by a key: safetensors for tensors, JSON for plain data. Entries
are written atomically, so an interrupted run leaves whole entries or none, and an unreadable entry
counts as missing and is computed again. A key names what the value depends on and nothing else
(:func:`settings_key` of the settings, :func:`file_key` of model files, :func:`tensor_key` of
tensors): a changed setting or model computes anew, everything else is reused.

Example:
    >>> import tempfile, torch
    >>> cache = DiskCache(tempfile.mkdtemp())
    >>> key = settings_key({"steps": 8})
    >>> cache.tensors(key, lambda: {"x": torch.ones(2)})["x"].tolist()
    [1.0, 1.0]
    >>> cache.tensors(key, lambda: {"x": torch.zeros(2)})["x"].tolist()  # reused, not recomputed
    [1.0, 1.0]
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any, Callable

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from faig.files import write_json, write_tensors

Tensors = dict[str, torch.Tensor]
KEY_DIGITS = 16


def settings_key(settings: Any) -> str:
    """A short SHA-256 of JSON-able settings (key order does not matter).

    Example:
        >>> settings_key({"a": 1, "b": 2}) == settings_key({"b": 2, "a": 1})
        True
    """
    text = json.dumps(settings, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:KEY_DIGITS]


def file_key(*paths: str | os.PathLike) -> str:
    """A short SHA-256 of the files' bytes, in order (e.g. a baseline and a target checkpoint)."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()[:KEY_DIGITS]


def tensor_key(tensors: Tensors) -> str:
    """A short SHA-256 of named tensors: names, dtypes, shapes and bytes, in order.

    Example:
        >>> tensor_key({"w": torch.zeros(2)}) == tensor_key({"w": torch.zeros(3)})
        False
    """
    digest = hashlib.sha256()
    for key, value in tensors.items():
        value = value.detach().cpu().contiguous()
        digest.update(f"{key}:{value.dtype}:{tuple(value.shape)};".encode())
        digest.update(value.view(torch.uint8).numpy().tobytes() if value.numel() else b"")
    return digest.hexdigest()[:KEY_DIGITS]


class DiskCache:
    """Entries (tensors or JSON data) in one folder, one file per key, written atomically."""

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)

    def path(self, key: str, suffix: str) -> Path:
        """The entry's file: the key (``/`` making sub-folders) with unsafe characters replaced."""
        return self.folder / f"{re.sub(r'[^A-Za-z0-9_.+/-]', '_', key)}{suffix}"

    def load_tensors(self, key: str) -> Tensors | None:
        """The stored tensors, or None when absent or unreadable."""
        path = self.path(key, ".safetensors")
        try:
            return load_file(str(path)) if path.is_file() else None
        except (SafetensorError, OSError):
            return None

    def save_tensors(self, key: str, tensors: Tensors) -> None:
        write_tensors(self.path(key, ".safetensors"), tensors)

    def load_json(self, key: str) -> Any | None:
        """The stored data, or None when absent or unreadable."""
        path = self.path(key, ".json")
        try:
            return json.loads(path.read_text()) if path.is_file() else None
        except (ValueError, OSError):
            return None

    def save_json(self, key: str, data: Any) -> None:
        write_json(self.path(key, ".json"), data)

    def tensors(self, key: str, compute: Callable[[], Tensors],
                fits: Callable[[Tensors], bool] = lambda stored: True) -> Tensors:
        """The stored tensors, or ``compute()``'s, stored first; stored tensors that ``fits`` refuses
        (another version's, a damaged entry) are computed again."""
        stored = self.load_tensors(key)
        if stored is None or not fits(stored):
            self.save_tensors(key, compute())
            stored = self.load_tensors(key)
        return stored  # type: ignore[return-value]

    def json(self, key: str, compute: Callable[[], Any]) -> Any:
        """The stored data, or ``compute()``'s, stored first (read back, so both paths agree)."""
        stored = self.load_json(key)
        if stored is None:
            self.save_json(key, compute())
            stored = self.load_json(key)
        return stored


def cached_rows(cache: DiskCache, compute: Callable[[list[int]], Tensors], keys: list[str],
                specs: dict[str, tuple[tuple[int, ...], torch.dtype]]) -> Callable[[list[int]], Tensors]:
    """``compute`` for a group of positions, each position's row stored under its key; a group whose
    every row is stored, as ``specs`` describes it, is read back instead of computed (how an
    interrupted attribution resumes). A stored row of other names, shapes or types (another
    version's, a damaged one) counts as missing.

    Args:
        cache: where the rows go.
        compute: positions -> ``{name: (len(group), ...) tensor}``.
        keys: one key per position.
        specs: one row's ``{name: (shape, dtype)}``.

    Returns:
        A function with ``compute``'s signature and results.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     cache = DiskCache(folder)
        ...     cache.save_tensors("b", {"other": torch.zeros(1)})  # not a row of these specs
        ...     rows = cached_rows(cache, lambda group: {"s": torch.tensor(group, dtype=torch.float32)[:, None]},
        ...                        ["a", "b"], {"s": ((1,), torch.float32)})
        ...     rows([0, 1])["s"].flatten().tolist(), cache.load_tensors("b")
        ([0.0, 1.0], {'s': tensor([1.])})
    """

    def fits(row: Tensors | None) -> bool:
        return row is not None and set(row) == set(specs) and all(
            tuple(row[name].shape) == shape and row[name].dtype == dtype for name, (shape, dtype) in specs.items())

    def cached(group: list[int]) -> Tensors:
        rows = [cache.load_tensors(keys[i]) for i in group]
        if all(fits(row) for row in rows):
            return {name: torch.stack([row[name] for row in rows]) for name in rows[0]}  # type: ignore[index]
        computed = compute(group)
        for row, position in enumerate(group):
            cache.save_tensors(keys[position], {name: table[row] for name, table in computed.items()})
        return computed

    return cached
