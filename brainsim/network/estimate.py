"""What a model will cost before it is built: synapse counts, delay extent, memory per rank.

Counts are exact for fixed_total_number, fixed_indegree, fixed_outdegree, one_to_one,
all_to_all, SONATA edges (whole file) and from_list (the list's length), the expectation
for pairwise_bernoulli, and an upper bound (p_center for every pair) for distance-dependent
pairwise_bernoulli. Memory follows the storage of docs/architecture.md §4 and, for plastic
projections, of brainsim.network.plasticity.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from brainsim.catalogue.synapses import SYNAPSE_MODELS
from brainsim.network.inputs import ms_to_steps
from brainsim.network.neurons import state_layout
from brainsim.spec.connections import max_distance
from brainsim.spec.model import Projection, ResolvedModel

BYTES_PER_SYNAPSE = 4 + 8 + 2          # target uint32, weight float64, delay uint16
BYTES_PER_NEURON_INDEX = 8 + 2       # gid int64, population int16 (the state: per model)
# interpreter + numpy + mpi4py + kernels (~48 MiB before building) plus, on the writing
# rank 0, h5py (12 MiB) and the spike-recording buffers: measured PD14 0.1, 2 ranks
PYTHON_BASELINE_MIB = 65.0
# Plastic projections (brainsim.network.plasticity): their synapses take BYTES_PER_SYNAPSE
# like static ones, plus a row_ptr (int64 per gid + 1) per projection on every rank, and
# the per-source state their model declares, replicated on every rank.
POST_HISTORY_CAPACITY = 8              # initial ring length per neuron (PostHistory)
# step int64 + K float64 per ring entry; head, count int64, archiving uint8, tau_minus float64
BYTES_PER_POST_HISTORY = POST_HISTORY_CAPACITY * (8 + 8) + 8 + 8 + 1 + 8
# spike_generator inputs live on every rank: each time as a Python float in the resolved
# model's tuple, the loaded array, the model hash's JSON text and the build's step arrays.
# Measured peak (brainsim run, 1 rank): 66 B per time at 2e6 times, 80 B at 2e7.
BYTES_PER_GENERATOR_TIME = 80
BYTES_PER_GENERATOR_NODE_ID = 40       # a Python int in the tuple, its int64 copies
# population_activity on rank 0: int32 spike counts per population and bin, int64 sums of
# the mean V_m per population and sample, both for the whole run (engine.population_activity)
BYTES_PER_ACTIVITY_BIN = 4
BYTES_PER_MEAN_V_M_SAMPLE = 8


def expected_synapses(model: ResolvedModel, proj: Projection) -> float:
    src = model.populations[proj.source]
    tgt = model.populations[proj.target]
    same = proj.source == proj.target
    if proj.rule == "fixed_total_number":
        return float(proj.total_number)
    if proj.rule == "fixed_indegree":
        return float(proj.indegree * tgt.size)
    if proj.rule == "fixed_outdegree":
        return float(proj.outdegree * src.size)
    if proj.rule == "sonata":
        return float(proj.sonata.num_edges)
    if proj.rule == "from_list":
        return float(proj.from_list.num_connections)
    if proj.rule == "one_to_one":
        return float(tgt.size - (tgt.size if same and not proj.allow_autapses else 0))
    candidates = src.size - (1 if same and not proj.allow_autapses else 0)
    if proj.rule == "all_to_all":
        return float(candidates * tgt.size)
    return proj.probability * candidates * tgt.size


def delay_extent_steps(model: ResolvedModel) -> tuple[int, int]:
    """Smallest and largest delay (steps) any synapse can get; an unbounded distribution's
    largest is taken at mean + 6 sd."""
    dt = model.simulation.dt
    lo, hi = math.inf, 0
    for proj in model.projections:
        low, high = proj.delay.support()
        if proj.sonata is not None:
            if not proj.sonata.num_edges:
                continue
            low, high = proj.sonata.delay_min, proj.sonata.delay_max
        elif proj.from_list is not None:
            if not proj.from_list.num_connections:
                continue
            low, high = proj.from_list.delay_min, proj.from_list.delay_max
        elif proj.distance_delay is not None:
            low = proj.distance_delay.offset
            high = low + proj.distance_delay.slope * _max_distance(model, proj)
        if math.isinf(high):
            high = proj.delay.expected() + 6 * max(proj.delay.std, proj.delay.sigma)
        lo = min(lo, ms_to_steps(low, dt))
        hi = max(hi, ms_to_steps(high, dt))
    if hi == 0:
        return 0, 0
    return max(1, int(lo)), int(hi)


def _max_distance(model: ResolvedModel, proj: Projection) -> float:
    """Largest source-target distance (mm) the boxes of two spatial populations allow."""
    return max_distance(model.populations[proj.source].positions,
                        model.populations[proj.target].positions)


@dataclass
class MemoryEstimate:
    """Per rank: counts, and memory in MiB by part (total includes the Python baseline)."""
    synapses_per_rank: float
    neurons_per_rank: float
    synapse_mib: float         # every synapse, static and plastic, 14 B each
    neuron_mib: float          # neuron state, the static CSR's row_ptr and build cursor
    ring_mib: float
    total_mib: float
    plastic_mib: float = 0.0   # plastic row_ptrs, per-source state, post-spike histories
    input_mib: float = 0.0     # spike_generator times and node ids (on every rank)
    recording_mib: float = 0.0  # population activity arrays (rank 0, the peak rank)


def neuron_state_bytes(model: ResolvedModel) -> int:
    """Bytes per local neuron: every state array the network's models declare (one array
    per name for all local neurons, network/neurons.state_layout), its gid and population."""
    layout = state_layout(model.neuron_models.values())
    return sum(np.dtype(dtype).itemsize for dtype in layout.values()) + BYTES_PER_NEURON_INDEX


def plastic_bytes(model: ResolvedModel, num_ranks: int) -> float:
    """Bytes per rank that plastic projections add to their synapses: one row_ptr each
    (int64, num_neurons + 1) and the per-source state their model declares (t_last int64,
    kplus or x, (y,) u float64) on every rank, and, when a model has a postsynaptic trace,
    the spike history rings of the rank's neurons (initial capacity 8; they grow with the
    rate)."""
    total = 0.0
    synapse_models = [SYNAPSE_MODELS[p.synapse_model] for p in model.projections]
    for proj, synapse_model in zip(model.projections, synapse_models):
        if not synapse_model.plastic:
            continue
        total += 8 * (model.num_neurons + 1)
        total += model.populations[proj.source].size * synapse_model.per_source_bytes
    if any(m.uses_post_trace for m in synapse_models):
        total += model.num_neurons / num_ranks * BYTES_PER_POST_HISTORY
    return total


def input_bytes(model: ResolvedModel) -> float:
    """Bytes of the spike_generator tables, which every rank holds whole."""
    return sum(len(gen.times) * BYTES_PER_GENERATOR_TIME
               + len(gen.node_ids) * BYTES_PER_GENERATOR_NODE_ID
               for gen in model.spike_generators)


def recording_bytes(model: ResolvedModel) -> float:
    """Bytes rank 0 allocates up front for population activity over the whole run."""
    sim, recording = model.simulation, model.recording
    steps = ms_to_steps(sim.t_sim, sim.dt)
    total = 0.0
    for interval, size in ((recording.activity_bin, BYTES_PER_ACTIVITY_BIN),
                           (recording.mean_V_m_interval, BYTES_PER_MEAN_V_M_SAMPLE)):
        if interval:
            total += len(model.populations) * (steps / ms_to_steps(interval, sim.dt)) * size
    return total


def estimate_memory(model: ResolvedModel, num_ranks: int) -> MemoryEstimate:
    """Peak resident memory per rank (MiB), construction included (the two-pass build
    holds nothing but the final arrays and one cursor per source gid)."""
    synapses = sum(expected_synapses(model, p) for p in model.projections) / num_ranks
    neurons = model.num_neurons / num_ranks
    lo, hi = delay_extent_steps(model)
    ring_len = (lo + hi) if hi else 20
    mib = 1.0 / (1 << 20)
    synapse_mib = synapses * BYTES_PER_SYNAPSE * mib
    neuron_mib = (neurons * neuron_state_bytes(model) + 2 * 8 * (model.num_neurons + 1)) * mib
    # channels per neuron: 2 (ex, in), or the most any model's named receptors need
    channels = max([2] + [m.ring_channels for m in model.neuron_models.values()])
    ring_mib = ring_len * neurons * channels * 8 * mib
    plastic_mib = plastic_bytes(model, num_ranks) * mib
    input_mib = input_bytes(model) * mib
    recording_mib = recording_bytes(model) * mib
    total = (synapse_mib + neuron_mib + ring_mib + plastic_mib + input_mib + recording_mib
             + PYTHON_BASELINE_MIB)
    return MemoryEstimate(synapses, neurons, synapse_mib, neuron_mib, ring_mib, total,
                          plastic_mib, input_mib, recording_mib)
