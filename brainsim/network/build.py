"""Build this rank's part of the network: its neurons, their inputs, their incoming synapses.

Construction is embarrassingly parallel (docs/architecture.md §2.2): a rank creates only
the neurons it owns and the synapses that target them, every random draw keyed by (seed,
purpose, projection, target gid, k) so the network is the same on any number of ranks.

Synapses are stored in CSR by *source* gid and built in two passes over the same keyed
draws, so no temporary list of synapses ever exists: pass 1 counts synapses per source,
pass 2 writes each synapse straight into its final slot. Peak memory is the final arrays.

A network with a receptor-addressed model (a connection names its receptor) has a ring
of C channels, and its static synapses store target = local index * C + channel: the
channel of the receptor the projection names, or of the weight's sign onto the
sign-chosen models (delivery.deliver_addressed). Every other network stores the local
index, as always, and is delivered by sign (delivery.deliver).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from cython_kernels import connect, rng
from brainsim.catalogue.synapses import SYNAPSE_MODELS
from brainsim.network.inputs import (NoiseCurrents, dc_table, external_events, ignores_weight,
                                     noise_currents, poisson_table)
from brainsim.network.neurons import (NeuronGroup, kernel_model, population_segments,
                                     state_layout)
from brainsim.network.partition import Partition
from brainsim.network.spatial import all_positions
from brainsim.spec.model import Distribution, ResolvedModel
from brainsim.spec.neuron_params import stored_offsets

RULE_CODES = {"fixed_total_number": 0, "fixed_indegree": 0, "pairwise_bernoulli": 1,
              "one_to_one": 2, "all_to_all": 3}
DISTRIBUTION_CODES = {"constant": 0, "normal": 1, "uniform": 2, "lognormal": 3}
WEIGHT_CHUNK = 1 << 20   # synapses per vectorised step when weights onto parrots are reset


@dataclass
class Synapses:
    """Incoming synapses of this rank's neurons, CSR by source gid (docs/architecture.md §4).
    channels 0: target is the local index (the channel is the weight's sign); C >= 2:
    target is local index * C + ring channel (a network with a receptor-addressed model)."""
    row_ptr: np.ndarray     # int64 [num_neurons + 1]
    target: np.ndarray      # uint32 local index of the target (times C plus channel)
    weight: np.ndarray      # float64, native unit of the target model (pA or mV)
    delay_steps: np.ndarray  # uint16
    local_min_delay_steps: int
    local_max_delay_steps: int
    channels: int = 0

    def target_local(self) -> np.ndarray:
        """The local index of every synapse's target (a copy when channels are encoded)."""
        return self.target if not self.channels else self.target // np.uint32(self.channels)

    def target_channel(self) -> np.ndarray:
        """The ring channel every synapse adds into."""
        if self.channels:
            return self.target % np.uint32(self.channels)
        return (self.weight < 0.0).astype(np.uint32)

    @property
    def num_synapses(self) -> int:
        return int(self.target.shape[0])

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.row_ptr, self.target, self.weight, self.delay_steps))


@dataclass
class LocalNetwork:
    """Everything this rank simulates; all dynamic state is flat arrays
    (docs/architecture.md §2.6)."""
    rank: int
    partition: Partition
    local_gids: np.ndarray                 # int64, ascending
    population_of_local: np.ndarray        # int16 population index per local neuron
    state: dict[str, np.ndarray]           # variable -> array by local index
    groups: list[NeuronGroup]
    synapses: Synapses
    build_seconds: dict[str, float] = field(default_factory=dict)
    positions: dict[str, np.ndarray] = field(default_factory=dict)  # population -> [size, dims] mm
    external_events: object = None    # cython_kernels.external.ExternalEvents (spike_generator)
    noise: NoiseCurrents | None = None  # noise_generator currents per epoch
    plastic: list = field(default_factory=list)   # PlasticProjection per plastic projection
    post_history: object = None   # plasticity.PostHistory when there are plastic synapses
    ring_channels: int = 2        # channels of the ring buffer (ring_channels(model))

    @property
    def receptor_addressed(self) -> bool:
        """Static synapses carry their ring channel (Synapses.channels)."""
        return self.synapses.channels > 0

    @property
    def num_local(self) -> int:
        return int(self.local_gids.shape[0])


