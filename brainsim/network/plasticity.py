"""Plastic synapses (every synapse model with its own delivery, declared in
brainsim.catalogue.synapses; docs/synapse-models.md lists them): per-projection CSR,
per-source state and the postsynaptic spike histories, all flat arrays
(docs/architecture.md §2.6, §4, §10, §12).

- Each plastic projection has its own CSR by source gid (row order: target, k, as the
  static CSR), so static delivery keeps its kernel and speed. Its weights are the plastic
  weights (float64).
- Per-source state (the model's `per_source` declaration: t_last and K_plus for STDP;
  t_last and x, u (and y) for short-term plasticity) depends only on the source's spike
  train (NEST keeps it per synapse, but every synapse of a source is updated by the same
  spikes from the same start), so it is stored once per source of the projection. Every
  rank receives every spike and updates every source, so these arrays are identical on all
  ranks (a checkpoint stores them once).
- PostHistory: per local neuron with input from a model with a postsynaptic trace, a ring
  of (stamp step, K_minus) of its own spikes, as NEST's ArchivingNode history. Entries are
  dropped once outside every synapse's window (at or before min(t_last) - max_delay, with
  a later entry older than max + min delay); the ring doubles when full (rare, outside the
  per-epoch path).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cython_kernels import stdp

EMPTY_FLOATS = np.zeros(0, dtype=np.float64)


@dataclass
class PlasticProjection:
    index: int                 # projection index in the model
    source_offset: int
    source_size: int
    target_offset: int
    target_size: int
    params: dict
    row_ptr: np.ndarray        # int64 [num_neurons + 1]
    target: np.ndarray         # uint32 local index
    weight: np.ndarray         # float64, plastic
    delay_steps: np.ndarray    # uint16
    local_min_delay_steps: int
    local_max_delay_steps: int
    synapse_model: object      # brainsim.catalogue.synapses.SynapseModel
    # the declared per-source arrays by name, [source_size] each, in checkpoint order
    per_source_state: dict
    # the kernel's keyword arguments from the params (SynapseModel.kernel_constants)
    kernel_constants: dict = field(default_factory=dict)
    # the target population ignores weights (NEST's parrot_neuron): every spike delivers
    # one event (1.0) while the weights still learn
    unit_events: bool = False

    @property
    def model(self) -> str:
        return self.synapse_model.name

    @property
    def uses_post_trace(self) -> bool:
        return self.synapse_model.uses_post_trace

    @property
    def t_last(self) -> np.ndarray:
        """int64 [source_size]: stamp step of each source's last spike (0: none)."""
        return self.per_source_state["t_last"]

    @property
    def kplus(self) -> np.ndarray:
        """float64 [source_size]: the STDP presynaptic trace (size 0 without one)."""
        return self.per_source_state.get("kplus", EMPTY_FLOATS)

    @property
    def presyn(self) -> dict:
        """The per-source arrays besides t_last (short-term plasticity: x, u, y)."""
        return {name: values for name, values in self.per_source_state.items()
                if name != "t_last"}

    def per_source(self) -> dict:
        """Per-source state arrays by checkpoint name (identical on every rank)."""
        return self.per_source_state

    @property
    def num_synapses(self) -> int:
        return int(self.target.shape[0])

    def synapse_order(self, local_gids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(order, target gids, source gids): `order` lists synapse positions sorted by
        target gid, stable, so each target's synapses keep their CSR order (by source,
        then k) - the same on any number of ranks."""
        rows = np.repeat(np.arange(self.row_ptr.shape[0] - 1, dtype=np.int64),
                         np.diff(self.row_ptr))
        tgt_gids = local_gids[self.target.astype(np.int64)]
        order = np.argsort(tgt_gids, kind="stable")
        return order, tgt_gids[order], rows[order]


def delivery_scratch(plastic: list, num_local: int) -> list:
    """Per plastic projection, the scratch its model's kernel reuses across calls (None
    where it needs none); models that declare the same scratch share one, made once per
    rank (the STDP memo is tagged per call, so sharing it changes nothing)."""
    made: dict = {}
    scratch = []
    for proj in plastic:
        model = proj.synapse_model
        if model.scratch is not None and model.scratch not in made:
            made[model.scratch] = model.make_scratch(num_local)
        scratch.append(made.get(model.scratch))
    return scratch


class PostHistory:
    """Spike histories of this rank's neurons with plastic input (NEST ArchivingNode)."""

    def __init__(self, local_gids: np.ndarray, archiving: np.ndarray, tau_minus: np.ndarray,
                 dt: float, capacity: int = 8):
        n = local_gids.shape[0]
        self.local_gids = local_gids
        self.archiving = np.ascontiguousarray(archiving, dtype=np.uint8)
        self.tau_minus = np.ascontiguousarray(tau_minus, dtype=np.float64)
        self.dt = dt
        self.step = np.zeros((n, capacity), dtype=np.int64)
        self.k = np.zeros((n, capacity), dtype=np.float64)
        self.head = np.zeros(n, dtype=np.int64)
        self.count = np.zeros(n, dtype=np.int64)

    def grow(self) -> None:
        """Double the ring capacity, unrolling each ring to start at 0."""
        cap = self.step.shape[1]
        cols = (self.head[:, None] + np.arange(cap)[None, :]) % cap
        rows = np.arange(self.step.shape[0])[:, None]
        step = np.zeros((self.step.shape[0], 2 * cap), dtype=np.int64)
        k = np.zeros_like(step, dtype=np.float64)
        step[:, :cap] = self.step[rows, cols]
        k[:, :cap] = self.k[rows, cols]
        self.step, self.k = step, k
        self.head[:] = 0

    def record(self, keys: np.ndarray, n: int, epoch_first_step: int, keep_steps: int,
               prune_bound) -> None:
        """Append the epoch's own spikes; prune_bound() gives the current prune bound."""
        start, bound = 0, self.bound
        while True:
            full = stdp.record_post(keys, start, n, epoch_first_step, self.local_gids,
                                    self.archiving, self.tau_minus, self.dt, keep_steps,
                                    bound, self.step, self.k, self.head, self.count)
            if full < 0:
                return
            fresh = prune_bound()
            if fresh != bound:
                self.bound = bound = fresh
            else:
                self.grow()
            start = full

    bound = -(1 << 62)

    def export(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(count per local neuron, stamp steps int64, K_minus float64) with each neuron's
        entries oldest first, neurons in local order (one gather, no loop over neurons)."""
        rows, pos = self._ragged(np.arange(self.count.shape[0]), self.count)
        cols = (self.head[rows] + pos) % self.step.shape[1]
        return (self.count.copy(), self.step[rows, cols].astype(np.int64),
                self.k[rows, cols].astype(np.float64))

    def load(self, local_index: np.ndarray, counts: np.ndarray, steps: np.ndarray,
             ks: np.ndarray) -> None:
        """Replace the histories of the neurons at local_index with counts[j] entries each
        (steps: stamp steps, ks: K_minus; concatenated oldest first, as export gives);
        every ring then starts at 0. Neurons not listed keep no entries."""
        counts = np.asarray(counts, dtype=np.int64)
        while counts.size and counts.max() > self.step.shape[1]:
            self.grow()
        self.head[:] = 0
        self.count[:] = 0
        rows, pos = self._ragged(np.asarray(local_index, dtype=np.int64), counts)
        total = rows.shape[0]
        self.step[rows, pos] = steps[:total]
        self.k[rows, pos] = ks[:total]
        self.count[local_index] = counts

    @staticmethod
    def _ragged(owners: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(owner, position within its owner) of each entry of a ragged array whose owner i
        has counts[i] consecutive entries: ([0,0,1], [0,1,0]) for counts [2, 1]."""
        counts = np.asarray(counts, dtype=np.int64)
        total = int(counts.sum())
        starts = np.repeat(np.cumsum(counts) - counts, counts)
        return np.repeat(owners, counts), np.arange(total, dtype=np.int64) - starts
