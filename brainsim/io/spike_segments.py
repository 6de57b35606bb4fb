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
