"""Sampling state variables of chosen neurons (NEST's voltmeter / multimeter semantics).

A sample at time t = k * interval holds the values after the update of the step that ends
at t. The engine cuts an epoch's neuron update at sample times (neurons do not interact
within an epoch, so this changes nothing else). Every rank samples its own neurons into a
small buffer; at fixed frame counts, checkpoints and the end the buffers are gathered to
rank 0, which puts the columns in node-id order — so reports are bit-identical on any number
of ranks — and appends them to the report segments of each variable.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from brainsim.spec.neuron_params import stored_offsets
from brainsim.timesteps import steps_on_grid

FLUSH_FRAMES = 256


def recorded_params(params: dict, recorded: np.ndarray) -> dict:
    """A population's parameters for the neurons recorded on this rank (a per-neuron
    parameter becomes their values, so a derived quantity broadcasts per neuron)."""
    return {name: value[recorded] if isinstance(value, np.ndarray) else value
            for name, value in params.items()}


@dataclass
class Probe:
    """One (population, variable) recording on this rank."""
    population: str
    variable: str
    node_ids: np.ndarray        # all recorded population-local ids (ascending), every rank
    local_index: np.ndarray     # this rank's recorded neurons (local indices)
    local_columns: np.ndarray   # their columns among node_ids
    offset: np.ndarray          # added to the stored value (E_L for V_m: stored relative)
    interval_steps: int
    first_step: int             # first step_after that samples
    stop_step: int              # last step_after that may sample
    frames: list
    unit: str = ""              # of the variable, as its model declares it (mV, pA, ...)
    derived: object = None      # DerivedRecordable: computed from the state when sampled
    read_offsets: dict = None   # its state variables -> offset to add (E_L for V_m)
    params: dict = None         # the population's parameters, for a derived quantity

    def values(self, state: dict) -> np.ndarray:
        """NEST's values of this rank's recorded neurons now."""
        if self.derived is None:
            return state[self.variable][self.local_index] + self.offset
        inputs = {name: state[name][self.local_index] + shift
                  for name, shift in self.read_offsets.items()}
        return self.derived.compute(inputs, self.params)

    def due(self, step_after: int) -> bool:
        return (self.first_step <= step_after <= self.stop_step
                and step_after % self.interval_steps == 0)


def _first_sample_step(interval_steps: int, start_steps: int) -> int:
    """Smallest multiple of the interval after start (NEST samples in (start, stop])."""
    return (start_steps // interval_steps + 1) * interval_steps


class StateSampler:
    """Every sampled quantity of this rank: the probes of `recording.state` and, when asked
    for, the population means of engine.population_activity (`activity`)."""

    def __init__(self, model, network, comm, activity=None):
        self.comm = comm
        self.network = network
        self.population_activity = activity     # spike counts and means, or None
        self.activity = activity if activity is not None and activity.records_mean else None
        dt = model.simulation.dt
        self.probes: list[Probe] = []
        for recording in model.recording.state:
            pop = model.population(recording.population)
            node_ids = np.asarray(recording.node_ids, dtype=np.int64)
            gids = pop.offset + node_ids
            local_gids = network.local_gids
            mine = np.isin(gids, local_gids)
            local_index = np.searchsorted(local_gids, gids[mine])
            # interval, start and stop are grid times (checked at load, as NEST's multimeter)
            interval_steps = max(1, steps_on_grid(recording.interval, dt))
            stop = steps_on_grid(recording.stop, dt) if math.isfinite(recording.stop) \
                else np.iinfo(np.int64).max
            for variable in recording.variables:
                # the stored value plus the declared offset (E_L for V_m) is NEST's value
                declaration = model.neuron_model_of(pop)
                recorded = node_ids[mine]
                shift = stored_offsets(declaration, variable, pop)[recorded]
                derived = declaration.derived_quantity(variable)
                reads = ({name: stored_offsets(declaration, name, pop)[recorded]
                          for name in derived.reads} if derived is not None else None)
                self.probes.append(Probe(
                    recording.population, variable, node_ids, local_index,
                    np.flatnonzero(mine), shift,
                    interval_steps,
                    _first_sample_step(interval_steps, steps_on_grid(recording.start, dt)),
                    stop, [], declaration.unit_of(variable), derived, reads,
                    recorded_params(pop.params, recorded)))

    def layouts(self, dt: float) -> dict[str, dict]:
        """variable -> {population: (node ids, first frame ms, interval ms, unit)} for the
        writers."""
        result: dict[str, dict] = {}
        for probe in self.probes:
            result.setdefault(probe.variable, {})[probe.population] = (
                probe.node_ids, probe.first_step * dt, probe.interval_steps * dt, probe.unit)
        return result

    def sample_points(self, first_step: int, num_steps: int) -> list[int]:
        """The step_after values in (first_step, first_step + num_steps] with a sample due."""
        points = set(self.activity.sample_points(first_step, num_steps) if self.activity else ())
        end = first_step + num_steps
        for probe in self.probes:
            k = max(probe.first_step, (first_step // probe.interval_steps + 1) * probe.interval_steps)
            while k <= min(end, probe.stop_step):
                points.add(k)
                k += probe.interval_steps
        return sorted(points)

    def take(self, step_after: int) -> None:
        if self.activity is not None:
            self.activity.take(step_after)
        state = self.network.state
        for probe in self.probes:
            if probe.due(step_after):
                probe.frames.append(probe.values(state).astype(np.float32))

    def needs_flush(self) -> bool:
        return (any(len(p.frames) >= FLUSH_FRAMES for p in self.probes)
                or (self.activity is not None and self.activity.pending() >= FLUSH_FRAMES))

    def flush(self, writers: dict | None) -> None:
        """Collective: rank 0 receives every rank's frames and appends them in node-id order
        to writers[variable] (report segment chains, rank 0 only)."""
        if self.activity is not None:
            self.activity.flush()
        if not self.probes:
            return
        mine = [(p.local_columns, np.array(p.frames, dtype=np.float32).reshape(
            len(p.frames), p.local_columns.shape[0])) for p in self.probes]
        gathered = self.comm.gather(mine)
        for probe in self.probes:
            probe.frames.clear()
        if self.comm.rank != 0:
            return
        for index, probe in enumerate(self.probes):
            parts = [rank_parts[index] for rank_parts in gathered]
            frame_count = parts[0][1].shape[0]
            if frame_count == 0:
                continue
            frames = np.empty((frame_count, probe.node_ids.shape[0]), dtype=np.float32)
            for columns, values in parts:
                frames[:, columns] = values
            writers[probe.variable].append(probe.population, frames)
