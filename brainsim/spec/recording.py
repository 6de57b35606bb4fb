"""The `recording` section: spikes, sampled state variables, population activity.

    recording:
      spikes: all                       # or a list of population names
      state:                            # SONATA reports OUTDIR/report_<variable>.h5
        - population: L4E
          variables: [V_m]              # recordable state variables of the model
          neurons: [0, 5, 17]           # population-local ids, or
          count: 50                     # a sample of this many neurons, or
          fraction: 0.01                # this fraction of the population (at least 1)
          interval: 1.0                 # ms, a multiple of dt (NEST's voltmeter default)
          start: 0.0                    # ms; samples at t = k * interval in (start, stop]
          stop: .inf
      population_activity:              # OUTDIR/population_activity.h5, cheap at any scale
        bin: 1.0                        # ms: spike counts per population per bin
        mean_V_m: 1.0                   # ms: interval of the mean V_m of each population
"""
from __future__ import annotations

import math

import numpy as np

from .checker import Checker, describe
from .expressions import suggest
from .model import Recording, StateRecording
from ..timesteps import is_on_grid, is_whole_steps

RECORDING_KEYS = ("spikes", "flush_every_spikes", "state", "population_activity")
ACTIVITY_KEYS = ("bin", "mean_V_m")
STATE_KEYS = ("population", "variables", "neurons", "count", "fraction", "interval", "start",
              "stop")
SAMPLE_STREAM = 10


def read_recording(ck: Checker, top: dict, pops: dict, dt: float, seed: int) -> Recording:
    p = ("recording",)
    raw = top.get("recording")
    raw = {} if raw is None else raw
    ck.mapping(raw, p, RECORDING_KEYS)
    chosen = _spike_populations(ck, raw, p, pops)
    flush = ck.number(raw, "flush_every_spikes", p, default=1_000_000, integer=True, above=0)
    state = tuple(_state_recording(ck, item, p + ("state", j), pops, dt, seed)
                  for j, item in enumerate(ck.list_of(raw, "state", p, default=[])))
    seen = set()
    for j, recording in enumerate(state):
        for variable in recording.variables:
            if (recording.population, variable) in seen:
                ck.fail(p + ("state", j), f"{variable} of {recording.population} recorded "
                        "twice", "each (population, variable) once")
            seen.add((recording.population, variable))
    activity_bin, mean_interval = _population_activity(ck, raw, p, dt)
    return Recording(spikes=tuple(n for n in pops if n in chosen), flush_every_spikes=flush,
                     state=state, activity_bin=activity_bin, mean_V_m_interval=mean_interval)


def _population_activity(ck: Checker, raw: dict, p: tuple, dt: float):
    """(bin ms or None, mean V_m interval ms or None); both multiples of dt."""
    item = raw.get("population_activity")
    if item is None:
        return None, None
    p = p + ("population_activity",)
    ck.mapping(item, p, ACTIVITY_KEYS)
    values = []
    for key in ACTIVITY_KEYS:
        value = ck.number(item, key, p, default=None, unit="ms", above=0.0, nullable=True)
        if value is not None and not is_whole_steps(value, dt):
            ck.fail(p + (key,), f"{value:g} ms", f"a multiple of dt = {dt:g} ms")
        values.append(value)
    return values[0], values[1]


def _spike_populations(ck: Checker, raw: dict, p: tuple, pops: dict) -> list[str]:
    spikes = raw.get("spikes", "all")
    if spikes == "all":
        return list(pops)
    if not isinstance(spikes, list):
        ck.fail(p + ("spikes",), describe(spikes), "'all' or a list of population names")
    chosen = []
    for j, name in enumerate(spikes):
        if not isinstance(name, str) or name not in pops:
            shown = f"'{name}'{suggest(name, pops)}" if isinstance(name, str) else describe(name)
            ck.fail(p + ("spikes", j), f"unknown population {shown}", "one of " + ", ".join(pops))
        if name in chosen:
            ck.fail(p + ("spikes", j), f"'{name}' listed twice", "each population once")
        chosen.append(name)
    return chosen


def _state_recording(ck: Checker, item, p: tuple, pops: dict, dt: float,
                     seed: int) -> StateRecording:
    ck.mapping(item, p, STATE_KEYS, required=("population", "variables"))
    name = ck.name_in(item, "population", p, pops)
    pop = pops[name]
    allowed = pop.model.recordables    # NEST's recordables, as declared
    variables = item["variables"]
    if isinstance(variables, str):
        variables = [variables]
    if not isinstance(variables, list) or not variables:
        ck.fail(p + ("variables",), describe(variables), "a list of state variable names")
    for j, variable in enumerate(variables):
        if variable not in allowed:
            shown = f"'{variable}'{suggest(variable, allowed)}" if isinstance(variable, str) \
                else describe(variable)
            ck.fail(p + ("variables", j), f"{shown} is not recordable in {pop.model.name}",
                    "one of " + ", ".join(allowed))
    interval = ck.number(item, "interval", p, default=1.0, unit="ms", above=0.0)
    # NEST's multimeter: interval >= dt and a multiple of it; start / stop on the grid
    if not is_whole_steps(interval, dt):
        ck.fail(p + ("interval",), f"{interval:g} ms", f"a multiple of dt = {dt:g} ms")
    start = ck.number(item, "start", p, default=0.0, unit="ms", minimum=0.0)
    stop = ck.number(item, "stop", p, default=math.inf, unit="ms", above=start, allow_inf=True)
    for key, value in (("start", start), ("stop", stop)):
        if math.isfinite(value) and not is_on_grid(value, dt):
            ck.fail(p + (key,), f"{value:g} ms", f"a multiple of dt = {dt:g} ms")
    node_ids = _chosen_neurons(ck, item, p, pop, seed)
    return StateRecording(population=name, variables=tuple(variables), node_ids=node_ids,
                          interval=interval, start=start, stop=stop)


def _chosen_neurons(ck: Checker, item: dict, p: tuple, pop, seed: int) -> tuple[int, ...]:
    """Explicit ids, or a sample drawn from (seed, population): the same on every rank."""
    given = [k for k in ("neurons", "count", "fraction") if k in item]
    if len(given) > 1:
        ck.fail(p, f"both '{given[0]}' and '{given[1]}'", "one of neurons, count, fraction")
    if "neurons" in item:
        ids = item["neurons"]
        if not isinstance(ids, list) or not ids:
            ck.fail(p + ("neurons",), describe(ids), "a list of population-local neuron ids")
        for j, value in enumerate(ids):
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < pop.size:
                ck.fail(p + ("neurons", j), describe(value),
                        f"an id in 0..{pop.size - 1} (population {pop.name} has {pop.size})")
        if len(set(ids)) != len(ids):
            ck.fail(p + ("neurons",), "a repeated id", "each neuron once")
        return tuple(sorted(ids))
    if "count" in item:
        count = ck.number(item, "count", p, integer=True, minimum=1, maximum=pop.size)
    elif "fraction" in item:
        fraction = ck.number(item, "fraction", p, above=0.0, maximum=1.0)
        count = max(1, int(round(fraction * pop.size)))
    else:
        return tuple(range(pop.size))
    key = np.array([seed, (SAMPLE_STREAM << 24) | pop.index], dtype=np.uint64)
    generator = np.random.Generator(np.random.Philox(key=key))
    return tuple(int(i) for i in np.sort(generator.choice(pop.size, size=count, replace=False)))
