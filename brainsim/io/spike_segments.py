"""Spike recordings as a chain of segment files, merged into spikes.h5 at the end.

A segment is a small SONATA spike file holding the spikes of one stretch of the run; a new
one starts at every checkpoint. A crash can only damage the segment being written — which
is exactly what a resume drops — so every spike up to the last checkpoint survives any kill.
When the run completes the segments are concatenated per population (they are in time
order) into OUTDIR/spikes.h5, written under a temporary name and renamed.
"""
from __future__ import annotations

import os
import shutil

import h5py
import numpy as np

from brainsim.io.files import partial_name
from brainsim.io.sonata_spikes import SpikeFileWriter

COPY_CHUNK = 1 << 20
SEGMENT_DIR = ".spike_segments"


def segment_name(first_step: int) -> str:
    return f"segment_{first_step:012d}.h5"


class SpikeSegments:
    """The segment files of one run's spikes (used on the writing rank only)."""

    def __init__(self, output_dir: str, population_names: list[str]):
        self.directory = os.path.join(output_dir, SEGMENT_DIR)
        self.names = population_names
        self.completed: list[dict] = []     # {"file", "first_step", "counts": {pop: n}}
        self.current: SpikeFileWriter | None = None
        self._current_entry: dict | None = None
        os.makedirs(self.directory, exist_ok=True)

    def start(self, first_step: int) -> None:
        name = segment_name(first_step)
        self.current = SpikeFileWriter(os.path.join(self.directory, name), self.names)
        self._current_entry = {"file": name, "first_step": first_step,
                               "counts": {n: 0 for n in self.names}}

    def append(self, population: str, timestamps_ms: np.ndarray, node_ids: np.ndarray) -> None:
        self.current.append(population, timestamps_ms, node_ids)
        self._current_entry["counts"][population] += int(timestamps_ms.shape[0])

    def close_current(self) -> None:
        """Finish the open segment; it becomes part of every later checkpoint."""
        if self.current is None:
            return
        self.current.close()
        self.completed.append(self._current_entry)
        self.current, self._current_entry = None, None

    def totals(self) -> dict[str, int]:
        return {n: sum(s["counts"][n] for s in self.completed) for n in self.names}

    def keep_only(self, completed: list[dict]) -> None:
        """Resume: adopt `completed` (from a checkpoint) and delete every other segment."""
        self.completed = [dict(s) for s in completed]
        wanted = {s["file"] for s in completed}
        for name in os.listdir(self.directory):
            if name not in wanted:
                os.remove(os.path.join(self.directory, name))

    def missing(self, completed: list[dict]) -> list[str]:
        return [s["file"] for s in completed
                if not os.path.exists(os.path.join(self.directory, s["file"]))]

    def adopt_merged_file(self, merged_path: str, counts: dict[str, int], first_step: int) -> None:
        """Resume after a completed run: its spikes.h5, cut to the checkpoint's counts,
        becomes the first segment."""
        self.keep_only([])
        name = segment_name(0).replace("segment_", "segment_base_")
        base = SpikeFileWriter(os.path.join(self.directory, name), self.names)
        with h5py.File(merged_path, "r") as merged:
            for population in self.names:
                _copy_prefix(merged["spikes"][population], base, population, counts[population])
        base.close()
        self.completed = [{"file": name, "first_step": first_step, "counts": dict(counts)}]

    def merge(self, final_path: str, attributes: dict) -> None:
        """Concatenate the completed segments into final_path (temporary name, then rename)
        and remove the segment directory."""
        self.close_current()
        temporary = partial_name(final_path)
        merged = SpikeFileWriter(temporary, self.names)
        for segment in self.completed:
            with h5py.File(os.path.join(self.directory, segment["file"]), "r") as part:
                for population in self.names:
                    group = part["spikes"][population]
                    _copy_prefix(group, merged, population, group["timestamps"].shape[0])
        merged.set_attributes(attributes)
        merged.close()
        os.replace(temporary, final_path)
        shutil.rmtree(self.directory, ignore_errors=True)


def _copy_prefix(group, writer: SpikeFileWriter, population: str, count: int) -> None:
    """Append the first `count` spikes of a population group to writer, in chunks."""
    for start in range(0, count, COPY_CHUNK):
        stop = min(count, start + COPY_CHUNK)
        writer.append(population, group["timestamps"][start:stop], group["node_ids"][start:stop])
