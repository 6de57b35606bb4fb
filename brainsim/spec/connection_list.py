"""The `from_list` rule: explicit synapses (PyNN's FromListConnector / FromFileConnector,
NEST's Connect with explicit source and target lists), checked at load.

    rule: {name: from_list, connections: CONNECTIONS}

CONNECTIONS is one of
  - a list of rows [i, j, weight, delay] (or [i, j], weight and delay then from `synapse`);
  - a mapping {sources, targets, weights, delays} of equal-length lists or numpy arrays
    (weights / delays may be scalars, or left out and taken from `synapse`);
  - {file: path}: a .npy array of shape [n, 4] or [n, 2], or a text file of 4 (or 2)
    whitespace-separated columns i j weight delay ('#' lines ignored; PyNN's
    `# columns = [...]` header, as Projection.save writes it, picks the columns by name).
Indices are population-local; weights in the target model's native unit; delays in ms.
"""
from __future__ import annotations

import ast
import os
from dataclasses import asdict, replace

import numpy as np

from .checker import Checker, describe, fmt
from .model import CONNECTION_ARRAYS, ConnectionList
from ..timesteps import steps_nearest

ARRAY_KEYS = CONNECTION_ARRAYS
FILE_EXPECTED = ("a .npy array of shape [n, 4] (i, j, weight, delay) or [n, 2], or a text "
                 "file of 4 or 2 columns i j weight delay")
PYNN_COLUMNS = ("i", "j", "weight", "delay")


def read_columns(ck: Checker, rule: dict, rp, resolve_path) -> tuple:
    """(sources, targets, weights or None, delays or None, path of each array, file).
    Indices still float64 here; checked by check_connections."""
    cp = tuple(rp) + ("connections",)
    if "connections" not in rule:
        ck.fail(rp, "missing key 'connections'", "'connections' to be given for from_list")
    raw = rule["connections"]
    if isinstance(raw, dict) and "file" in raw:
        ck.mapping(raw, cp, ("file",))
        path = resolve_path(ck, ck.string(raw, "file", cp), cp + ("file",))
        table = _read_file(ck, path, cp + ("file",))
        raw["file"] = path          # the resolved document stands alone (resume)
        return _split_table(ck, table, [cp + ("file",)] * 4, cp + ("file",)) + (path,)
    if isinstance(raw, dict):
        return _read_mapping(ck, raw, cp) + ("",)
    if isinstance(raw, (list, tuple, np.ndarray)):
        return _read_rows(ck, raw, cp) + ("",)
    ck.fail(cp, describe(raw), "a list of [i, j, weight, delay] rows, {sources, targets, "
            "weights, delays} or {file: path}")