def ring_channels(model: ResolvedModel) -> int:
    """Channels of the network's ring buffer, the same on every rank: the most any of its
    populations' models reads (2, the sign-chosen ex / in, unless a receptor-addressed
    model has more ports)."""
    return max([2] + [model.neuron_model_of(p).ring_channels for p in model.populations])


def has_addressed_model(model: ResolvedModel) -> bool:
    return any(model.neuron_model_of(p).receptor_addressed for p in model.populations)


class TargetCode:
    """How a projection's targets are written into the static CSR: the local index
    (channels 0), or local index * channels + the named receptor's channel (0 for a
    sign-chosen target: its sign is added after the fill, ``_sign_channels``)."""

    def __init__(self, model: ResolvedModel, proj, channels: int):
        self.channels = channels
        self.channel = 0
        if channels and proj.receptor is not None:
            tgt = model.populations[proj.target]
            self.channel = model.neuron_model_of(tgt).receptor_named(proj.receptor).channel

    def __call__(self, local: np.ndarray) -> np.ndarray:
        """Encoded targets of these local indices (-1, not on this rank, stays -1)."""
        if not self.channels:
            return local
        coded = local.astype(np.int64) * self.channels + self.channel
        coded = np.where(local < 0, -1, coded) if local.dtype.kind == "i" else coded
        return coded.astype(local.dtype)


def distribution_args(dist: Distribution) -> tuple[int, np.ndarray]:
    """(code, [a, b, min, max]) as the kernels take a distribution."""
    a, b = {"constant": (dist.value, 0.0), "normal": (dist.mean, dist.std),
            "uniform": (dist.low, dist.high), "lognormal": (dist.mu, dist.sigma)}[dist.kind]
    return DISTRIBUTION_CODES[dist.kind], np.array([a, b, dist.min, dist.max], dtype=np.float64)


def multinomial_counts(seed: int, projection_index: int, total: int, num_targets: int) -> np.ndarray:
    """Synapses per target of a fixed_total_number projection, identical on every rank.

    The draws couple all targets, so every rank makes all of them from the projection's
    MULTINOMIAL stream (docs/architecture.md §2.3; connect.fixed_total_counts). Not
    numpy.random: its import costs 6.3 MiB per rank (it loads OpenSSL through `secrets`).
    """
    return connect.fixed_total_counts(seed, projection_index, total, num_targets)


def _kernel_call(model: ResolvedModel, proj, partition: Partition, rank: int,
                 code: TargetCode) -> dict:
    """Keyword arguments of connect_projection common to both passes (rules 0-3)."""
    seed = model.simulation.seed
    src = model.populations[proj.source]
    tgt = model.populations[proj.target]
    target_gids = partition.local_gids(rank, tgt.offset, tgt.offset + tgt.size)
    if proj.rule == "fixed_total_number":
        counts = multinomial_counts(seed, proj.index, proj.total_number, tgt.size)
        counts = counts[target_gids - tgt.offset]
    elif proj.rule == "fixed_indegree":
        counts = np.full(target_gids.shape[0], proj.indegree, dtype=np.int64)
    else:
        counts = np.zeros(0, dtype=np.int64)
    weight_code, weight_params = distribution_args(proj.weight)
    delay_code, delay_params = distribution_args(proj.delay)
    return dict(rule=RULE_CODES[proj.rule], seed=seed, projection_index=proj.index,
                source_offset=src.offset, source_size=src.size, target_offset=tgt.offset,
                target_gids=target_gids, target_local=code(partition.local_index(target_gids)),
                counts=counts, probability=proj.probability,
                allow_autapses=proj.allow_autapses, allow_multapses=proj.allow_multapses,
                weight_code=weight_code, weight_params=weight_params,
                delay_code=delay_code, delay_params=delay_params, dt=model.simulation.dt)


