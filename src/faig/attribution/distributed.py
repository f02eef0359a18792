"""Sharding the per-image work over ``torchrun`` ranks (gloo on CPU, NCCL on GPU).

The unit of work is a group of equal-size images; groups go round-robin to the ranks, every rank
fills its rows of the per-image tables and one all-reduce (a sum over ranks, each row non-zero on
one rank only) gives every rank the whole tables, so the reductions that follow are the same as in
a single process.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

import torch
import torch.distributed as dist
from tqdm import tqdm

from faig.devices import resolve_device


@dataclass(frozen=True)
class Context:
    """This process's rank, the number of ranks, its device, and whether it opened the process group."""

    rank: int = 0
    world_size: int = 1
    device: torch.device = torch.device("cpu")
    owns_group: bool = False


def setup(device: str | torch.device | None = None) -> Context:
    """Join the process group when launched by ``torchrun`` with ``WORLD_SIZE`` > 1."""
    device = resolve_device(device) if not isinstance(device, torch.device) else device
    if dist.is_initialized():
        return Context(dist.get_rank(), dist.get_world_size(), local_device(device), False)
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return Context(0, 1, device, False)
    device = local_device(device)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return Context(dist.get_rank(), dist.get_world_size(), device, True)


def local_device(device: torch.device) -> torch.device:
    """A rank's own GPU (``LOCAL_RANK``) when the device is CUDA."""
    if device.type == "cuda" and device.index is None:
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return device


def teardown(context: Context) -> None:
    """Destroy the process group, if this context created it (a caller's own group is left alone)."""
    if context.owns_group and dist.is_initialized():
        dist.destroy_process_group()


def all_reduce_sum(tensor: torch.Tensor, context: Context) -> torch.Tensor:
    """The sum of ``tensor`` over the ranks (itself in a single process)."""
    if context.world_size == 1:
        return tensor
    moved = tensor.to(context.device)
    dist.all_reduce(moved, op=dist.ReduceOp.SUM)
    return moved.to(tensor.device)


def gather_rows(count: int, groups: list[list[int]], specs: dict[str, tuple[tuple[int, ...], torch.dtype]],
                compute: Callable[[list[int]], dict[str, torch.Tensor]], context: Context,
                progress: bool = False, desc: str = "") -> dict[str, torch.Tensor]:
    """Tables (count, *shape) of the given dtypes whose rows this rank computes for its share of
    ``groups`` with ``compute(group) -> {name: (len(group), *shape)}``, completed by an all-reduce."""
    tables = {name: torch.zeros(count, *shape, dtype=dtype) for name, (shape, dtype) in specs.items()}
    mine = groups[context.rank::context.world_size]
    with tqdm(total=sum(map(len, mine)), disable=not progress or context.rank != 0, desc=desc,
              unit="image") as bar:
        for group in mine:
            rows = compute(group)
            for name, table in tables.items():
                table[group] = rows[name].to(table)
            bar.update(len(group))
    return {name: all_reduce_sum(table, context) for name, table in tables.items()}
