"""Results on disk: one safetensors file per method (scores, rankings, per-image tables, metadata),
a CSV of the top 1 % per degradation, the official ``<degradation>_index.txt`` files (each with its
``.json`` sidecar naming the network). The per-image records that let an interrupted run resume live
in the one cache, :mod:`faig.cache`."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file

from faig.attribution.filters import FilterIndex, write_index_file
from faig.attribution.groups import Grouping, group_scores
from faig.attribution.result import Attribution
from faig.errors import FaigError
from faig.files import write_json, write_tensors, write_text

RESULT_FILE = "attribution.safetensors"
TOP_FILE = "top1.csv"
CONFIG_FILE = "config.json"
TOP_PERCENT = 1.0


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


def units_csv(result: Attribution, grouping: Grouping) -> str:
    """Every unit of ``grouping`` (output channels or attention heads) ranked per degradation by its
    score, the sum of its filters' scores: degradation, rank, unit, filters, score.

    Example:
        >>> from faig.attribution.groups import filter_groups
        >>> from faig.models.registry import ArchConfig, build_model
        >>> index = FilterIndex.from_module(build_model(ArchConfig("srresnet", 2, width=4, depth=1)))
        >>> scores = {"blur": torch.arange(index.total, dtype=torch.float32)}
        >>> result = Attribution(index, scores, {"blur": scores["blur"].argsort(descending=True)})
        >>> units_csv(result, filter_groups(index)).splitlines()[1]
        'blur,1,conv_last[out 2],4,534'
    """
    sizes = torch.bincount(grouping.ids, minlength=len(grouping.labels))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["degradation", "rank", "unit", "filters", "score"])
    for degradation in result.degradations:
        units = group_scores(result.scores[degradation], grouping)
        for position, unit in enumerate(units.argsort(descending=True, stable=True).tolist(), start=1):
            writer.writerow([degradation, position, grouping.labels[unit], int(sizes[unit]),
                             f"{float(units[unit]):.9g}"])
    return buffer.getvalue()


def save_attribution(result: Attribution, directory: str | os.PathLike,
                     groupings: dict[str, Grouping] | None = None) -> dict[str, Path]:
    """Write the result, its top-1 % CSV, the official index files and its config into ``directory``,
    and for each named grouping (``output_channel``, ``head``) its units ranked, ``units_<name>.csv``."""
    directory = Path(directory)
    tensors = {}
    for degradation in result.degradations:
        tensors[f"scores/{degradation}"] = result.scores[degradation]
        tensors[f"rankings/{degradation}"] = result.rankings[degradation]
        if result.per_image is not None:
            tensors[f"per_image/{degradation}"] = result.per_image[degradation]
        if result.completeness_gaps is not None:
            tensors[f"completeness_gaps/{degradation}"] = result.completeness_gaps[degradation]
    header = {"faig_attribution": json.dumps(result.metadata), "faig_filters": result.index.to_json()}
    files = {"result": directory / RESULT_FILE, "top": directory / TOP_FILE, "config": directory / CONFIG_FILE}
    write_tensors(files["result"], tensors, header)
    write_text(files["top"], top_csv(result))
    write_json(files["config"], result.metadata)
    for degradation in result.degradations:
        files[degradation] = directory / f"{degradation}_index.txt"
        write_index_file(files[degradation], result.rankings[degradation], result.index)
    for name, grouping in (groupings or {}).items():
        files[f"units_{name}"] = directory / f"units_{name}.csv"
        write_text(files[f"units_{name}"], units_csv(result, grouping))
    return files


def load_attribution(path: str | os.PathLike, index: FilterIndex | None = None) -> Attribution:
    """Read back what :func:`save_attribution` wrote (the folder or its safetensors file); with
    ``index``, only if it ranks that network's filters.

    Raises:
        FaigError: no readable result there, or (with ``index``) one made for another network.
    """
    path = Path(path)
    path = path / RESULT_FILE if path.is_dir() else path
    if not path.is_file():
        raise FaigError(f"no attribution result at {path}")
    try:
        with safe_open(str(path), framework="pt") as handle:
            header = handle.metadata() or {}
        tensors = load_file(str(path))
    except SafetensorError:
        raise FaigError(f"cannot read attribution result {path}: not a safetensors file, or a damaged one") from None
    if "faig_filters" not in header:
        raise FaigError(f"{path} is not an attribution result")
    stored = FilterIndex.from_json(header["faig_filters"])
    if index is not None:
        index.check_tie(stored.tie(), path)
    tables: dict[str, dict[str, torch.Tensor]] = {}
    for key, value in tensors.items():
        kind, degradation = key.split("/", 1)
        tables.setdefault(kind, {})[degradation] = value
    order = json.loads(header["faig_attribution"]).get("degradations") or list(tables["scores"])
    ordered = {kind: {d: table[d] for d in order} for kind, table in tables.items()}
    return Attribution(stored, ordered["scores"], ordered["rankings"], ordered.get("per_image"),
                       ordered.get("completeness_gaps"), json.loads(header["faig_attribution"]))
