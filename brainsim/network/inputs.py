"""Step-level tables for stateless external inputs (Poisson trains, DC currents).

Both are pure functions of the step, so they need no buffers and no saved state: a Poisson
count for neuron `gid` arriving at step s is drawn from the key (seed, input, gid, s - delay),
and a DC input is on or off by step. Times are converted to integer steps here, once.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cython_kernels import poisson as poisson_kernel

STEP_MAX = np.iinfo(np.int64).max // 4


def ms_to_steps(t_ms: float, dt: float) -> int:
    """Whole steps in t_ms, rounded as NEST's delay_ms_to_steps (nearest, halves up, via
    the steps per ms); +inf -> a far-future step."""
    if math.isinf(t_ms):
        return STEP_MAX
    return int(math.floor(t_ms * (1.0 / dt) + 0.5))


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


@dataclass
class DCTable:
    seg: np.ndarray          # int64
    amplitude: np.ndarray    # float64, pA
    first_step: np.ndarray   # int64, first step whose update reads the current into i_0
    stop_step: np.ndarray    # int64, first step whose update no longer reads it


def poisson_table(inputs, segment_of_population: dict[int, int], dt: float) -> PoissonTable:
    """Kernel arrays for the Poisson inputs whose target population is in this model group.

    NEST's poisson_generator emits in the steps e with start/dt < e <= stop/dt (measured
    with NEST 3.10, tests/reference/NOTES.md); each count arrives after the delay.
    """
    rows = [inp for inp in inputs if inp.target in segment_of_population]
    tables = [poisson_kernel.cdf_table(inp.rate * dt * 1e-3) for inp in rows]
    width = max([len(t) for t in tables], default=1)
    cdf = np.ones((len(rows), width), dtype=np.float64)
    for row, table in enumerate(tables):
        cdf[row, :len(table)] = table
    return PoissonTable(
        seg=np.array([segment_of_population[i.target] for i in rows], dtype=np.int64),
        item=np.array([i.index for i in rows], dtype=np.int64),
        weight=np.array([i.weight for i in rows], dtype=np.float64),
        delay_steps=np.array([ms_to_steps(i.delay, dt) for i in rows], dtype=np.int64),
        first_step=np.array([ms_to_steps(i.start, dt) + 1 for i in rows], dtype=np.int64),
        stop_step=np.array([min(STEP_MAX, ms_to_steps(i.stop, dt) + 1) for i in rows],
                           dtype=np.int64),
        cdf=cdf,
        table_len=np.array([len(t) for t in tables], dtype=np.int64),
        lam=np.array([i.rate * dt * 1e-3 for i in rows], dtype=np.float64),
    )


def dc_table(inputs, segment_of_population: dict[int, int], dt: float) -> DCTable:
    """Kernel arrays for the DC inputs of this model group.

    NEST 3.10 (tests/reference/NOTES.md): with a = start/dt, b = stop/dt, d = delay/dt,
    the neuron's update of step s uses the current iff max(a + d, d + 1) <= s <= b + d - 1
    (the generator sends in steps max(a - 1, 0) .. b - 2; the neuron reads it into i_0 at
    step t + d and applies it from step t + d + 1). The kernels take the read steps.
    """
    rows = [inp for inp in inputs if inp.target in segment_of_population]
    first, stop = [], []
    for inp in rows:
        delay_steps = ms_to_steps(inp.delay, dt)
        first.append(max(ms_to_steps(inp.start, dt) + delay_steps, delay_steps + 1) - 1)
        stop.append(min(STEP_MAX, ms_to_steps(inp.stop, dt) + delay_steps - 1))
    return DCTable(
        seg=np.array([segment_of_population[i.target] for i in rows], dtype=np.int64),
        amplitude=np.array([i.amplitude for i in rows], dtype=np.float64),
        first_step=np.array(first, dtype=np.int64),
        stop_step=np.array(stop, dtype=np.int64),
    )