def _outdegree_call(model: ResolvedModel, proj, partition: Partition, rank: int,
                    code: TargetCode) -> dict:
    src = model.populations[proj.source]
    tgt = model.populations[proj.target]
    target_gids = partition.local_gids(rank, tgt.offset, tgt.offset + tgt.size)
    local_of = np.full(tgt.size, -1, dtype=np.int64)
    local_of[target_gids - tgt.offset] = code(partition.local_index(target_gids))
    weight_code, weight_params = distribution_args(proj.weight)
    delay_code, delay_params = distribution_args(proj.delay)
    return dict(seed=model.simulation.seed, projection_index=proj.index,
                source_offset=src.offset, source_size=src.size, target_offset=tgt.offset,
                target_size=tgt.size, outdegree=proj.outdegree, local_of=local_of,
                allow_autapses=proj.allow_autapses, allow_multapses=proj.allow_multapses,
                weight_code=weight_code, weight_params=weight_params,
                delay_code=delay_code, delay_params=delay_params, dt=model.simulation.dt)


def _spatial_call(model: ResolvedModel, proj, partition: Partition, rank: int,
                  positions: dict, code: TargetCode) -> dict:
    src = model.populations[proj.source]
    tgt = model.populations[proj.target]
    target_gids = partition.local_gids(rank, tgt.offset, tgt.offset + tgt.size)
    kernel, mask = proj.kernel, proj.mask
    if kernel is not None:
        kind, p_center, width = kernel.kind, kernel.p_center, kernel.std or kernel.beta
    else:   # constant probability (or all_to_all) with a distance-dependent delay
        kind, p_center, width = "constant", (1.0 if proj.rule == "all_to_all"
                                             else proj.probability), 0.0
    mask_params = None
    if mask is not None:
        mask_params = [mask.radius] if mask.kind == "circular" else \
            list(mask.lower_left) + list(mask.upper_right)
    weight_code, weight_params = distribution_args(proj.weight)
    delay_code, delay_params = distribution_args(proj.delay)
    dd = proj.distance_delay
    return dict(seed=model.simulation.seed, projection_index=proj.index,
                source_offset=src.offset, source_size=src.size, target_gids=target_gids,
                target_local=code(partition.local_index(target_gids)),
                source_pos=np.ascontiguousarray(positions[src.name]),
                target_pos=np.ascontiguousarray(positions[tgt.name][target_gids - tgt.offset]),
                kernel=kind, p_center=p_center, width=width,
                mask="none" if mask is None else mask.kind, mask_params=mask_params,
                edge_wrap=src.positions.edge_wrap, extent=list(src.positions.extent),
                allow_autapses=proj.allow_autapses, weight_code=weight_code,
                weight_params=weight_params, delay_code=delay_code, delay_params=delay_params,
                dt=model.simulation.dt,
                distance_delay=None if dd is None else (dd.offset, dd.slope))


def _sonata_pass(model: ResolvedModel, proj, partition: Partition, rank: int, mode: int,
                 code: TargetCode, **out) -> tuple[int, int, int]:
    """Count or fill the edges of a SONATA projection onto this rank's targets, chunk by
    chunk, in the file's edge order (the same relative order on any number of ranks)."""
    from brainsim.io.sonata_edges import iter_local_edges
    src = model.populations[proj.source]
    tgt = model.populations[proj.target]
    local_targets = partition.local_gids(rank, tgt.offset, tgt.offset + tgt.size) - tgt.offset
    is_local = np.zeros(tgt.size, dtype=bool)
    is_local[local_targets] = True
    total, lo, hi = 0, np.iinfo(np.int64).max, 0
    for s_ids, t_ids, weight, delay in iter_local_edges(
            proj.sonata.edges_file, proj.sonata.population, lambda ids: is_local[ids],
            local_targets):
        n, a, b = connect.place_edges(mode, s_ids + src.offset,
                                      code(partition.local_index(t_ids + tgt.offset)),
                                      weight, delay, model.simulation.dt, **out)
        total += n
        if n and mode == 1:
            lo, hi = min(lo, a), max(hi, b)
    return (total, lo, hi) if total and mode == 1 else (total, 0, 0)


