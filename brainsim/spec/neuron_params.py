"""Per-neuron parameters: `populations[i].params.<name>` as one value per neuron.

A parameter is a number (every neuron), a list / 1-D array of one value per neuron (size
after scaling), or a `{distribution: ...}` mapping as `initial` takes, drawn per gid from
the PARAM stream (kind PARAM_STREAM = 11, item = crc32 of the name mod 2**24) so the
values do not depend on the number of ranks. A per-neuron parameter whose values are all
equal is stored as that one number: such a population behaves (and hashes) as if the
number had been given.

Resolved, a per-neuron parameter is a read-only float64 array [size]; every other one a
float (or bool). NEST's checks run on each distinct row of values; an error names the
first failing neuron. What needs one value per population (mV weights, sqrt
compensation) reads the parameters through `homogeneous`, which refuses arrays.
"""
from __future__ import annotations

import zlib
from typing import Mapping

import numpy as np

from .checker import describe, fmt
from .quantities import read_quantity

# Stream kind of per-neuron parameter draws (the counter's top byte; 1..7 rng.pyx,
# 8 positions, 9 noise, 10 state sampling are taken): item = a 24-bit hash of the parameter's name.
PARAM_STREAM = 11
ITEM_SPAN = 1 << 24
DISTRIBUTION_CODES = {"constant": 0, "normal": 1, "uniform": 2, "lognormal": 3}


def param_stream_item(name: str) -> int:
    return zlib.crc32(name.encode("utf-8")) % ITEM_SPAN


class PerNeuronParameter(Exception):
    """A parameter read through `homogeneous` has one value per neuron (not a KeyError:
    Mapping.get must not answer its default for it)."""


class _Homogeneous(Mapping):
    def __init__(self, params: Mapping):
        self._params = params

    def __getitem__(self, key):
        value = self._params[key]
        if isinstance(value, np.ndarray):
            raise PerNeuronParameter(key)
        return value

    def __contains__(self, key):
        return key in self._params

    def __iter__(self):
        return iter(self._params)

    def __len__(self):
        return len(self._params)


def homogeneous(params: Mapping) -> Mapping:
    """A view of params whose reads raise PerNeuronParameter(name) on a per-neuron value."""
    return _Homogeneous(params)


def is_per_neuron(params: Mapping) -> bool:
    return any(isinstance(v, np.ndarray) for v in params.values())


