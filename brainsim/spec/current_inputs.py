"""Inputs onto a subset of a population (`node_ids`) and the shaped current generators
`step_current` (NEST step_current_generator) and `ac` (NEST ac_generator)."""
from __future__ import annotations

import numpy as np

from .checker import describe, fmt
from .model import ACInput, StepCurrentInput
from ..timesteps import is_on_grid

STEP_CURRENT_KEYS = ("type", "target", "amplitude_times", "amplitude_values", "start",
                     "stop", "delay", "node_ids")
AC_KEYS = ("type", "target", "amplitude", "offset", "frequency", "phase", "start", "stop",
           "delay", "node_ids")


def read_node_ids(ck, item: dict, p: tuple, tgt) -> tuple[int, ...]:
    """`node_ids`: population-local ids (a list, or a numpy array from a Python dict
    document), distinct; () when absent (every neuron). Sorted ascending; the document
    keeps them as a plain list."""
    if item.get("node_ids") is None:
        return ()
    raw = item["node_ids"]
    np_ = p + ("node_ids",)
    values = np.asarray(raw) if isinstance(raw, (list, tuple, np.ndarray)) else None
    if values is None or values.ndim != 1 or values.size == 0 or (
            values.dtype.kind not in "iu" and not (values.dtype.kind == "f" and np.all(
                values == np.round(values)))):
        ck.fail(np_, describe(raw) if values is None else
                f"{values.size} values of kind {values.dtype}" if values.ndim == 1 else
                f"an array of shape {values.shape}",
                f"a non-empty list of population-local ids (integers in [0, {tgt.size}))")
    ids = values.astype(np.int64)
    bad = np.flatnonzero((ids < 0) | (ids >= tgt.size))
    if bad.size:
        ck.fail(np_ + (int(bad[0]),), f"node id {int(ids[bad[0]])}",
                f"population-local ids in [0, {tgt.size}) of {tgt.name}")
    unique = np.unique(ids)
    if unique.size != ids.size:
        ck.fail(np_, "a repeated node id", "each neuron at most once (NEST connects a "
                "generator to a neuron once)")
    item["node_ids"] = unique.tolist()
    return tuple(unique.tolist())


def read_step_current(ck, item: dict, p: tuple, tgt, dt: float, index: int, window,
                      delay_of) -> StepCurrentInput:
    """NEST step_current_generator: amplitude_values[k] pA from amplitude_times[k] ms
    (> 0, on the grid, strictly increasing), 0 before the first; start/stop/delay as dc."""
    ck.mapping(item, p, STEP_CURRENT_KEYS,
               required=("target", "amplitude_times", "amplitude_values"))
    times = _numbers(ck, item, "amplitude_times", p, "ms")
    values = _numbers(ck, item, "amplitude_values", p, "pA")
    if len(times) != len(values):
        ck.fail(p, f"{len(times)} amplitude_times and {len(values)} amplitude_values",
                "one amplitude per time (NEST: the same size)")
    for k, t in enumerate(times):
        tp = p + ("amplitude_times", k)
        if t <= 0:
            ck.fail(tp, f"{fmt(t)} ms", "a time > 0 ms (NEST: amplitude can only be changed "
                    "at strictly positive times)")
        if not is_on_grid(t, dt):
            ck.fail(tp, f"{fmt(t)} ms is not a multiple of dt = {fmt(dt)} ms",
                    "a time on the simulation grid (NEST without allow_offgrid_times)")
        if k and round(t / dt) <= round(times[k - 1] / dt):
            ck.fail(tp, f"{fmt(t)} ms after {fmt(times[k - 1])} ms",
                    "strictly increasing amplitude_times")
    start, stop = window(ck, item, p, dt)
    return StepCurrentInput(index=index, target=tgt.index, amplitude_times=tuple(times),
                            amplitude_values=tuple(values), start=start, stop=stop,
                            delay=delay_of(ck, item, p, dt),
                            node_ids=read_node_ids(ck, item, p, tgt))


def read_ac(ck, item: dict, p: tuple, tgt, dt: float, index: int, window,
            delay_of) -> ACInput:
    """NEST ac_generator: offset + amplitude * sin(2 pi frequency t + phase) pA."""
    ck.mapping(item, p, AC_KEYS, required=("target",))
    amplitude = ck.number(item, "amplitude", p, default=0.0, unit="pA")
    offset = ck.number(item, "offset", p, default=0.0, unit="pA")
    frequency = ck.number(item, "frequency", p, default=0.0, unit="Hz")
    phase = ck.number(item, "phase", p, default=0.0, unit="deg")
    start, stop = window(ck, item, p, dt)
    return ACInput(index=index, target=tgt.index, amplitude=amplitude, offset=offset,
                   frequency=frequency, phase=phase, start=start, stop=stop,
                   delay=delay_of(ck, item, p, dt), node_ids=read_node_ids(ck, item, p, tgt))


def _numbers(ck, item: dict, key: str, p: tuple, unit: str) -> list[float]:
    raw = item[key]
    if isinstance(raw, np.ndarray):
        raw = raw.tolist()
    if not isinstance(raw, (list, tuple)):
        ck.fail(p + (key,), describe(raw), f"a list of numbers ({unit})")
    items = dict(enumerate(raw))
    values = [ck.number(items, j, p + (key,), unit=unit) for j in range(len(raw))]
    item[key] = values
    return values