def _numeric(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and \
        not isinstance(value, (bool, np.bool_))


def _read_rows(ck: Checker, rows, cp) -> tuple:
    if isinstance(rows, np.ndarray):
        table = rows
    else:
        width = len(rows[0]) if len(rows) and isinstance(rows[0], (list, tuple)) else 4
        for r, row in enumerate(rows):      # YAML rows: already Python objects, one pass
            if not isinstance(row, (list, tuple)) or len(row) != width or width not in (2, 4):
                ck.fail(cp + (r,), describe(row) if not isinstance(row, (list, tuple))
                        else f"a row of {len(row)} values", "[i, j, weight, delay] or "
                        "[i, j] (every row alike)")
            for c, value in enumerate(row):
                if not _numeric(value):
                    ck.fail(cp + (r, c), describe(value), "a number")
        table = np.array(rows, dtype=np.float64).reshape(len(rows), width)
    paths = [lambda r, c=c: cp + (r, c) for c in range(4)]
    return _split_table(ck, table, paths, cp)


def _split_table(ck: Checker, table, paths, cp) -> tuple:
    """Columns of an [n, 4] or [n, 2] table; paths: per column, a path or f(row) -> path."""
    try:
        table = np.asarray(table, dtype=np.float64)
    except (TypeError, ValueError):
        ck.fail(cp, "a table of non-numbers", "numbers")
    if table.ndim != 2 or table.shape[1] not in (2, 4):
        ck.fail(cp, f"an array of shape {list(table.shape)}", "shape [n, 4] (i, j, weight, "
                "delay) or [n, 2] (i, j)")
    weights = table[:, 2].copy() if table.shape[1] == 4 else None
    delays = table[:, 3].copy() if table.shape[1] == 4 else None
    return table[:, 0].copy(), table[:, 1].copy(), weights, delays, paths


def _read_mapping(ck: Checker, raw: dict, cp) -> tuple:
    ck.mapping(raw, cp, ARRAY_KEYS, required=("sources", "targets"))
    arrays = {}
    for key in ARRAY_KEYS:
        if key not in raw:
            arrays[key] = None
            continue
        value = raw[key]
        if isinstance(value, (list, tuple)) and not all(_numeric(v) for v in value):
            bad = next(k for k, v in enumerate(value) if not _numeric(v))
            ck.fail(cp + (key, bad), describe(value[bad]), "a number")
        try:
            array = np.asarray(value)
            if array.dtype.kind not in "iuf" or array.ndim > 1:
                raise TypeError
            array = array.astype(np.float64)
        except (TypeError, ValueError):
            ck.fail(cp + (key,), describe(value) if not isinstance(value, np.ndarray) else
                    f"a {value.dtype} array of shape {list(value.shape)}",
                    "a 1-D array of numbers" + (" or a number" if key in ("weights", "delays")
                                                else ""))
        if array.ndim == 0 and key in ("sources", "targets"):
            ck.fail(cp + (key,), f"a scalar {fmt(float(array))}", "a 1-D array of indices")
        arrays[key] = array
    n = arrays["sources"].shape[0]
    for key in ARRAY_KEYS[1:]:
        if arrays[key] is not None and arrays[key].ndim == 1 and arrays[key].shape[0] != n:
            ck.fail(cp + (key,), f"{arrays[key].shape[0]} values for {n} sources",
                    "one value per connection (or a scalar)")
    for key in ("weights", "delays"):
        if arrays[key] is not None and arrays[key].ndim == 0:
            arrays[key] = np.full(n, float(arrays[key]))
    paths = [lambda r, k=key: cp + (k,) for key in ARRAY_KEYS]
    return (arrays["sources"], arrays["targets"], arrays["weights"], arrays["delays"], paths)


def _read_file(ck: Checker, path: str, fp) -> np.ndarray:
    if not os.path.isfile(path):
        ck.fail(fp, f"{path}: no such file", FILE_EXPECTED)
    try:
        if path.endswith(".npy"):
            return np.load(path, allow_pickle=False)
        columns = _pynn_columns(path)
        table = np.loadtxt(path, comments="#", ndmin=2, dtype=np.float64)
    except (OSError, ValueError, UnicodeDecodeError) as err:
        ck.fail(fp, f"{path}: unreadable ({type(err).__name__}: "
                f"{(str(err).splitlines() or [''])[0]})", FILE_EXPECTED)
    if columns is None:
        return table
    missing = [c for c in PYNN_COLUMNS if c not in columns]
    if missing or table.shape[1] != len(columns):
        ck.fail(fp, f"{path}: header columns {columns} for {table.shape[1]} columns",
                "columns naming i, j, weight and delay, one per column")
    return table[:, [columns.index(c) for c in PYNN_COLUMNS]] if table.size else \
        np.zeros((0, 4))


def _pynn_columns(path: str) -> list | None:
    """The column names of PyNN's `# columns = ["i", "j", "weight", "delay"]` header
    (pyNN.recording.files.StandardTextFile metadata), or None without one."""
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if not line.startswith("#"):
                return None
            key, _, value = line[1:].partition("=")
            if key.strip() == "columns":
                try:
                    names = ast.literal_eval(value.strip())
                except (ValueError, SyntaxError):
                    raise ValueError(f"header {line.strip()!r} is not a list of names")
                return [str(n) for n in names]
    return None


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _at(paths, column: int, row: int):
    path = paths[column]
    return path(row) if callable(path) else path


def check_connections(ck: Checker, columns: tuple, src, tgt, dt: float,
                      check_longest_delay) -> tuple[np.ndarray, np.ndarray]:
    """Integer in-range indices, finite weights, delays of at least one step; returns
    (sources, targets) as int64."""
    sources, targets, weights, delays, paths = columns
    for column, (values, pop) in enumerate(((sources, src), (targets, tgt))):
        bad = ~np.isfinite(values) | (values != np.round(values))
        if bad.any():
            r = _first(bad)
            ck.fail(_at(paths, column, r), f"index {fmt(float(values[r]))} (connection {r})",
                    "an integer population-local index")
        bad = (values < 0) | (values >= pop.size)
        if bad.any():
            r = _first(bad)
            ck.fail(_at(paths, column, r), f"index {int(values[r])} (connection {r})",
                    f"an index in [0, {pop.size}) of {pop.name}")
    bad = ~np.isfinite(weights)
    if bad.any():
        r = _first(bad)
        ck.fail(_at(paths, 2, r), f"weight {fmt(float(weights[r]))} (connection {r})",
                "a finite weight")
    half = 0.5 * dt
    bad = ~np.isfinite(delays) | (delays < half)
    if bad.any():
        r = _first(bad)
        ck.fail(_at(paths, 3, r), f"delay {fmt(float(delays[r]))} ms (connection {r})",
                f">= dt/2 = {fmt(half)} ms (delays round to whole steps of dt, at least one)")
    if delays.size:
        r = int(np.argmax(delays))
        if steps_nearest(float(delays[r]), dt) < 1:
            ck.fail(_at(paths, 3, r), f"delay {fmt(float(delays[r]))} ms", f">= dt/2 = "
                    f"{fmt(half)} ms")
        check_longest_delay(ck, _at(paths, 3, r), float(delays[r]), dt,
                            f"connection {r}: ")
    return sources.astype(np.int64), targets.astype(np.int64)


def connection_list(sources, targets, weights, delays, file: str) -> ConnectionList:
    """The checked arrays with their sha256 (the model hash follows the data)."""
    from .resolve import _sha256_hex as sha256_hex   # at call time: resolve imports us
    weights = np.ascontiguousarray(weights, dtype=np.float64)
    delays = np.ascontiguousarray(delays, dtype=np.float64)
    data = b"".join(np.ascontiguousarray(a).tobytes() for a in
                    (np.int64(sources.shape[0]), sources, targets, weights, delays))
    return ConnectionList(
        num_connections=int(sources.shape[0]), digest=sha256_hex(data),
        delay_min=float(delays.min()) if delays.size else 0.0,
        delay_max=float(delays.max()) if delays.size else 0.0, file=file,
        sources=sources, targets=targets, weights=weights, delays=delays)


def standalone_document(rule: dict, lists: ConnectionList) -> None:
    """What the resolved document keeps to rebuild the same list: a file as its absolute
    path (read_columns), rows and lists as given, and numpy arrays as the checked ones
    (int64 indices, float64 weights and delays, scalars expanded), which a checkpoint
    stores beside its manifest (brainsim/io/document_arrays.py)."""
    raw = rule["connections"]
    if isinstance(raw, np.ndarray) or (isinstance(raw, dict) and any(
            isinstance(value, np.ndarray) for value in raw.values())):
        rule["connections"] = {key: getattr(lists, key) for key in ARRAY_KEYS}


def projection_payload(proj) -> dict:
    """A Projection as the model hash takes it: a from_list projection by its digest
    (not its arrays); the others without the from_list key (their hash is unchanged)."""
    lists = proj.from_list
    if lists is not None:
        proj = replace(proj, from_list=replace(lists, **dict.fromkeys(ARRAY_KEYS)))
    payload = asdict(proj)
    if lists is None:
        del payload["from_list"]
    return payload
