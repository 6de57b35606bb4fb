"""Driving the generated kernel of a shipped equation model directly: the model parsed,
analysed and lowered (brainsim.equations), its kernel compiled once per test session
(the conftest's kernel_cache), and one neuron advanced step by step through update() with
given per-step ring input and current, reading every state variable after each step."""
from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

import numpy as np

from brainsim.equations.lower import lower
from brainsim.network.inputs import DCTable, PoissonTable
from brainsim.network.neurons import input_plan
from brainsim.spec.expressions import evaluate

EQUATIONS_TESTS = Path(__file__).resolve().parents[1] / "equations"
if str(EQUATIONS_TESTS) not in sys.path:
    sys.path.insert(0, str(EQUATIONS_TESTS))

from shipped import shipped_ir  # noqa: E402

RING_LEN = 4


@lru_cache(maxsize=None)
def lowered(name: str):
    ir = shipped_ir(name)
    return ir, lower(ir)


def no_poisson() -> PoissonTable:
    empty = np.zeros(0, np.int64)
    return PoissonTable(seg=empty, item=empty, weight=np.zeros(0), delay_steps=empty,
                        first_step=empty, stop_step=empty, cdf=np.ones((0, 1)),
                        table_len=empty, lam=np.zeros(0))


def no_dc() -> DCTable:
    empty = np.zeros(0, np.int64)
    return DCTable(seg=empty, amplitude=np.zeros(0), first_step=empty, stop_step=empty)


def initial_state(name: str, params: dict, initial: dict | None = None) -> dict:
    """The kernel's state arrays (one neuron) at the model's initial values (stored
    relative to their offsets), `initial` overriding absolute values."""
    ir, low = lowered(name)
    offsets = dict(low.stored_offsets)
    state = {}
    for s in ir.state:
        value = (initial or {}).get(s.name)
        if value is None:
            value = evaluate(s.initial, params)
        if s.name in offsets:
            value -= evaluate(offsets[s.name], params)
        state[s.name] = np.array([float(value)])
    state["i_0"] = np.zeros(1)
    state["refractory"] = np.zeros(1, np.int32)
    if "ode_h" in low.spec.state_arguments:
        state["ode_h"] = np.zeros(1)
    return state


def run(kernel, name: str, params: dict, n_steps: int, dt: float = 0.1, ex=None,
        inh=None, current=None, initial=None):
    """Advance one neuron n_steps steps. ex, inh: per-step summed weights (>= 0, < 0)
    read in that step's update; current: per-step I_stim (pA). Returns (spike steps,
    {variable: absolute values after each step}, {"refractory": counter after each step})."""
    ir, low = lowered(name)
    values = {p.name: p.default for p in ir.parameters}
    values.update(params)
    row = low.segment_constants(values, dt)
    seg_params = np.array([[row[c] for c in kernel.SEGMENT_COLUMNS]])
    state = initial_state(name, values, initial)
    offsets = {v: evaluate(t, values) for v, t in low.stored_offsets}
    plan = input_plan(no_poisson(), no_dc(), 1)
    ring = np.zeros((RING_LEN, 1, 2))
    keys = np.zeros(8, np.uint64)
    gids = np.zeros(1, np.int64)
    seg = np.zeros(1, np.int64), np.ones(1, np.int64)
    traces = {s.name: np.empty(n_steps) for s in ir.state}
    traces["refractory"] = np.empty(n_steps, np.int64)
    spikes = []
    for step in range(n_steps):
        ring[step % RING_LEN, 0, 0] = 0.0 if ex is None else ex[step]
        ring[step % RING_LEN, 0, 1] = 0.0 if inh is None else inh[step]
        i_ext = np.array([[0.0 if current is None else current[step]]])
        n = kernel.update(*seg, seg_params, *[state[a] for a in kernel.STATE_ARGUMENTS],
                          ring, gids, plan, step, 1, 7, keys, i_ext)
        spikes += [step] * n
        for s in ir.state:
            traces[s.name][step] = state[s.name][0] + offsets.get(s.name, 0.0)
        traces["refractory"][step] = state["refractory"][0]
    return spikes, traces
