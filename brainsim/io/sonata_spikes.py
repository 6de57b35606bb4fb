"""SONATA spike files (AllenInstitute/sonata, "Spike file"), streamed in bounded memory.

Layout: root attrs `magic` (uint32 0x0A7A) and `version` (uint32 [0, 1]); per population
`/spikes/<population>/timestamps` (float64, attr units="ms") and `/spikes/<population>/node_ids`
(uint64, population-local ids), with the group attr `sorting` an HDF5 enum on int8
{none: 0, by_id: 1, by_time: 2} — libsonata reads only the enum. Datasets are chunked and
uncompressed (libsonata cannot read compressed spike datasets).
"""
from __future__ import annotations

import h5py
import numpy as np

SONATA_MAGIC = 0x0A7A
SORTING_ENUM = h5py.enum_dtype({"none": 0, "by_id": 1, "by_time": 2}, basetype="i1")
CHUNK = 1 << 14


class SpikeFileWriter:
    """Appends (time, node id) spikes per population to one open HDF5 file."""

    def __init__(self, path: str, population_names: list[str], sorting: str = "by_time"):
        self.path = path
        self.file = h5py.File(path, "w")
        self.file.attrs.create("magic", SONATA_MAGIC, dtype=np.uint32)
        self.file.attrs.create("version", np.array([0, 1], dtype=np.uint32))
        spikes = self.file.create_group("spikes")
        self._timestamps, self._node_ids = {}, {}
        for name in population_names:
            group = spikes.create_group(name)
            group.attrs.create("sorting", {"none": 0, "by_id": 1, "by_time": 2}[sorting],
                               dtype=SORTING_ENUM)
            ts = group.create_dataset("timestamps", shape=(0,), maxshape=(None,),
                                      dtype=np.float64, chunks=(CHUNK,))
            ts.attrs["units"] = "ms"
            ids = group.create_dataset("node_ids", shape=(0,), maxshape=(None,),
                                       dtype=np.uint64, chunks=(CHUNK,))
            self._timestamps[name], self._node_ids[name] = ts, ids

    def append(self, population: str, timestamps_ms: np.ndarray, node_ids: np.ndarray) -> None:
        ts, ids = self._timestamps[population], self._node_ids[population]
        old = ts.shape[0]
        new = old + timestamps_ms.shape[0]
        ts.resize((new,))
        ids.resize((new,))
        ts[old:new] = timestamps_ms
        ids[old:new] = node_ids

    def set_attributes(self, attributes: dict) -> None:
        for key, value in attributes.items():
            self.file.attrs[key] = np.asarray(value) if isinstance(value, list) else value

    def close(self) -> None:
        self.file.close()


def read_spikes(path: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{population: (timestamps ms, node ids)} of a SONATA spike file."""
    with h5py.File(path, "r") as f:
        return {name: (group["timestamps"][()], group["node_ids"][()])
                for name, group in f["spikes"].items()}