def _from_list_pass(model: ResolvedModel, proj, partition: Partition, rank: int, mode: int,
                    code: TargetCode, **out) -> tuple[int, int, int]:
    """Count or fill the listed synapses of a from_list projection onto this rank's
    targets, in list order: every neuron sums its inputs in the same order on any number
    of ranks."""
    lists = proj.from_list
    src = model.populations[proj.source]
    tgt = model.populations[proj.target]
    local_targets = partition.local_gids(rank, tgt.offset, tgt.offset + tgt.size) - tgt.offset
    is_local = np.zeros(tgt.size, dtype=bool)
    is_local[local_targets] = True
    mine = is_local[lists.targets]
    target_local = code(partition.local_index(lists.targets[mine] + tgt.offset))
    n, lo, hi = connect.place_edges(
        mode, lists.sources[mine] + src.offset, target_local.astype(np.uint32, copy=False),
        lists.weights[mine], lists.delays[mine], model.simulation.dt, **out)
    return (n, lo, hi) if n and mode == 1 else (n, 0, 0)


def _projection_passes(model: ResolvedModel, partition: Partition, rank: int,
                       positions: dict, projections=None, channels: int = 0):
    """Per projection, a function pass_(mode, **outputs) -> (count, min, max delay steps)
    that counts (mode 0) or fills (mode 1) its synapses onto this rank's targets (their
    targets encoded with `channels`, see TargetCode)."""
    for proj in model.projections if projections is None else projections:
        code = TargetCode(model, proj, channels)
        if proj.rule == "sonata":
            yield lambda mode, proj=proj, code=code, **out: _sonata_pass(
                model, proj, partition, rank, mode, code, **out)
        elif proj.rule == "from_list":
            yield lambda mode, proj=proj, code=code, **out: _from_list_pass(
                model, proj, partition, rank, mode, code, **out)
        elif proj.rule == "fixed_outdegree":
            call = _outdegree_call(model, proj, partition, rank, code)
            yield lambda mode, call=call, **out: connect.connect_outdegree(mode, **call, **out)
        elif proj.kernel is not None or proj.distance_delay is not None:
            call = _spatial_call(model, proj, partition, rank, positions, code)
            yield lambda mode, call=call, **out: connect.connect_spatial(mode, **call, **out)
        else:
            call = _kernel_call(model, proj, partition, rank, code)
            yield lambda mode, call=call, **out: connect.connect_projection(mode, **call, **out)


