"""SONATA report files (e.g. OUTDIR/report_V_m.h5): recorded state variables over time.

Layout read: `/report/<population>/data` float32 [time, element]; `mapping/node_ids`
(population-local ids), `mapping/index_pointers` (node i owns columns
index_pointers[i]:index_pointers[i+1]), `mapping/element_ids`, `mapping/time`
(start, stop, step) in ms. The variable is the file name's `report_<variable>.h5` part
unless the data carries a `variable_name` attribute; units come from its `units` attribute.
Only the requested columns are read.
"""
from __future__ import annotations

import glob
import os
from dataclasses import dataclass

import numpy as np

from brainsim.analysis.errors import AnalysisError


@dataclass
class Traces:
    """Recorded values of a few neurons of one population."""
    population: str
    variable: str
    units: str
    times_ms: np.ndarray          # [time]
    node_ids: np.ndarray          # [neuron], population-local
    values: np.ndarray            # [time, neuron]


def find_reports(outdir: str) -> list[str]:
    """HDF5 files in OUTDIR other than spikes.h5 that hold a /report group, sorted."""
    import h5py
    found = []
    for path in sorted(glob.glob(os.path.join(outdir, "*.h5"))):
        if os.path.basename(path) == "spikes.h5":
            continue
        try:
            with h5py.File(path, "r") as f:
                if "report" in f:
                    found.append(path)
        except OSError:
            continue
    return found


def variable_of(path: str, data) -> str:
    name = data.attrs.get("variable_name")
    if name is not None:
        return name.decode() if isinstance(name, bytes) else str(name)
    stem = os.path.splitext(os.path.basename(path))[0]
    return stem[len("report_"):] if stem.startswith("report_") else stem


def check_mapping(path: str, population: str, data, node_ids, pointers) -> None:
    """Refuse (AnalysisError) a report whose mapping does not fit its data: one pointer
    per node and one more, non-decreasing, within the data's columns."""
    where = f"{path}: /report/{population}"
    if data.ndim != 2 or data.dtype.kind != "f":
        raise AnalysisError(f"{where}/data: shape {data.shape}, type {data.dtype}; expected "
                            "a 2-D float dataset [time, element]")
    if node_ids.ndim != 1 or pointers.ndim != 1 or pointers.dtype.kind not in "iu" \
            or pointers.size != node_ids.size + 1:
        raise AnalysisError(f"{where}/mapping: {pointers.size} index_pointers for "
                            f"{node_ids.size} node_ids; expected one integer per node and "
                            "one more")
    signed = pointers.astype(np.float64)
    if pointers.size and (signed[0] < 0 or np.any(np.diff(signed) < 0)
                          or signed[-1] > data.shape[1]):
        raise AnalysisError(f"{where}/mapping/index_pointers: not non-decreasing within "
                            f"[0, {data.shape[1]}] (the data's columns); expected the "
                            "pointers of a SONATA report")


def read_traces(path: str, max_neurons: int = 3) -> list[Traces]:
    """The first element of up to max_neurons nodes of every population in a report file."""
    import h5py
    out = []
    with h5py.File(path, "r") as f:
        if "report" not in f:
            raise AnalysisError(f"{path}: no /report group; expected a SONATA report file")
        for population, group in f["report"].items():
            try:
                data, mapping = group["data"], group["mapping"]
                node_ids = mapping["node_ids"][()]
                pointers = mapping["index_pointers"][()]
                start, _, step = (float(x) for x in mapping["time"][()])
            except (KeyError, TypeError, ValueError) as err:
                raise AnalysisError(f"{path}: /report/{population} lacks or misshapes {err}; "
                                    "expected data and mapping/{node_ids,index_pointers,"
                                    "time (start, stop, step)}") from None
            check_mapping(path, population, data, node_ids, pointers)
            chosen = np.arange(min(max_neurons, node_ids.size))
            columns = pointers[chosen].astype(np.int64)
            values = data[:, np.sort(columns).tolist()] if columns.size else \
                np.empty((data.shape[0], 0), dtype=np.float32)
            units = data.attrs.get("units", "")
            units = units.decode() if isinstance(units, bytes) else str(units)
            times = start + step * np.arange(data.shape[0])
            out.append(Traces(population, variable_of(path, data), units, times,
                              node_ids[chosen], values))
    return out
