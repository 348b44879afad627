"""One code path for one process and for torchrun: `init()` reads torchrun's environment, defaults
to a single process, and tells who logs and writes (rank 0)."""

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from reanimate.core.device import resolve_device


@dataclass(frozen=True)
class Context:
    rank: int
    world: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init(device: str = "auto") -> Context:
    """Join the process group when started by torchrun (NCCL on GPUs, gloo on CPUs); else one process."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Context(0, 1, resolve_device(device))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    chosen = resolve_device(device)
    if chosen.type == "cuda":
        chosen = torch.device("cuda", local_rank)
        torch.cuda.set_device(chosen)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if chosen.type == "cuda" else "gloo")
    return Context(dist.get_rank(), dist.get_world_size(), chosen)


def mean_over_processes(values: dict[str, float], context: Context) -> dict[str, float]:
    """Average logged numbers over all processes (what rank 0 prints describes the whole batch)."""
    if context.world == 1 or not values:
        return values
    tensor = torch.tensor(list(values.values()), dtype=torch.float64, device=context.device)
    dist.all_reduce(tensor)
    return dict(zip(values, (tensor / context.world).tolist()))


def barrier(context: Context) -> None:
    if context.world > 1:
        dist.barrier()


def shutdown(context: Context) -> None:
    if context.world > 1 and dist.is_initialized():
        dist.destroy_process_group()
