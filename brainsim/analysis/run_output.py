"""A finished run's output directory, read without loading it whole.

`OUTDIR/run.json` gives the population sizes and the times (`t_sim_ms`, `warmup_ms`,
`dt_ms`); `OUTDIR/spikes.h5` is a SONATA spike file sorted by time
(`/spikes/<population>/timestamps` ms float64, `node_ids` uint64 population-local). A time
window is found by binary search on the sorted timestamps (one element read per step, then
one chunk), so a window query reads only that window's spikes.
"""
from __future__ import annotations

import json
import math
import os
import re
import stat
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from brainsim.analysis.errors import AnalysisError

SEARCH_BLOCK = 1 << 16            # elements; the spike writer's chunk length
READ_BLOCK = 1 << 20              # spikes per block when a window is streamed
CORTICAL_NAME = re.compile(r"^L(\d+)([EI])$")
POPULATION_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,254}$")   # as brainsim.spec checks
MAX_JSON_BYTES = 16 << 20         # run.json, reference files: a few kB in practice
# Peak bytes per spike while one population's window is analysed: timestamps float64, node
# ids uint64 and their int64 copy, sort keys and bin indices of the statistics.
BYTES_PER_ANALYSED_SPIKE = 64


def regular_file(path: str, what: str, max_bytes: int | None = None) -> None:
    """Refuse (AnalysisError) a path that is missing, not a regular file (a FIFO would
    block, /dev/zero never ends, a directory cannot be read) or larger than max_bytes."""
    try:
        info = os.stat(path)
    except OSError as err:
        raise AnalysisError(f"{path}: {err.strerror or 'cannot be read'}; expected {what}") \
            from None
    if not stat.S_ISREG(info.st_mode):
        kind = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise AnalysisError(f"{path}: {kind}; expected {what}")
    if max_bytes is not None and info.st_size > max_bytes:
        raise AnalysisError(f"{path}: {info.st_size:,} bytes; expected {what} of at most "
                            f"{max_bytes >> 20} MiB")


def read_json(path: str, what: str):
    """The JSON document of a small regular file (AnalysisError on anything else)."""
    regular_file(path, what, MAX_JSON_BYTES)
    try:
        with open(path, "rb") as handle:
            return json.loads(handle.read(MAX_JSON_BYTES + 1))
    except OSError as err:
        raise AnalysisError(f"{path}: cannot be read ({err.strerror}); expected {what}") \
            from None
    except json.JSONDecodeError as err:
        raise AnalysisError(f"{path}: not valid JSON ({err.msg}, line {err.lineno})") \
            from None
    except (UnicodeDecodeError, RecursionError):
        raise AnalysisError(f"{path}: not JSON text; expected {what}") from None


def _finite_number(meta: dict, key: str, path: str, minimum: float, default=None) -> float:
    value = meta.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value) or value < minimum:
        raise AnalysisError(f"{path}: '{key}' is {value!r}; expected a finite number >= "
                            f"{minimum:g} (run.json of brainsim)")
    return float(value)


def _population_sizes(meta: dict, path: str) -> dict[str, int]:
    sizes = meta["population_sizes"]
    if not isinstance(sizes, dict) or not sizes:
        raise AnalysisError(f"{path}: 'population_sizes' is not a mapping of population "
                            "names to sizes; expected run.json of brainsim")
    for name, size in sizes.items():
        if not POPULATION_NAME.match(name):
            raise AnalysisError(f"{path}: population name {name[:60]!r}; expected an "
                                "identifier (letters, digits, _) as brainsim writes")
        if isinstance(size, bool) or not isinstance(size, int) or not 0 < size < 2 ** 32:
            raise AnalysisError(f"{path}: size of population {name} is {size!r}; expected "
                                "an integer in [1, 2**32)")
    return sizes


def display_order(names: list[str]) -> list[str]:
    """Cortical populations (L23E, L23I, L4E, ...) by layer, superficial first, E before I;
    any other naming keeps its given order."""
    matches = [CORTICAL_NAME.match(name) for name in names]
    if not names or not all(matches):
        return list(names)
    return sorted(names, key=lambda n: (int(CORTICAL_NAME.match(n).group(1)[0]),
                                        CORTICAL_NAME.match(n).group(1),
                                        CORTICAL_NAME.match(n).group(2) == "I"))


