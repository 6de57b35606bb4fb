"""MPI helpers: rank and size from mpi4py (1 process without it), list gathering."""
from __future__ import annotations

import numpy as np


def world():
    """mpi4py's COMM_WORLD, or None when mpi4py is not installed."""
    try:
        from mpi4py import MPI
    except ImportError:
        return None
    return MPI.COMM_WORLD


def mpi_rank_and_size() -> tuple[int, int]:
    comm = world()
    return (0, 1) if comm is None else (comm.rank, comm.size)


def allgather_concatenated(arrays: list[np.ndarray]) -> list[np.ndarray]:
    """Each array concatenated over the ranks in rank order (every rank gets all)."""
    comm = world()
    if comm is None or comm.size == 1:
        return arrays
    parts = comm.allgather(arrays)
    return [np.concatenate([p[k] for p in parts]) for k in range(len(arrays))]