def build_synapses(model: ResolvedModel, partition: Partition, rank: int,
                   positions: dict | None = None, projections=None) -> Synapses:
    """Generate the incoming synapses of this rank's neurons in CSR by source gid: those
    of `projections` (default: every static projection; plastic ones have their own and
    keep their weights: a parrot target counts their events, PlasticProjection.unit_events).
    The static CSR of a network with a receptor-addressed model carries each synapse's
    ring channel in its target (Synapses.channels); plastic CSRs never do (they deliver by
    sign, and the spec refuses them onto receptor-addressed models)."""
    channels = 0
    if projections is None:
        projections = [p for p in model.projections
                       if not SYNAPSE_MODELS[p.synapse_model].plastic]
        channels = ring_channels(model) if has_addressed_model(model) else 0
        _check_code_range(partition, rank, channels)
    positions = all_positions(model) if positions is None else positions
    num_neurons = model.num_neurons
    empty_u32, empty_f64, empty_u16 = (np.zeros(0, np.uint32), np.zeros(0, np.float64),
                                       np.zeros(0, np.uint16))
    source_counts = np.zeros(num_neurons, dtype=np.int64)
    no_cursor = np.zeros(0, dtype=np.int64)
    for run_pass in _projection_passes(model, partition, rank, positions, projections,
                                       channels):
        run_pass(0, source_counts=source_counts, fill_ptr=no_cursor, out_target=empty_u32,
                 out_weight=empty_f64, out_delay=empty_u16)
    row_ptr = np.zeros(num_neurons + 1, dtype=np.int64)
    np.cumsum(source_counts, out=row_ptr[1:])
    del source_counts
    total = int(row_ptr[-1])
    target = np.empty(total, dtype=np.uint32)
    weight = np.empty(total, dtype=np.float64)
    delay_steps = np.empty(total, dtype=np.uint16)
    fill_ptr = row_ptr[:-1].copy()
    min_delay, max_delay = np.iinfo(np.int64).max, 0
    for run_pass in _projection_passes(model, partition, rank, positions, projections,
                                       channels):
        placed, lo, hi = run_pass(1, source_counts=no_cursor, fill_ptr=fill_ptr,
                                  out_target=target, out_weight=weight, out_delay=delay_steps)
        if placed:
            min_delay, max_delay = min(min_delay, lo), max(max_delay, hi)
    if not np.array_equal(fill_ptr, row_ptr[1:]):
        raise RuntimeError("synapse count and fill passes disagree (a source of synapses "
                           "changed between the passes?)")
    static = [p for p in projections if not SYNAPSE_MODELS[p.synapse_model].plastic]
    _unit_weights_onto_parrots(model, partition, rank, static, target, weight,
                               max(channels, 1))
    if channels:
        _sign_channels(model, partition, rank, channels, target, weight)
    return Synapses(row_ptr, target, weight, delay_steps,
                    int(min_delay) if max_delay else 0, int(max_delay), channels)


def _check_code_range(partition: Partition, rank: int, channels: int) -> None:
    """Encoded targets (local index * channels + channel) must fit the uint32 target."""
    n_local = int(partition.local_gids(rank).shape[0])
    if channels and n_local * channels > 1 << 32:
        raise ValueError(f"{n_local} neurons on rank {rank} x {channels} receptor channels "
                         "do not fit the 32-bit synapse target: use more ranks")


def _population_ranges(model: ResolvedModel, partition: Partition, rank: int, keep) -> list:
    """[lo, hi) local index ranges of the populations for which keep(declaration)."""
    local_gids = partition.local_gids(rank)
    ranges = []
    for pop in model.populations:
        if keep(model.neuron_model_of(pop)):
            lo, hi = np.searchsorted(local_gids, [pop.offset, pop.offset + pop.size])
            ranges.append((int(lo), int(hi)))
    return ranges


def _sign_channels(model: ResolvedModel, partition: Partition, rank: int, channels: int,
                   target: np.ndarray, weight: np.ndarray) -> None:
    """Channel 1 for the negative weights onto sign-chosen models in a network whose
    targets carry their channel (written as channel 0 by TargetCode): the same channel
    delivery by sign chooses, so those neurons sum the same inputs in the same order."""
    ranges = _population_ranges(model, partition, rank,
                                 lambda declaration: not declaration.receptor_addressed)
    for start in range(0, target.shape[0], WEIGHT_CHUNK):   # bounded temporaries
        chunk = target[start:start + WEIGHT_CHUNK]
        negative = weight[start:start + WEIGHT_CHUNK] < 0.0
        for lo, hi in ranges:
            chunk[negative & (chunk >= lo * channels) & (chunk < hi * channels)] += 1


