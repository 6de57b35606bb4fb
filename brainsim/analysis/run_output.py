"""A finished run's output directory, read without loading it whole.

`OUTDIR/run.json` gives the population sizes and the times (`t_sim_ms`, `warmup_ms`,
`dt_ms`); `OUTDIR/spikes.h5` is a SONATA spike file sorted by time
(`/spikes/<population>/timestamps` ms float64, `node_ids` uint64 population-local). A time
window is found by binary search on the sorted timestamps (one element read per step, then
one chunk), so a window query reads only that window's spikes.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from brainsim.analysis.errors import AnalysisError

SEARCH_BLOCK = 1 << 16            # elements; the spike writer's chunk length
READ_BLOCK = 1 << 20              # spikes per block when a window is streamed
CORTICAL_NAME = re.compile(r"^L(\d+)([EI])$")


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
    """Read OUTDIR/run.json and check OUTDIR/spikes.h5 exists."""
    if not os.path.isdir(outdir):
        raise AnalysisError(f"{outdir}: not a directory; expected a brainsim output directory")
    meta_path = os.path.join(outdir, "run.json")
    if not os.path.exists(os.path.join(outdir, "spikes.h5")):
        raise AnalysisError(f"{outdir}: no spikes.h5; expected the output directory of a "
                            "finished `brainsim run`")
    try:
        with open(meta_path) as handle:
            meta = json.load(handle)
    except FileNotFoundError:
        raise AnalysisError(f"{meta_path}: missing; expected the run's metadata "
                            "(written at the end of `brainsim run`)") from None
    except json.JSONDecodeError as err:
        raise AnalysisError(f"{meta_path}: not valid JSON ({err.msg}, line {err.lineno})") \
            from None
    for key in ("population_sizes", "t_sim_ms", "dt_ms"):
        if key not in meta:
            raise AnalysisError(f"{meta_path}: no '{key}'; expected run.json of brainsim "
                                ">= 0.1.0 (rerun the model to get it)")
    sizes = {str(k): int(v) for k, v in meta["population_sizes"].items()}
    ordered = {name: sizes[name] for name in display_order(list(sizes))}
    return RunOutput(outdir=outdir, metadata=meta, population_sizes=ordered,
                     t_sim_ms=float(meta["t_sim_ms"]),
                     warmup_ms=float(meta.get("warmup_ms", 0.0)),
                     dt_ms=float(meta["dt_ms"]))


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
        try:
            self._file = h5py.File(path, "r")
        except OSError as err:
            raise AnalysisError(f"{path}: cannot be read as HDF5 ({err})") from None
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
        group = self._file["spikes"].get(population)
        if group is None:
            raise AnalysisError(f"{self.path}: no population '{population}'; found "
                                + ", ".join(self.populations))
        return group["timestamps"], group["node_ids"]

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
        return times[start:stop], ids[start:stop].astype(np.int64)

    def iter_window(self, population: str, t0_ms: float, t1_ms: float,
                    block: int = READ_BLOCK) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """The same spikes as read_window, in blocks of at most `block` spikes."""
        times, ids = self._datasets(population)
        start, stop = self.window_indices(population, t0_ms, t1_ms)
        for first in range(start, stop, block):
            last = min(first + block, stop)
            yield times[first:last], ids[first:last].astype(np.int64)
