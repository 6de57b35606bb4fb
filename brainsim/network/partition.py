"""Which rank owns which neuron: round-robin over global ids (docs/architecture.md §2.2).

Round-robin balances every population over the ranks, whatever their sizes, and needs no
table: gid g lives on rank g % num_ranks at local index g // num_ranks. A rank's local
neurons are therefore in ascending gid order, populations contiguous.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from brainsim.spec.model import ResolvedModel


@dataclass(frozen=True)
class Partition:
    """Ownership of gids 0..num_neurons-1 over num_ranks ranks (round-robin)."""
    num_neurons: int
    num_ranks: int

    def owner(self, gid: int) -> int:
        return gid % self.num_ranks

    def local_gids(self, rank: int, begin: int = 0, end: int | None = None) -> np.ndarray:
        """Ascending gids in [begin, end) owned by `rank` (int64)."""
        end = self.num_neurons if end is None else end
        first = begin + (rank - begin) % self.num_ranks
        return np.arange(first, end, self.num_ranks, dtype=np.int64)

    def num_local(self, rank: int) -> int:
        return len(range(rank, self.num_neurons, self.num_ranks))

    def local_index(self, gids: np.ndarray) -> np.ndarray:
        """Local index of gids on their owning rank (uint32)."""
        return (np.asarray(gids, dtype=np.int64) // self.num_ranks).astype(np.uint32)


def make_partition(model: ResolvedModel, num_ranks: int) -> Partition:
    return Partition(num_neurons=model.num_neurons, num_ranks=num_ranks)