def _unit_weights_onto_parrots(model: ResolvedModel, partition: Partition, rank: int,
                               projections, target: np.ndarray, weight: np.ndarray,
                               stride: int = 1) -> None:
    """Weight 1 (one event per spike) for the synapses onto populations that ignore weights
    (NEST's parrot_neuron): their drawn or read weights are replaced after the fill, so
    connectivity and delays stay those of the weights given. stride: the channels encoded
    in the targets (1: plain local indices)."""
    local_gids = partition.local_gids(rank)
    for pop_index in sorted({p.target for p in projections if ignores_weight(model, p.target)}):
        pop = model.populations[pop_index]
        lo, hi = np.searchsorted(local_gids, [pop.offset, pop.offset + pop.size])
        for start in range(0, target.shape[0], WEIGHT_CHUNK):   # bounded temporaries
            chunk = target[start:start + WEIGHT_CHUNK]
            weight[start:start + WEIGHT_CHUNK][(chunk >= lo * stride)
                                               & (chunk < hi * stride)] = 1.0


def _initial_state(model: ResolvedModel, local_gids: np.ndarray, population_of_local,
                   num_state: dict[str, np.ndarray]) -> None:
    """Draw each population's initial values per gid (INIT stream, item = the variable's
    declared init_stream_item), stored as the model declares (V_m relative to E_L)."""
    seed = model.simulation.seed
    for pop in model.populations:
        mask = population_of_local == pop.index
        if not mask.any():
            continue
        gids = local_gids[mask]
        declaration = model.neuron_model_of(pop)
        for variable, dist in pop.initial.items():
            declared = declaration.state_variable(variable)
            code, params = distribution_args(dist)
            values = rng.draw_distribution_array(seed, rng.INIT, declared.init_stream_item,
                                                 gids, code, params)
            if declared.relative_to is not None:
                values = values - stored_offsets(declaration, variable, pop)[gids - pop.offset]
            num_state[variable][mask] = values


def _neuron_groups(model: ResolvedModel, partition: Partition, rank: int,
                   population_of_local: np.ndarray) -> list[NeuronGroup]:
    dt = model.simulation.dt
    groups = []
    for model_name in sorted({p.model for p in model.populations}):
        bound = kernel_model(model.neuron_models[model_name])
        pops = [p for p in model.populations if p.model == model_name]
        begin, end, params, segment_of = [], [], [], {}
        for pop in pops:
            local = np.flatnonzero(population_of_local == pop.index)
            first = int(local[0]) if local.size else 0
            keys, subsets = _subset_inputs(model, pop)
            b, e, rows, members = population_segments(
                bound, pop, first, first + int(local.size), partition.local_gids(rank), dt,
                subsets)
            segment_of[pop.index] = list(range(len(begin), len(begin) + len(b)))
            for key, inside in zip(keys, members):   # an input onto node_ids: its segments
                segment_of[key] = [len(begin) + k for k in inside]
            begin += b
            end += e
            params += rows
        groups.append(NeuronGroup(
            model=bound, populations=[p.index for p in pops],
            seg_begin=np.array(begin, dtype=np.int64), seg_end=np.array(end, dtype=np.int64),
            seg_params=np.ascontiguousarray(params, dtype=np.float64),
            poisson=_poisson_table(model, model_name, segment_of),
            dc=dc_table(model.dc_inputs, segment_of, dt, kind="dc")))
    return groups


def _subset_inputs(model: ResolvedModel, pop) -> tuple[list, list]:
    """The Poisson and DC inputs onto node_ids of `pop`: keys ('poisson' | 'dc', input
    index) and their targets as bool arrays [pop.size] (segments are cut at their edges)."""
    keys, subsets = [], []
    for kind, inputs in (("poisson", model.poisson_inputs), ("dc", model.dc_inputs)):
        for inp in inputs:
            if inp.target == pop.index and inp.node_ids:
                subset = np.zeros(pop.size, dtype=bool)
                subset[list(inp.node_ids)] = True
                keys.append((kind, inp.index))
                subsets.append(subset)
    return keys, subsets


def _poisson_table(model: ResolvedModel, model_name: str, segment_of: dict):
    """The Poisson inputs of one model group; weight 1 (each spike one event) when the
    model ignores weights (NEST's parrot_neuron)."""
    table = poisson_table(model.poisson_inputs, segment_of, model.simulation.dt,
                          model.neuron_models[model_name])
    if model.neuron_models[model_name].ignores_weight:
        table.weight[:] = 1.0
    return table


