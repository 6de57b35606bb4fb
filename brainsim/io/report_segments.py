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
                 layout: dict[str, tuple[np.ndarray, float, float, str]]):
        self.prefix = f"report_{variable}"
        self.variable = variable
        self.layout = layout
        super().__init__(os.path.join(output_dir, SEGMENT_DIR), list(layout))

    def open_segment(self, path: str) -> ReportFileWriter:
        return ReportFileWriter(path, self.variable, self.layout)

    def append(self, population: str, frames: np.ndarray) -> None:
        self.current.append(population, frames)
        self.count(population, frames.shape[0])

    @classmethod
    def from_segment(cls, output_dir: str, variable: str, path: str) -> "ReportSegments":
        """The chain of a finished run whose layout is read from one of its segments
        (finishing an interrupted merge, where no model is built)."""
        layout = {}
        with h5py.File(path, "r") as segment:
            for population, group in segment["report"].items():
                time = group["mapping/time"][()]
                layout[population] = (group["mapping/node_ids"][()], float(time[0]),
                                      float(time[2]), str(group["data"].attrs["units"]))
        return cls(output_dir, variable, layout)

    def copy_records(self, source_path: str, writer: ReportFileWriter,
                     counts: dict[str, int]) -> None:
        with h5py.File(source_path, "r") as source:
            for population in self.groups:
                data = source["report"][population]["data"]
                for start in range(0, counts[population], COPY_FRAMES):
                    stop = min(counts[population], start + COPY_FRAMES)
                    writer.append(population, data[start:stop])


def inspect_merged_report(merged, counts: dict[str, int], manifest: dict) -> str | None:
    """A merged report must hold at least the checkpoint's frames of every population."""
    for population, count in counts.items():
        data = merged.get(f"report/{population}/data")
        if data is None:
            return f"no frames of population {population}"
        if data.shape[0] < count:
            return f"{data.shape[0]} frames of {population}, fewer than the checkpoint's {count}"
    return None
