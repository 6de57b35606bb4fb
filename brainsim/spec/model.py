"""The resolved model: frozen data that the network builder and the engine consume.

`spec.load` turns YAML files (model + run config + --set overrides) into a `ResolvedModel`:
every derivation of the model format (scaling of sizes and in-degrees, connection
probability -> synapse number, PSP -> PSC, weight and DC compensation) has already been
applied, every default filled in, every unit converted to the target model's native one.
Nothing here knows about MPI; the only arrays are a from_list projection's ConnectionList.

Units: times in ms, rates in Hz, currents in pA, potentials in mV, capacitance in pF.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping


@dataclass(frozen=True)
class Distribution:
    """A scalar drawn per synapse or per neuron, NEST-style, with `redraw` bounds.

    kind: 'constant' (value), 'normal' (mean, std), 'uniform' (low, high),
    'lognormal' (mu, sigma: exp of Normal(mu, sigma)).
    min/max: values outside [min, max] are redrawn (NEST's `redraw`); +-inf means no bound.
    """
    kind: str
    value: float = 0.0
    mean: float = 0.0
    std: float = 0.0
    low: float = 0.0
    high: float = 0.0
    mu: float = 0.0
    sigma: float = 0.0
    min: float = -math.inf
    max: float = math.inf

    def expected(self) -> float:
        """Mean of the distribution before truncation (used by DC compensation)."""
        if self.kind == "constant":
            return self.value
        if self.kind == "normal":
            return self.mean
        if self.kind == "uniform":
            return 0.5 * (self.low + self.high)
        return math.exp(self.mu + 0.5 * self.sigma ** 2)

    def support(self) -> tuple[float, float]:
        """Smallest and largest value a draw can take, bounds included."""
        if self.kind == "constant":
            return self.value, self.value
        if self.kind == "uniform":
            return max(self.low, self.min), min(self.high, self.max)
        if self.kind == "lognormal":
            return max(0.0, self.min), self.max
        return self.min, self.max

    def scaled(self, factor: float) -> "Distribution":
        """The distribution of factor * X (factor > 0); bounds scale too. Not for lognormal."""
        return Distribution(kind=self.kind, value=self.value * factor, mean=self.mean * factor,
                            std=self.std * factor, low=self.low * factor, high=self.high * factor,
                            mu=self.mu, sigma=self.sigma,
                            min=self.min * factor, max=self.max * factor)


@dataclass(frozen=True)
class Positions:
    """Where a population's neurons sit (mm), as NEST's spatial layers.

    kind: 'grid' (shape: neurons per axis; neuron n at column-major grid index, x slowest)
          or 'random' (uniform in the box, drawn per gid from the POSITION stream).
    extent, center: the box (mm) per axis (2 or 3 axes); edge_wrap: periodic boundaries.
    """
    kind: str
    extent: tuple[float, ...]
    center: tuple[float, ...]
    shape: tuple[int, ...] = ()
    edge_wrap: bool = False

    @property
    def num_dimensions(self) -> int:
        return len(self.extent)


@dataclass(frozen=True)
class Population:
    """Neurons with gids offset .. offset+size-1, all of one NEST neuron model.

    params: every parameter of the model (NEST names and units), defaults filled in, with
            any DC compensation already added to I_e.
    initial: state variable name (e.g. 'V_m', mV) -> per-neuron initial distribution.
    """
    index: int
    name: str
    model: str
    size: int
    offset: int
    params: Mapping[str, float]
    initial: Mapping[str, Distribution]
    positions: Positions | None = None


@dataclass(frozen=True)
class DistanceKernel:
    """Connection probability as a function of distance d (mm), NEST's
    spatial_distributions: 'gaussian' p_center * exp(-d**2 / (2 std**2)),
    'exponential' p_center * exp(-d / beta), 'constant' p_center."""
    kind: str
    p_center: float
    std: float = 0.0
    beta: float = 0.0


@dataclass(frozen=True)
class Mask:
    """Candidate sources of a spatial pairwise_bernoulli, by displacement source - target
    (mm): 'circular' |d| <= radius (a sphere in 3D), 'rectangular' lower_left <= d <=
    upper_right per axis (a box in 3D)."""
    kind: str
    radius: float = 0.0
    lower_left: tuple[float, ...] = ()
    upper_right: tuple[float, ...] = ()


@dataclass(frozen=True)
class DistanceDelay:
    """delay = offset + slope * distance (ms, ms/mm); slope = 1 / velocity."""
    offset: float
    slope: float


@dataclass(frozen=True)
class SonataEdges:
    """Synapses read from a SONATA edges file (absolute path), edge population `population`;
    node ids are local to the projection's source / target populations."""
    edges_file: str
    population: str
    nodes_file: str = ""
    num_edges: int = 0
    file_digest: str = ""   # sha256 of the edge data, so the model hash follows the file
    delay_min: float = 0.0  # ms, over the file
    delay_max: float = 0.0


@dataclass(frozen=True)
class ConnectionList:
    """Explicit synapses of a `from_list` projection, in list order: population-local
    source and target indices (int64), weights (float64, the target's native unit) and
    delays (float64, ms). The arrays are left out of comparisons and of the model hash,
    which takes `digest` (sha256 of the four arrays) instead; `file`: the absolute path
    they were read from ("" for rows in the document or in-memory arrays)."""
    num_connections: int
    digest: str
    delay_min: float = 0.0   # ms
    delay_max: float = 0.0
    file: str = ""
    sources: object = field(default=None, compare=False, repr=False)
    targets: object = field(default=None, compare=False, repr=False)
    weights: object = field(default=None, compare=False, repr=False)
    delays: object = field(default=None, compare=False, repr=False)


CONNECTION_ARRAYS = ("sources", "targets", "weights", "delays")


@dataclass(frozen=True)
class Projection:
    """Synapses from one population onto another, built on the targets' ranks.

    rule: 'fixed_total_number' (total_number), 'fixed_indegree' (indegree),
          'fixed_outdegree' (outdegree), 'pairwise_bernoulli' (probability, or `kernel`
          with optional `mask` between spatial populations), 'one_to_one', 'all_to_all',
          'sonata' (synapses read from `sonata`), 'from_list' (explicit synapses in
          `from_list`).
    distance_delay: when set, delays are offset + slope * distance instead of `delay`.
    weight: in the target model's native unit (pA for iaf_psc_exp, mV for iaf_psc_delta),
            already converted from PSP and scaled; the sign selects the receptor
            (>= 0 excitatory, < 0 inhibitory), as in NEST, unless `receptor` names one.
    delay: ms; rounded per synapse to whole steps of dt (>= 1 step).
    receptor: the port a receptor-addressed target model's synapses reach (NEST's
            receptor_type), None for the sign-chosen models.
    """
    index: int
    source: int
    target: int
    rule: str
    weight: Distribution
    delay: Distribution
    total_number: int = 0
    indegree: int = 0
    probability: float = 0.0
    allow_autapses: bool = True
    allow_multapses: bool = True
    synapse_model: str = "static_synapse"
    synapse_params: tuple = ()   # plastic synapses: sorted (name, value) pairs (stdp_synapse)
    outdegree: int = 0
    kernel: DistanceKernel | None = None
    mask: Mask | None = None
    distance_delay: DistanceDelay | None = None
    sonata: SonataEdges | None = None
    from_list: ConnectionList | None = None
    receptor: str | None = None


@dataclass(frozen=True)
class PoissonInput:
    """Independent Poisson spike trains into every neuron of a population.

    Like NEST's poisson_generator connected all_to_all: each target neuron receives its own
    train of rate `rate` (Hz, total = per-source rate x in-degree), weight `weight` (native
    unit of the target model), after `delay` (ms). Active for spikes emitted in [start, stop) ms.
    receptor: the port it reaches on a receptor-addressed target model (else None: by sign).
    """
    index: int
    target: int
    rate: float
    weight: float
    delay: float
    start: float = 0.0
    stop: float = math.inf
    receptor: str | None = None
    node_ids: tuple[int, ...] = ()   # population-local targets (ascending); (): every neuron


@dataclass(frozen=True)
class DCInput:
    """A constant current `amplitude` (pA) into every neuron of a population, as NEST's
    dc_generator: on for t in (start, stop] ms at the generator, reaching neurons after
    `delay` ms."""
    index: int
    target: int
    amplitude: float
    start: float = 0.0
    stop: float = math.inf
    delay: float = 1.0
    node_ids: tuple[int, ...] = ()   # population-local targets (ascending); (): every neuron


@dataclass(frozen=True)
class StepCurrentInput:
    """NEST step_current_generator: amplitude_values[k] (pA) from amplitude_times[k] (ms,
    on the grid, > 0, increasing) on, 0 before the first; timed like a dc_generator (on
    for t in (start, stop], reaching neurons after `delay` ms). node_ids: population-local
    targets, () every neuron."""
    index: int
    target: int
    amplitude_times: tuple[float, ...]
    amplitude_values: tuple[float, ...]
    start: float = 0.0
    stop: float = math.inf
    delay: float = 1.0
    node_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class ACInput:
    """NEST ac_generator: offset + amplitude * sin(2 pi frequency t + phase) (pA; Hz,
    degrees), by NEST's exact rotation recurrence from t = 0; timed like a dc_generator.
    node_ids: population-local targets, () every neuron."""
    index: int
    target: int
    amplitude: float
    offset: float = 0.0
    frequency: float = 0.0
    phase: float = 0.0
    start: float = 0.0
    stop: float = math.inf
    delay: float = 1.0
    node_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class SpikeGeneratorInput:
    """NEST spike_generator: spike times (ms, on the dt grid, > 0) sent with `weight`
    (native unit) after `delay` (ms). node_ids empty: every time goes to every neuron of
    the target population; else times[i] goes to population-local node node_ids[i].
    A spike at t with delay d is read in the target's update of step round((t + d)/dt) - 1;
    repeated times add (multiplicity). receptor: the port it reaches on a
    receptor-addressed target model (else None: by the weight's sign)."""
    index: int
    target: int
    times: tuple[float, ...]
    weight: float
    delay: float = 1.0
    node_ids: tuple[int, ...] = ()
    receptor: str | None = None


@dataclass(frozen=True)
class NoiseInput:
    """NEST noise_generator: a current mean + std * N(0, 1) (pA), drawn independently per
    target neuron every `dt` ms (a whole multiple of the resolution), timed like a
    dc_generator (start, stop, delay in ms)."""
    index: int
    target: int
    mean: float
    std: float
    dt: float
    start: float = 0.0
    stop: float = math.inf
    delay: float = 1.0
    node_ids: tuple[int, ...] = ()   # population-local targets (ascending); (): every neuron


@dataclass(frozen=True)
class Simulation:
    """dt: resolution (ms); t_sim: total biological time (ms); seed: master seed (uint64);
    warmup: leading ms excluded from the printed rate table (spikes are still recorded);
    when it is not shorter than t_sim the table covers the whole run instead."""
    dt: float
    t_sim: float
    seed: int
    warmup: float = 0.0


@dataclass(frozen=True)
class StateRecording:
    """Sampled state variables of chosen neurons, as NEST's voltmeter/multimeter.

    node_ids: population-local ids (ascending); variables: state variable names (V_m in mV,
    currents in pA, ...); a sample at t = k * interval (ms, a multiple of dt) holds the
    values after the update of the step ending at t, for start < t <= stop (ms).
    """
    population: str
    variables: tuple[str, ...]
    node_ids: tuple[int, ...]
    interval: float = 1.0
    start: float = 0.0
    stop: float = math.inf


@dataclass(frozen=True)
class Recording:
    """spikes: names of the populations whose spikes go to spikes.h5; state: sampled state
    variables (SONATA reports report_<variable>.h5); activity_bin: bin (ms) of the
    per-population spike counts in population_activity.h5 (None: not recorded);
    mean_V_m_interval: interval (ms) of the per-population mean membrane potential there."""
    spikes: tuple[str, ...]
    flush_every_spikes: int = 1_000_000
    state: tuple[StateRecording, ...] = ()
    activity_bin: float | None = None
    mean_V_m_interval: float | None = None


@dataclass(frozen=True)
class ResolvedModel:
    """Everything needed to build and run, derived from the YAML files.

    source: path of the model file; model_hash: sha256 of the canonical resolved spec.
    scale / indegree_scale: the factors applied to sizes / in-degrees.
    neuron_models: name -> declaration (brainsim.catalogue.neurons.NeuronModel) of every
    neuron model a population uses, built-in or the model file's own; the network and
    engine look a population's model up here, never in a fixed table.
    """
    name: str
    source: str
    model_hash: str
    scale: float
    indegree_scale: float
    populations: tuple[Population, ...]
    projections: tuple[Projection, ...]
    poisson_inputs: tuple[PoissonInput, ...]
    dc_inputs: tuple[DCInput, ...]
    simulation: Simulation
    recording: Recording
    output_dir: str = ""
    document: Mapping = field(default_factory=dict)
    spike_generators: tuple[SpikeGeneratorInput, ...] = ()
    noise_inputs: tuple[NoiseInput, ...] = ()
    neuron_models: Mapping = field(default_factory=dict)
    step_currents: tuple[StepCurrentInput, ...] = ()
    ac_inputs: tuple[ACInput, ...] = ()

    @property
    def num_neurons(self) -> int:
        return sum(p.size for p in self.populations)

    def neuron_model_of(self, population: Population):
        """The declaration (NeuronModel) of a population's neuron model."""
        return self.neuron_models[population.model]

    def population(self, name: str) -> Population:
        for pop in self.populations:
            if pop.name == name:
                return pop
        raise KeyError(name)