def build_local_network(model: ResolvedModel, partition: Partition, rank: int) -> LocalNetwork:
    """Neurons, inputs and incoming synapses of `rank`; ring buffers are sized later by
    the engine, once the global min/max delay is known."""
    started = time.perf_counter()
    local_gids = partition.local_gids(rank)
    population_of_local = np.zeros(local_gids.shape[0], dtype=np.int16)
    for pop in model.populations:
        in_pop = (local_gids >= pop.offset) & (local_gids < pop.offset + pop.size)
        population_of_local[in_pop] = pop.index
    n = local_gids.shape[0]
    state = {name: np.zeros(n, dtype=dtype)
             for name, dtype in state_layout(model.neuron_models.values()).items()}
    _initial_state(model, local_gids, population_of_local, state)
    groups = _neuron_groups(model, partition, rank, population_of_local)
    positions = all_positions(model)

    def local_index_of(gids: np.ndarray) -> np.ndarray:
        owned = np.isin(gids, local_gids, assume_unique=False)
        return np.where(owned, np.searchsorted(local_gids, gids), -1).astype(np.int64)

    events = external_events(model, local_gids, local_index_of)
    noise = noise_currents(model, local_gids)
    neurons_done = time.perf_counter()
    synapses = build_synapses(model, partition, rank, positions)
    plastic, post_history = build_plastic(model, partition, rank, positions, local_gids,
                                          population_of_local)
    return LocalNetwork(rank=rank, partition=partition, local_gids=local_gids,
                        population_of_local=population_of_local, state=state, groups=groups,
                        synapses=synapses,
                        build_seconds={"neurons": neurons_done - started,
                                       "synapses": time.perf_counter() - neurons_done},
                        positions=positions, external_events=events, noise=noise,
                        plastic=plastic, post_history=post_history,
                        ring_channels=ring_channels(model))


def build_plastic(model: ResolvedModel, partition: Partition, rank: int, positions: dict,
                  local_gids: np.ndarray, population_of_local: np.ndarray):
    """One CSR per plastic projection, its declared per-source state, and the post
    histories of the targets of models with a postsynaptic trace."""
    from brainsim.network.plasticity import PlasticProjection, PostHistory
    plastic = []
    archiving = np.zeros(local_gids.shape[0], dtype=np.uint8)
    for proj in model.projections:
        synapse_model = SYNAPSE_MODELS[proj.synapse_model]
        if not synapse_model.plastic:
            continue
        syn = build_synapses(model, partition, rank, positions, [proj])
        src = model.populations[proj.source]
        params = dict(proj.synapse_params)
        per_source = {name: np.full(src.size, initial, dtype=dtype)
                      for name, (initial, dtype) in synapse_model.initial_state(params).items()}
        tgt = model.populations[proj.target]
        plastic.append(PlasticProjection(
            index=proj.index, source_offset=src.offset, source_size=src.size,
            target_offset=tgt.offset, target_size=tgt.size, params=params,
            row_ptr=syn.row_ptr, target=syn.target, weight=syn.weight,
            delay_steps=syn.delay_steps, local_min_delay_steps=syn.local_min_delay_steps,
            local_max_delay_steps=syn.local_max_delay_steps, synapse_model=synapse_model,
            per_source_state=per_source,
            kernel_constants=synapse_model.kernel_constants(params),
            unit_events=ignores_weight(model, proj.target)))
        if synapse_model.uses_post_trace:
            archiving[population_of_local == tgt.index] = 1
    if not any(p.uses_post_trace for p in plastic):
        return plastic, None
    tau_minus = np.full(local_gids.shape[0], 20.0)
    for pop in model.populations:
        mask = population_of_local == pop.index
        value = pop.params.get("tau_minus", 20.0)
        tau_minus[mask] = (value[local_gids[mask] - pop.offset]
                           if isinstance(value, np.ndarray) else value)
    return plastic, PostHistory(local_gids, archiving, tau_minus, model.simulation.dt)