def distinct_rows(params: Mapping, size: int) -> tuple[list[dict], np.ndarray]:
    """The distinct parameter sets of a population and, per neuron (population-local
    index), the index of its set: ([params], a broadcast 0, no memory) when every value
    is one number. Sets are numbered by their first neuron, so row 0 is neuron 0's."""
    varying = [k for k, v in params.items() if isinstance(v, np.ndarray)]
    if not varying:
        return [dict(params)], np.broadcast_to(np.int64(0), (size,))
    table = np.stack([params[k] for k in varying], axis=1)
    _, first, inverse = np.unique(table, axis=0, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")          # renumber by first occurrence
    rank_of = np.empty_like(order)
    rank_of[order] = np.arange(order.size)
    rows = []
    for f in first[order]:
        row = dict(params)
        row.update({k: float(params[k][f]) for k in varying})
        rows.append(row)
    return rows, rank_of[inverse.reshape(-1)].astype(np.int64)


def per_neuron_values(params: Mapping, size: int, value_of) -> np.ndarray:
    """value_of(row) for every neuron (float64 [size], a read-only broadcast when there
    is one row), computed once per distinct row."""
    rows, row_of = distinct_rows(params, size)
    values = np.array([float(value_of(row)) for row in rows], dtype=np.float64)
    return np.broadcast_to(values[0], (size,)) if len(rows) == 1 else values[row_of]


def read_params(ck, m: dict, p: tuple, model, size: int, offset: int, seed: int) -> dict:
    """The population's parameters: defaults, then the given numbers, flags, per-neuron
    lists / arrays and distributions; NEST's checks per distinct row of values."""
    pp = p + ("params",)
    given = m.get("params")
    given = {} if given is None else given
    ck.mapping(given, pp, list(model.defaults),
               what=f"a mapping of {model.name} parameters")
    params = dict(model.defaults)
    for key in list(given):
        value = given[key]
        if key in model.flags:
            params[key] = ck.boolean(given, key, pp)
        elif isinstance(value, (list, tuple, np.ndarray)):
            params[key] = _listed(ck, given, key, pp, model, size)
        elif isinstance(value, dict):
            params[key] = _drawn(ck, given, key, pp, model, size, offset, seed)
        else:
            params[key] = ck.number(given, key, pp, unit=model.units[key],
                                    allow_minus_inf=key in model.may_be_minus_inf)
        if isinstance(params[key], np.ndarray):
            params[key] = _collapsed(params[key])
    _check_rows(ck, pp, model, params, given, size)
    return params


def _listed(ck, given: dict, key: str, pp: tuple, model, size: int):
    """A list or 1-D array of numbers, one per neuron; written back into the document
    as a list of floats (JSON / YAML round-trip exactly: checkpoints, run.json)."""
    p = pp + (key,)
    unit = model.units[key]
    raw = given[key]
    try:
        values = np.array(raw, dtype=np.float64)
    except (TypeError, ValueError):
        ck.fail(p, describe(raw) if not isinstance(raw, np.ndarray) else
                f"an array of dtype {raw.dtype}", f"a list of numbers ({unit}), one per neuron")
    if values.ndim != 1 or values.shape[0] != size:
        ck.fail(p, f"{values.size} values" if values.ndim == 1 else
                f"an array of shape {values.shape}",
                f"{size} values ({unit}), one per neuron of the population (after scaling)")
    bad = np.flatnonzero(np.isnan(values) | (np.isinf(values) & ~(
        (values < 0) & (key in model.may_be_minus_inf))))
    if bad.size:
        ck.fail(p + (int(bad[0]),), fmt(float(values[bad[0]])), f"a finite number ({unit})")
    given[key] = values.tolist()
    return values


def _drawn(ck, given: dict, key: str, pp: tuple, model, size: int, offset: int, seed: int):
    """A distribution drawn once per neuron, keyed by (seed, PARAM_STREAM, item, gid)."""
    from cython_kernels import rng
    dist, _ = read_quantity(ck, given, key, pp, unit=model.units[key])
    if dist.kind == "constant":
        return dist.value
    code, args = distribution_args(dist)
    gids = np.arange(offset, offset + size, dtype=np.int64)
    try:
        return rng.draw_distribution_array(seed, PARAM_STREAM, param_stream_item(key), gids,
                                           code, args)
    except ValueError:
        ck.fail(pp + (key,), f"{dist.kind} distribution with bounds [{fmt(dist.min)}, "
                f"{fmt(dist.max)}] that drew no value inside them",
                "bounds that contain the bulk of the distribution")


def distribution_args(dist) -> tuple[int, np.ndarray]:
    """(code, [a, b, min, max]) as rng.draw_distribution_array takes a distribution."""
    a, b = {"constant": (dist.value, 0.0), "normal": (dist.mean, dist.std),
            "uniform": (dist.low, dist.high), "lognormal": (dist.mu, dist.sigma)}[dist.kind]
    return DISTRIBUTION_CODES[dist.kind], np.array([a, b, dist.min, dist.max], dtype=np.float64)


def _collapsed(values: np.ndarray):
    """One number when every neuron has the same value, else the array made read-only."""
    if values.size and np.all(values == values[0]):
        return float(values[0])
    values.setflags(write=False)
    return values


def _check_rows(ck, pp: tuple, model, params: dict, given: dict, size: int) -> None:
    """model.check on every distinct row; the first failing neuron is named."""
    rows, row_of = distinct_rows(params, size)
    for index, row in enumerate(rows):
        problems = model.check(row)
        if not problems:
            continue
        keys, found, expected = problems[0]
        keys = (keys,) if isinstance(keys, str) else keys
        culprit = next((k for k in keys if k in given), None)
        where = pp + (culprit,) if culprit else pp
        if len(rows) > 1:
            neuron = int(np.flatnonzero(row_of == index)[0])
            if culprit and isinstance(params[culprit], np.ndarray):
                where = where + (neuron,)
            found = f"neuron {neuron}: {found}"
        ck.fail(where, found, expected)


def stored_offsets(declaration, variable: str, population) -> np.ndarray:
    """What makes a population's stored `variable` NEST's value (E_L for a V_m kept
    relative to it), per neuron of the population (mV, float64 [size])."""
    return per_neuron_values(population.params, population.size,
                             lambda row: declaration.stored_offset(variable, row))