@dataclass(frozen=True)
class RunOutput:
    """What the analysis needs of a run: where its files are, its populations and times."""
    outdir: str
    metadata: dict                       # run.json as written
    population_sizes: dict[str, int]     # in display order
    t_sim_ms: float
    warmup_ms: float
    dt_ms: float

    @property
    def spikes_path(self) -> str:
        return os.path.join(self.outdir, "spikes.h5")

    @property
    def populations(self) -> list[str]:
        return list(self.population_sizes)

    def default_window_ms(self) -> tuple[float, float]:
        """The window of the rates brainsim printed at the end of the run: run.json's
        `rate_window_ms`, i.e. (warmup, t_sim], or (0, t_sim] when the warm-up was not
        shorter than the run; (warmup, t_sim] for run.json files written before it."""
        if "rate_window_ms" in self.metadata:
            first, stop = self.metadata["rate_window_ms"]
            return (float(first), float(stop))
        return (self.warmup_ms, self.t_sim_ms)


def load_run(outdir: str) -> RunOutput:
    """Read OUTDIR/run.json and check OUTDIR/spikes.h5 exists; every value the analysis
    uses is checked (AnalysisError naming the file), so a foreign or edited run.json gives
    one line."""
    if not os.path.isdir(outdir):
        raise AnalysisError(f"{outdir}: not a directory; expected a brainsim output directory")
    meta_path = os.path.join(outdir, "run.json")
    if not os.path.lexists(os.path.join(outdir, "spikes.h5")):
        raise AnalysisError(f"{outdir}: no spikes.h5; expected the output directory of a "
                            "finished `brainsim run`")
    if not os.path.lexists(meta_path):
        raise AnalysisError(f"{meta_path}: missing; expected the run's metadata "
                            "(written at the end of `brainsim run`)")
    meta = read_json(meta_path, "the run's metadata (run.json)")
    if not isinstance(meta, dict):
        raise AnalysisError(f"{meta_path}: a JSON {type(meta).__name__}; expected an object "
                            "(run.json of brainsim)")
    for key in ("population_sizes", "t_sim_ms", "dt_ms"):
        if key not in meta:
            raise AnalysisError(f"{meta_path}: no '{key}'; expected run.json of brainsim "
                                ">= 0.1.0 (rerun the model to get it)")
    sizes = _population_sizes(meta, meta_path)
    t_sim = _finite_number(meta, "t_sim_ms", meta_path, 0.0)
    dt = _finite_number(meta, "dt_ms", meta_path, 1e-12)
    warmup = _finite_number(meta, "warmup_ms", meta_path, 0.0, default=0.0)
    window = meta.get("rate_window_ms")
    if window is not None and not (isinstance(window, list) and len(window) == 2 and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in window)):
        raise AnalysisError(f"{meta_path}: 'rate_window_ms' is {window!r}; expected "
                            "[first ms, last ms]")
    regular_file(os.path.join(outdir, "spikes.h5"), "a SONATA spike file (HDF5)")
    ordered = {name: sizes[name] for name in display_order(list(sizes))}
    return RunOutput(outdir=outdir, metadata=meta, population_sizes=ordered,
                     t_sim_ms=t_sim, warmup_ms=warmup, dt_ms=dt)


