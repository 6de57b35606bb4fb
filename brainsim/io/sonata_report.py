"""SONATA frame reports (AllenInstitute/sonata, "Frame-oriented node/element recordings"):
one file per recorded variable, one group per population:

    /report/<population>/data                  float32 [frames, neurons], attr units
    /report/<population>/mapping/node_ids      uint64 population-local ids (ascending)
    /report/<population>/mapping/index_pointers uint64 [neurons + 1] (one element each)
    /report/<population>/mapping/element_ids   uint32 [neurons] (0: the soma of a point neuron)
    /report/<population>/mapping/time          float64 (start, stop, step), attr units="ms"

Frame k is the state at start + k * step; stop = start + frames * step (libsonata's
convention), rewritten as frames are appended. Uncompressed, chunked along time.
"""
from __future__ import annotations

import h5py
import numpy as np

FRAMES_PER_CHUNK = 256


class ReportFileWriter:
    """Appends frames per population to one report file (one variable)."""

    def __init__(self, path: str, variable: str,
                 layout: dict[str, tuple[np.ndarray, float, float, str]]):
        """layout: population -> (node ids, first frame time ms, frame interval ms, unit of
        the variable in that population's model)."""
        self.file = h5py.File(path, "w")
        self.variable = variable
        self._data, self._time = {}, {}
        for population, (node_ids, start_ms, step_ms, unit) in layout.items():
            group = self.file.create_group(f"report/{population}")
            count = len(node_ids)
            data = group.create_dataset("data", shape=(0, count), maxshape=(None, count),
                                        dtype=np.float32,
                                        chunks=(FRAMES_PER_CHUNK, max(1, count)))
            data.attrs["units"] = unit
            data.attrs["variable"] = variable
            mapping = group.create_group("mapping")
            mapping.create_dataset("node_ids", data=np.asarray(node_ids, dtype=np.uint64))
            mapping.create_dataset("index_pointers", data=np.arange(count + 1, dtype=np.uint64))
            mapping.create_dataset("element_ids", data=np.zeros(count, dtype=np.uint32))
            time = mapping.create_dataset("time", data=np.array([start_ms, start_ms, step_ms]))
            time.attrs["units"] = "ms"
            self._data[population], self._time[population] = data, time

    def append(self, population: str, frames: np.ndarray) -> None:
        data, time = self._data[population], self._time[population]
        old = data.shape[0]
        data.resize((old + frames.shape[0], data.shape[1]))
        data[old:] = frames
        start, _, step = time[()]
        time[1] = start + (old + frames.shape[0]) * step

    def set_attributes(self, attributes: dict) -> None:
        for key, value in attributes.items():
            self.file.attrs[key] = np.asarray(value) if isinstance(value, list) else value

    def close(self) -> None:
        self.file.close()


def read_report(path: str) -> dict[str, dict]:
    """{population: {"data", "node_ids", "times"}} of a report file."""
    with h5py.File(path, "r") as f:
        result = {}
        for population, group in f["report"].items():
            start, stop, step = group["mapping/time"][()]
            frames = group["data"].shape[0]
            result[population] = {"data": group["data"][()],
                                  "node_ids": group["mapping/node_ids"][()],
                                  "times": start + step * np.arange(frames)}
        return result
