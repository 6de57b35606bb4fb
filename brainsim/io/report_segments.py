"""State reports as chains of segment files (see brainsim.io.segments), one chain per
recorded variable, merged into OUTDIR/report_<variable>.h5 when the run completes."""
from __future__ import annotations

import os

import h5py
import numpy as np

from brainsim.io.segments import SegmentChain
from brainsim.io.sonata_report import ReportFileWriter
from brainsim.io.spike_segments import SEGMENT_DIR

COPY_FRAMES = 4096


def report_file_name(variable: str) -> str:
    return f"report_{variable}.h5"


class ReportSegments(SegmentChain):
    """Segments of one variable's SONATA report; groups are populations, records frames."""

    def __init__(self, output_dir: str, variable: str,
                 layout: dict[str, tuple[np.ndarray, float, float]]):
        self.prefix = f"report_{variable}"
        self.variable = variable
        self.layout = layout
        super().__init__(os.path.join(output_dir, SEGMENT_DIR), list(layout))

    def open_segment(self, path: str) -> ReportFileWriter:
        return ReportFileWriter(path, self.variable, self.layout)

    def append(self, population: str, frames: np.ndarray) -> None:
        self.current.append(population, frames)
        self.count(population, frames.shape[0])

    def copy_records(self, source_path: str, writer: ReportFileWriter,
                     counts: dict[str, int]) -> None:
        with h5py.File(source_path, "r") as source:
            for population in self.groups:
                data = source["report"][population]["data"]
                for start in range(0, counts[population], COPY_FRAMES):
                    stop = min(counts[population], start + COPY_FRAMES)
                    writer.append(population, data[start:stop])