def search_sorted_dataset(dataset, value: float, side: str = "left",
                          block: int = SEARCH_BLOCK) -> int:
    """np.searchsorted on a sorted 1-D h5py dataset, reading O(log n) elements and one block.

    side: "left" gives the first index with dataset[i] >= value, "right" the first with
    dataset[i] > value.
    """
    if side not in ("left", "right"):
        raise ValueError(f"side={side!r}; must be one of left, right")
    n = dataset.shape[0]
    beyond = (lambda x: x > value) if side == "right" else (lambda x: x >= value)
    lo, hi = 0, -(-n // block)               # over block starts 0, block, 2*block, ...
    while lo < hi:
        mid = (lo + hi) // 2
        if beyond(dataset[mid * block]):
            hi = mid
        else:
            lo = mid + 1
    if lo == 0:
        return 0
    start, stop = (lo - 1) * block, min(lo * block, n)
    return start + int(np.searchsorted(dataset[start:stop], value, side=side))


class SpikeFile:
    """Read-only access to spikes.h5 by population and time window (t0, t1] in ms.

    Use as a context manager, or call close(). Node ids come back as int64.
    """

    def __init__(self, path: str):
        import h5py
        regular_file(path, "a SONATA spike file (HDF5)")
        try:
            self._file = h5py.File(path, "r")
        except OSError as err:
            raise AnalysisError(f"{path}: cannot be read as HDF5 ({err}); expected a SONATA "
                                "spike file (empty or truncated?)") from None
        if "spikes" not in self._file:
            self._file.close()
            raise AnalysisError(f"{path}: no /spikes group; expected a SONATA spike file")
        self.path = path

    def __enter__(self) -> "SpikeFile":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._file.close()

    @property
    def populations(self) -> list[str]:
        return list(self._file["spikes"])

    def _datasets(self, population: str):
        import h5py
        group = self._file["spikes"].get(population)
        if group is None:
            raise AnalysisError(f"{self.path}: no population '{population}'; found "
                                + ", ".join(self.populations))
        where = f"{self.path}: /spikes/{population}"
        datasets = []
        for name, kind in (("timestamps", "f"), ("node_ids", "iu")):
            data = group.get(name) if isinstance(group, h5py.Group) else None
            if not isinstance(data, h5py.Dataset) or data.ndim != 1 \
                    or data.dtype.kind not in kind:
                raise AnalysisError(f"{where}/{name}: missing or not a 1-D "
                                    f"{'float' if kind == 'f' else 'integer'} dataset; "
                                    "expected a SONATA spike file")
            _check_stored(data, f"{where}/{name}")
            datasets.append(data)
        times, ids = datasets
        if times.shape != ids.shape:
            raise AnalysisError(f"{where}: {times.shape[0]:,} timestamps but "
                                f"{ids.shape[0]:,} node_ids; expected one node id per spike")
        return times, ids

    def window_indices(self, population: str, t0_ms: float, t1_ms: float) -> tuple[int, int]:
        """[start, stop) of the spikes with t0 < t <= t1."""
        times, _ = self._datasets(population)
        return (search_sorted_dataset(times, t0_ms, "right"),
                search_sorted_dataset(times, t1_ms, "right"))

    def read_window(self, population: str, t0_ms: float, t1_ms: float
                    ) -> tuple[np.ndarray, np.ndarray]:
        """(timestamps ms, node ids) of the population's spikes with t0 < t <= t1."""
        times, ids = self._datasets(population)
        start, stop = self.window_indices(population, t0_ms, t1_ms)
        _check_fits_in_memory(stop - start, f"{self.path}: /spikes/{population}")
        try:
            window_times, window_ids = times[start:stop], ids[start:stop]
        except OSError as err:
            raise AnalysisError(f"{self.path}: /spikes/{population} cannot be read ({err}); "
                                "expected an intact spike file") from None
        if window_ids.size and window_ids.dtype.kind == "u" \
                and window_ids.max() > np.iinfo(np.int64).max:
            raise AnalysisError(f"{self.path}: /spikes/{population}/node_ids holds "
                                f"{int(window_ids.max())}; expected population-local ids")
        return window_times, window_ids.astype(np.int64)

    def iter_window(self, population: str, t0_ms: float, t1_ms: float,
                    block: int = READ_BLOCK) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """The same spikes as read_window, in blocks of at most `block` spikes."""
        times, ids = self._datasets(population)
        start, stop = self.window_indices(population, t0_ms, t1_ms)
        for first in range(start, stop, block):
            last = min(first + block, stop)
            try:
                chunk = times[first:last], ids[first:last].astype(np.int64)
            except OSError as err:
                raise AnalysisError(f"{self.path}: /spikes/{population} cannot be read "
                                    f"({err}); expected an intact spike file") from None
            yield chunk


def _check_stored(dataset, where: str) -> None:
    """Refuse a dataset that claims more elements than the file stores: HDF5 lets a
    dataset's shape promise 1e10 spikes in a file of a few kB (unwritten chunks read as
    the fill value), which would be read into memory whole."""
    if dataset.compression is not None or dataset.size == 0:
        return                      # compressed chunks are smaller than their data
    stored = dataset.id.get_storage_size()
    if stored < dataset.size * dataset.dtype.itemsize:
        raise AnalysisError(f"{where}: claims {dataset.size:,} values but the file stores "
                            f"{stored:,} bytes of them; expected a complete spike file "
                            "(truncated or not written by brainsim?)")


def _check_fits_in_memory(num_spikes: int, where: str) -> None:
    from brainsim.engine.guards import available_memory_mib
    available = available_memory_mib()
    need = num_spikes * BYTES_PER_ANALYSED_SPIKE / (1 << 20)
    if available is not None and need > available:
        raise AnalysisError(f"{where}: {num_spikes:,} spikes in the window need about "
                            f"{need:,.0f} MiB to analyse; expected at most the {available:,.0f} "
                            "MiB available: use a shorter --window")
