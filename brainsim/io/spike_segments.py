"""Spike recordings as a chain of segment files (see brainsim.io.segments), merged into
OUTDIR/spikes.h5 when the run completes."""
from __future__ import annotations

import os

import h5py
import numpy as np

from brainsim.io.segments import SegmentChain
from brainsim.io.sonata_spikes import SpikeFileWriter

COPY_CHUNK = 1 << 20
SEGMENT_DIR = ".segments"


class SpikeSegments(SegmentChain):
    """Segments of SONATA spike files; groups are populations, records are spikes."""

    prefix = "spikes"

    def __init__(self, output_dir: str, population_names: list[str]):
        super().__init__(os.path.join(output_dir, SEGMENT_DIR), population_names)

    def open_segment(self, path: str) -> SpikeFileWriter:
        return SpikeFileWriter(path, self.groups)

    def append(self, population: str, timestamps_ms: np.ndarray, node_ids: np.ndarray) -> None:
        self.current.append(population, timestamps_ms, node_ids)
        self.count(population, timestamps_ms.shape[0])

    def copy_records(self, source_path: str, writer: SpikeFileWriter,
                     counts: dict[str, int]) -> None:
        with h5py.File(source_path, "r") as source:
            for population in self.groups:
                group = source["spikes"][population]
                for start in range(0, counts[population], COPY_CHUNK):
                    stop = min(counts[population], start + COPY_CHUNK)
                    writer.append(population, group["timestamps"][start:stop],
                                  group["node_ids"][start:stop])


def inspect_merged_spikes(merged, counts: dict[str, int], manifest: dict) -> str | None:
    """A merged spikes.h5 cut after counts[population] spikes must end at the checkpoint's
    time: the last kept spike at or before it, the first dropped one after it."""
    t_ms = manifest["t_ms"]
    slack = 1e-9 * max(1.0, t_ms)
    for population, count in counts.items():
        group = merged.get(f"spikes/{population}")
        if group is None or "timestamps" not in group:
            return f"no spikes of population {population}"
        stamps = group["timestamps"]
        if stamps.shape[0] < count:
            return (f"{stamps.shape[0]} spikes of {population}, fewer than the "
                    f"checkpoint's {count}")
        if count and not stamps[count - 1] <= t_ms + slack:
            return f"spike {count - 1} of {population} lies after the checkpoint's {t_ms:g} ms"
        if stamps.shape[0] > count and not stamps[count] > t_ms - slack:
            return f"spike {count} of {population} lies before the checkpoint's {t_ms:g} ms"
    return None
