"""Results on disk: one safetensors file per method (scores, rankings, per-image tables, metadata),
a CSV of the top 1 % per degradation, the official ``<degradation>_index.txt`` files, and the
per-image cache that lets an interrupted run resume where it stopped."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
from pathlib import Path
from typing import Callable

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from faig.attribution.filters import FilterIndex, FilterLayer, State, write_index_file
from faig.attribution.result import Attribution
from faig.errors import FaigError
from faig.files import atomic_path, write_json, write_text

RESULT_FILE = "attribution.safetensors"
TOP_FILE = "top1.csv"
CONFIG_FILE = "config.json"
TOP_PERCENT = 1.0


def tensor_hash(tensors: State) -> str:
    """A short SHA-256 of named tensors (names, dtypes, shapes and bytes, in order)."""
    digest = hashlib.sha256()
    for key, value in tensors.items():
        value = value.detach().cpu().contiguous()
        digest.update(f"{key}:{value.dtype}:{tuple(value.shape)};".encode())
        digest.update(value.view(torch.uint8).numpy().tobytes() if value.numel() else b"")
    return digest.hexdigest()[:16]


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class ImageCache:
    """Per-image records (name -> tensor) as safetensors files in one folder, written atomically."""

    def __init__(self, directory: str | os.PathLike) -> None:
        self.directory = Path(directory)

    def path(self, key: str) -> Path:
        return self.directory / f"{re.sub(r'[^A-Za-z0-9_.+-]', '_', key)}.safetensors"

    def get(self, key: str) -> dict[str, torch.Tensor] | None:
        path = self.path(key)
        if not path.is_file():
            return None
        try:
            return load_file(str(path))
        except (SafetensorError, OSError):
            return None

    def put(self, key: str, record: dict[str, torch.Tensor]) -> None:
        with atomic_path(self.path(key)) as tmp:
            save_file({k: v.detach().cpu().clone() for k, v in record.items()}, str(tmp))

    def wrap(self, compute: Callable[[list[int]], dict[str, torch.Tensor]],
             keys: list[str]) -> Callable[[list[int]], dict[str, torch.Tensor]]:
        """``compute`` for a group of positions, skipped when every image of the group is cached."""

        def cached(group: list[int]) -> dict[str, torch.Tensor]:
            records = [self.get(keys[i]) for i in group]
            if all(record is not None for record in records):
                return {name: torch.stack([record[name] for record in records]) for name in records[0]}
            rows = compute(group)
            for row, position in enumerate(group):
                self.put(keys[position], {name: table[row] for name, table in rows.items()})
            return rows

        return cached


def _index_to_json(index: FilterIndex) -> str:
    return json.dumps([[layer.name, layer.out_channels, layer.in_channels] for layer in index.layers])


def _index_from_json(text: str) -> FilterIndex:
    layers, offset = [], 0
    for name, out_channels, in_channels in json.loads(text):
        layers.append(FilterLayer(name, out_channels, in_channels, offset))
        offset += out_channels * in_channels
    return FilterIndex(tuple(layers))


def top_csv(result: Attribution, percent: float = TOP_PERCENT) -> str:
    """The top ``percent`` % filters per degradation: degradation, rank, layer, out, in, score."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["degradation", "rank", "layer", "out", "in", "score"])
    for degradation in result.degradations:
        scores = result.scores[degradation]
        for position, flat in enumerate(result.top(degradation, percent).tolist(), start=1):
            layer, out, inp = result.index.locate(flat)
            writer.writerow([degradation, position, layer, out, inp, f"{float(scores[flat]):.9g}"])
    return buffer.getvalue()


def save_attribution(result: Attribution, directory: str | os.PathLike) -> dict[str, Path]:
    """Write the result, its top-1 % CSV, the official index files and its config into ``directory``."""
    directory = Path(directory)
    tensors = {}
    for degradation in result.degradations:
        tensors[f"scores/{degradation}"] = result.scores[degradation]
        tensors[f"rankings/{degradation}"] = result.rankings[degradation]
        if result.per_image is not None:
            tensors[f"per_image/{degradation}"] = result.per_image[degradation]
        if result.completeness_gaps is not None:
            tensors[f"completeness_gaps/{degradation}"] = result.completeness_gaps[degradation]
    header = {"faig_attribution": json.dumps(result.metadata), "faig_filters": _index_to_json(result.index)}
    files = {"result": directory / RESULT_FILE, "top": directory / TOP_FILE, "config": directory / CONFIG_FILE}
    with atomic_path(files["result"]) as tmp:
        save_file({k: v.detach().cpu().clone() for k, v in tensors.items()}, str(tmp), metadata=header)
    write_text(files["top"], top_csv(result))
    write_json(files["config"], result.metadata)
    for degradation in result.degradations:
        files[degradation] = directory / f"{degradation}_index.txt"
        write_index_file(files[degradation], result.rankings[degradation])
    return files


def load_attribution(path: str | os.PathLike) -> Attribution:
    """Read back what :func:`save_attribution` wrote (the folder or its safetensors file)."""
    path = Path(path)
    path = path / RESULT_FILE if path.is_dir() else path
    if not path.is_file():
        raise FaigError(f"no attribution result at {path}")
    try:
        with safe_open(str(path), framework="pt") as handle:
            header = handle.metadata() or {}
        tensors = load_file(str(path))
    except (SafetensorError, OSError) as error:
        raise FaigError(f"cannot read attribution result {path}: {error}") from None
    if "faig_filters" not in header:
        raise FaigError(f"{path} is not an attribution result")
    tables: dict[str, dict[str, torch.Tensor]] = {}
    for key, value in tensors.items():
        kind, degradation = key.split("/", 1)
        tables.setdefault(kind, {})[degradation] = value
    order = json.loads(header["faig_attribution"]).get("degradations") or list(tables["scores"])
    ordered = {kind: {d: table[d] for d in order} for kind, table in tables.items()}
    return Attribution(_index_from_json(header["faig_filters"]), ordered["scores"], ordered["rankings"],
                       ordered.get("per_image"), ordered.get("completeness_gaps"),
                       json.loads(header["faig_attribution"]))
