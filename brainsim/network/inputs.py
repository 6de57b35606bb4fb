"""Step-level tables for stateless external inputs (Poisson trains, DC currents).

Both are pure functions of the step, so they need no buffers and no saved state: a Poisson
count for neuron `gid` arriving at step s is drawn from the key (seed, input, gid, s - delay),
and a DC input is on or off by step. Times are converted to integer steps here, once, with
NEST's rule for each (brainsim.timesteps: delays nearest, device and spike times on the grid).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cython_kernels import external
from cython_kernels import poisson as poisson_kernel
from cython_kernels.inputs import InputPlan
from brainsim.network.current_waves import ACWave, StepWave
from brainsim.timesteps import STEP_MAX, steps_nearest, steps_on_grid, steps_on_grid_array

# nearest whole steps (NEST's delay rounding), under the name the engine's modules use
ms_to_steps = steps_nearest


def ignores_weight(model, population_index: int) -> bool:
    """True when the population's neuron model ignores the weight of incoming spikes (NEST's
    parrot_neuron repeats each spike with its multiplicity): the build then stores weight 1
    (one event per spike) for every synapse and input onto it."""
    return model.neuron_model_of(model.populations[population_index]).ignores_weight


@dataclass
class PoissonTable:
    """Per-(input, segment) arrays in the layout the neuron kernels take."""
    seg: np.ndarray          # int64, segment index within the model group
    item: np.ndarray         # int64, input index (randomness stream)
    weight: np.ndarray       # float64, native unit of the target model
    delay_steps: np.ndarray  # int64
    first_step: np.ndarray   # int64, first emission step that may carry spikes
    stop_step: np.ndarray    # int64, first emission step that carries none
    cdf: np.ndarray          # float64 [n, table_len]
    table_len: np.ndarray    # int64
    lam: np.ndarray          # float64, expected count per step
    # int64 ring channel of the receptor each input names (receptor-addressed targets),
    # -1: by the weight's sign; None: all by sign
    channel: np.ndarray | None = None


@dataclass
class DCTable:
    seg: np.ndarray          # int64
    amplitude: np.ndarray    # float64, pA
    first_step: np.ndarray   # int64, first step whose update reads the current into i_0
    stop_step: np.ndarray    # int64, first step whose update no longer reads it


def input_plan(poisson: PoissonTable, dc: DCTable, num_segments: int,
               max_steps: int = 1, num_channels: int = 2) -> InputPlan:
    """The kernels' InputPlan of one neuron group: both tables checked and grouped by
    segment once, with scratch for epochs of up to max_steps steps (grown on demand) and
    the num_channels ring channels its kernel reads."""
    return InputPlan(
        num_segments, max_steps,
        poisson_seg=poisson.seg, poisson_item=poisson.item, poisson_weight=poisson.weight,
        poisson_delay_steps=poisson.delay_steps, poisson_first_step=poisson.first_step,
        poisson_stop_step=poisson.stop_step, poisson_cdf=poisson.cdf,
        poisson_table_len=poisson.table_len, poisson_lambda=poisson.lam,
        dc_seg=dc.seg, dc_amplitude=dc.amplitude, dc_first_step=dc.first_step,
        dc_stop_step=dc.stop_step, poisson_channel=poisson.channel,
        num_channels=num_channels)


def receptor_channel(declaration, receptor: str | None) -> int:
    """The ring channel of the receptor an input names on its target model, -1 for none
    (a sign-chosen model: the weight's sign chooses)."""
    return -1 if receptor is None else declaration.receptor_named(receptor).channel


def _rows_by_segment(inputs, segment_of_population: dict, kind: str
                     ) -> tuple[list, list[int]]:
    """One row per (input, segment it reaches): segment_of_population maps a population
    index to its segment index, or to the list of its segments (a population with
    per-neuron parameters or inputs onto node_ids has one per run of equal parameters and
    targets), and (kind, input index) to the segments of an input onto node_ids."""
    rows, segs = [], []
    for inp in inputs:
        if inp.target not in segment_of_population:
            continue
        segments = (segment_of_population.get((kind, inp.index), ())
                    if getattr(inp, "node_ids", ()) else segment_of_population[inp.target])
        for seg in segments if isinstance(segments, (list, tuple)) else (segments,):
            rows.append(inp)
            segs.append(seg)
    return rows, segs


def poisson_table(inputs, segment_of_population: dict, dt: float,
                  declaration=None) -> PoissonTable:
    """Kernel arrays for the Poisson inputs whose target population is in this model group
    (declaration: the group's NeuronModel, for the channels of the receptors inputs name).

    NEST's poisson_generator emits in the steps e with start/dt < e <= stop/dt (measured
    with NEST 3.10, tests/reference/NOTES.md); each count arrives after the delay.
    """
    rows, segs = _rows_by_segment(inputs, segment_of_population, "poisson")
    tables = [poisson_kernel.cdf_table(inp.rate * dt * 1e-3) for inp in rows]
    width = max([len(t) for t in tables], default=1)
    cdf = np.ones((len(rows), width), dtype=np.float64)
    for row, table in enumerate(tables):
        cdf[row, :len(table)] = table
    return PoissonTable(
        seg=np.array(segs, dtype=np.int64),
        item=np.array([i.index for i in rows], dtype=np.int64),
        weight=np.array([i.weight for i in rows], dtype=np.float64),
        delay_steps=np.array([steps_nearest(i.delay, dt) for i in rows], dtype=np.int64),
        first_step=np.array([steps_on_grid(i.start, dt) + 1 for i in rows], dtype=np.int64),
        stop_step=np.array([min(STEP_MAX, steps_on_grid(i.stop, dt) + 1) for i in rows],
                           dtype=np.int64),
        cdf=cdf,
        table_len=np.array([len(t) for t in tables], dtype=np.int64),
        lam=np.array([i.rate * dt * 1e-3 for i in rows], dtype=np.float64),
        channel=np.array([receptor_channel(declaration, getattr(i, "receptor", None))
                          for i in rows], dtype=np.int64),
    )


def dc_table(inputs, segment_of_population: dict, dt: float, kind: str = "dc") -> DCTable:
    """Kernel arrays for the DC inputs of this model group.

    NEST 3.10 (tests/reference/NOTES.md): with a = start/dt, b = stop/dt, d = delay/dt,
    the neuron's update of step s uses the current iff max(a + d, d + 1) <= s <= b + d - 1
    (the generator sends in steps max(a - 1, 0) .. b - 2; the neuron reads it into i_0 at
    step t + d and applies it from step t + d + 1). The kernels take the read steps.
    """
    rows, segs = _rows_by_segment(inputs, segment_of_population, kind)
    first, stop = [], []
    for inp in rows:
        delay_steps = steps_nearest(inp.delay, dt)
        first.append(max(steps_on_grid(inp.start, dt) + delay_steps, delay_steps + 1) - 1)
        stop.append(min(STEP_MAX, steps_on_grid(inp.stop, dt) + delay_steps - 1))
    return DCTable(
        seg=np.array(segs, dtype=np.int64),
        amplitude=np.array([i.amplitude for i in rows], dtype=np.float64),
        first_step=np.array(first, dtype=np.int64),
        stop_step=np.array(stop, dtype=np.int64),
    )


def _population_slice(local_gids: np.ndarray, pop) -> tuple[int, int]:
    """[begin, end) local indices of a population's neurons (contiguous, ascending gids)."""
    return (int(np.searchsorted(local_gids, pop.offset)),
            int(np.searchsorted(local_gids, pop.offset + pop.size)))


def external_events(model, local_gids: np.ndarray, local_index_of) -> "external.ExternalEvents":
    """This rank's spike_generator events, sorted by read step.

    A spike at t ms with delay d is read in step round(t/dt) + delay_steps - 1 (NEST:
    stamp t, slot stamp + d - 1). Equal times of one input (and node) are merged into one
    row of weight x multiplicity, as NEST sends one event with multiplicity n (weight 1
    onto a population that ignores weights, see ignores_weight).
    local_index_of(gids) -> local indices of owned gids (int64), -1 elsewhere.
    An input onto a receptor-addressed model goes to the channel of the receptor it names.
    """
    dt = model.simulation.dt
    b_rows, s_rows = [], []
    named = False
    for gen in model.spike_generators:
        pop = model.populations[gen.target]
        times = np.asarray(gen.times, dtype=np.float64)
        steps = steps_on_grid_array(times, dt) + steps_nearest(gen.delay, dt) - 1
        weight = 1.0 if ignores_weight(model, gen.target) else gen.weight
        channel = receptor_channel(model.neuron_model_of(pop), gen.receptor)
        named = named or channel >= 0
        if not gen.node_ids:
            begin, end = _population_slice(local_gids, pop)
            if begin == end or steps.size == 0:
                continue
            uniq, counts = np.unique(steps, return_counts=True)
            b_rows.append((uniq, weight * counts, np.full(uniq.size, begin),
                           np.full(uniq.size, end), np.full(uniq.size, gen.index),
                           np.full(uniq.size, channel)))
            continue
        local = local_index_of(np.asarray(gen.node_ids, dtype=np.int64) + pop.offset)
        mine = local >= 0
        if not mine.any():
            continue
        pairs = np.stack([steps[mine], local[mine]], axis=1)
        uniq, counts = np.unique(pairs, axis=0, return_counts=True)  # sorted by (step, local)
        s_rows.append((uniq[:, 0], uniq[:, 1], weight * counts,
                       np.full(uniq.shape[0], gen.index), np.full(uniq.shape[0], channel)))

    def stacked(rows, n):
        if not rows:
            return [np.zeros(0)] * n
        return [np.concatenate([r[c] for r in rows]) for c in range(n)]

    bs, bw, bb, be, bq, bc = stacked(b_rows, 6)
    order = np.lexsort((bq, bs)) if bs.size else np.zeros(0, np.int64)
    ss, st, sw, sq, sc = stacked(s_rows, 5)
    order2 = np.lexsort((st, sq, ss)) if ss.size else np.zeros(0, np.int64)
    channels = (bc[order], sc[order2]) if named else (None, None)  # None: all by sign
    return external.ExternalEvents(bs[order], bw[order], bb[order], be[order],
                                   ss[order2], st[order2], sw[order2], *channels)


@dataclass
class NoiseCurrents:
    """This rank's noise_generator inputs (NEST timing of current generators, see dc_table):
    `epoch_currents(first_step, n_steps, out)` writes into out[j, i] (j < n_steps) the
    current (pA) local neuron i receives in the V_m update of step first_step + j. The engine
    passes these rows to the neuron kernels as `i_ext`, which add them to the DC of the same
    step (I_e + (i_0 + i_ext)), as NEST sums both generators into one current buffer."""
    seed: int
    items: list
    num_local: int
    shaped: list = field(default_factory=list)   # step_current / ac: shaped_currents

    @property
    def active(self) -> bool:
        return bool(self.items) or bool(self.shaped)

    def epoch_currents(self, first_step: int, n_steps: int, out: np.ndarray) -> np.ndarray:
        out[:n_steps] = 0.0
        for q in self.items:
            external.noise_currents(self.seed, q["item"], q["gids"], q["local"], first_step,
                                    n_steps, q["t_first"], q["t_last"], q["delay_steps"],
                                    q["interval_steps"], q["mean"], q["std"], out)
        steps = np.arange(first_step, first_step + n_steps, dtype=np.int64)
        for q in self.shaped:
            sent = steps - q["delay_steps"] - 1          # generator step of each update
            current = q["wave"].sent(sent)
            current[(sent < q["t_first"]) | (sent > q["t_last"])] = 0.0
            out[:n_steps, q["local"]] += current[:, None]
        return out


def _targets(local_gids: np.ndarray, pop, node_ids) -> np.ndarray:
    """Local indices of an input's targets on this rank: the population's, or those of
    its population-local node_ids."""
    begin, end = _population_slice(local_gids, pop)
    if not node_ids:
        return np.arange(begin, end, dtype=np.int64)
    gids = np.asarray(node_ids, dtype=np.int64) + pop.offset
    return np.flatnonzero(np.isin(local_gids[begin:end], gids)) + begin


def _timing(inp, dt: float) -> dict:
    """Active generator steps and delay of a current generator (as dc_table)."""
    a = steps_on_grid(inp.start, dt)
    b = steps_on_grid(inp.stop, dt)
    return dict(t_first=max(a - 1, 0), t_last=min(STEP_MAX, b - 2),
                delay_steps=steps_nearest(inp.delay, dt))


def noise_currents(model, local_gids: np.ndarray) -> NoiseCurrents:
    """noise_generator, step_current and ac inputs of this rank (the i_ext rows)."""
    dt = model.simulation.dt
    items = []
    for inp in model.noise_inputs:
        local = _targets(local_gids, model.populations[inp.target], inp.node_ids)
        if not local.size:
            continue
        items.append(dict(item=inp.index, gids=np.ascontiguousarray(local_gids[local]),
                          local=local, **_timing(inp, dt),
                          interval_steps=steps_on_grid(inp.dt, dt), mean=inp.mean,
                          std=inp.std))
    return NoiseCurrents(seed=model.simulation.seed, items=items,
                         num_local=int(local_gids.shape[0]),
                         shaped=shaped_currents(model, local_gids))


def shaped_currents(model, local_gids: np.ndarray) -> list:
    """step_current and ac inputs with targets on this rank, in declaration order."""
    dt = model.simulation.dt
    shaped = []
    for inp in (*model.step_currents, *model.ac_inputs):
        local = _targets(local_gids, model.populations[inp.target], inp.node_ids)
        if not local.size:
            continue
        if hasattr(inp, "amplitude_times"):
            wave = StepWave(steps_on_grid_array(np.asarray(inp.amplitude_times), dt),
                            np.asarray(inp.amplitude_values))
        else:
            wave = ACWave(inp.amplitude, inp.offset, inp.frequency, inp.phase, dt)
        shaped.append(dict(wave=wave, local=local, **_timing(inp, dt)))
    return shaped
