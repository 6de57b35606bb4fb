"""setup / run / reset / end and the state queries, over brainsim.pynn.simulator.state."""
from __future__ import annotations

from pyNN import common
from pyNN.common.control import DEFAULT_MAX_DELAY, DEFAULT_MIN_DELAY, DEFAULT_TIMESTEP
from pyNN.recording import get_io

from brainsim.pynn import simulator


def setup(timestep=DEFAULT_TIMESTEP, min_delay=DEFAULT_MIN_DELAY, **extra_params):
    """timestep, min_delay, max_delay (ms); rng_seed (or seed): brainsim's seed."""
    max_delay = extra_params.get('max_delay', DEFAULT_MAX_DELAY)
    common.setup(timestep, min_delay, **extra_params)
    state = simulator.state
    state.clear()
    state.dt = float(timestep)
    state.min_delay = float(timestep if min_delay == "auto" else min_delay)
    state.auto_min_delay = min_delay == "auto"
    state.max_delay = float(state.min_delay * 100 if max_delay == "auto" else max_delay)
    state.seed = int(extra_params.get("rng_seed", extra_params.get("seed", 12345)))
    return rank()


def end(compatible_output=True):
    """Write what record(..., filename) asked for; forget the network."""
    for population, variables, filename in simulator.state.write_on_end:
        population.write_data(get_io(filename), variables)
    simulator.state.write_on_end = []


run, run_until = common.build_run(simulator)
run_for = run
reset = common.build_reset(simulator)
initialize = common.initialize
get_current_time, get_time_step, _setup_min_delay, get_max_delay, \
    num_processes, rank = common.build_state_queries(simulator)


def get_min_delay():
    """min_delay of setup(); with min_delay='auto', after a run, the network's shortest
    synaptic delay (as NEST reports it), before one the time step."""
    state = simulator.state
    delays = [prj.delays.min() for prj in state.projections if len(prj)]
    if getattr(state, "auto_min_delay", False) and state.running and delays:
        return float(min(delays))
    return state.min_delay
