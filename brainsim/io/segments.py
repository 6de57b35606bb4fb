"""Recordings as chains of segment files, merged into one output file at the end.

A segment holds one stretch of the run; a new one starts at every checkpoint. A crash can
only damage the segment being written — exactly what a resume drops — so everything
recorded up to the last checkpoint survives any kill. When the run completes the segments
are concatenated (they are in time order) into the final file, written under a temporary
name and renamed. Subclasses say how a segment is opened and how one is appended to the
merged file; this class keeps the bookkeeping that checkpoints store.
"""
from __future__ import annotations

import os
import shutil

from brainsim.io.files import partial_name


class SegmentChain:
    """The segment files of one recording (on the writing rank only).

    Each completed segment is described by {"file", "first_step", "counts": {group: n}},
    where n is the number of records (spikes or frames) of each group (population).
    """

    prefix = "segment"

    def __init__(self, directory: str, groups: list[str]):
        self.directory = directory
        self.groups = groups
        self.completed: list[dict] = []
        self.current = None
        self._current_entry: dict | None = None
        os.makedirs(self.directory, exist_ok=True)

    # --- what a subclass provides ------------------------------------------------------
    def open_segment(self, path: str):
        """A writer for a new segment file (with append(group, ...) and close())."""
        raise NotImplementedError

    def copy_records(self, source_path: str, writer, counts: dict[str, int]) -> None:
        """Append the first counts[group] records of every group of source_path to writer."""
        raise NotImplementedError

    # --- bookkeeping ---------------------------------------------------------------------
    def segment_name(self, first_step: int) -> str:
        return f"{self.prefix}_{first_step:012d}.h5"

    def start(self, first_step: int) -> None:
        name = self.segment_name(first_step)
        self.current = self.open_segment(os.path.join(self.directory, name))
        self._current_entry = {"file": name, "first_step": first_step,
                               "counts": {g: 0 for g in self.groups}}

    def count(self, group: str, records: int) -> None:
        self._current_entry["counts"][group] += int(records)

    def close_current(self) -> None:
        """Finish the open segment; it becomes part of every later checkpoint."""
        if self.current is None:
            return
        self.current.close()
        self.completed.append(self._current_entry)
        self.current, self._current_entry = None, None

    def totals(self) -> dict[str, int]:
        return {g: sum(s["counts"][g] for s in self.completed) for g in self.groups}

    def missing(self, completed: list[dict]) -> list[str]:
        return [s["file"] for s in completed
                if not os.path.exists(os.path.join(self.directory, s["file"]))]

    def keep_only(self, completed: list[dict]) -> None:
        """Resume: adopt `completed` (from a checkpoint) and delete this chain's other segments."""
        self.completed = [dict(s) for s in completed]
        wanted = {s["file"] for s in completed}
        for name in os.listdir(self.directory):
            if name.startswith(self.prefix + "_") and name not in wanted:
                os.remove(os.path.join(self.directory, name))

    def adopt_merged_file(self, merged_path: str, counts: dict[str, int]) -> None:
        """Resume after a completed run: its merged file, cut to the checkpoint's counts,
        becomes the first segment."""
        self.keep_only([])
        name = f"{self.prefix}_base.h5"
        base = self.open_segment(os.path.join(self.directory, name))
        self.copy_records(merged_path, base, counts)
        base.close()
        self.completed = [{"file": name, "first_step": 0, "counts": dict(counts)}]

    def resume(self, merged_path: str, completed: list[dict], counts: dict[str, int]) -> bool:
        """Position the chain at a checkpoint; False when neither its segments nor a merged
        file are there."""
        if not self.missing(completed):
            self.keep_only(completed)
        elif os.path.exists(merged_path):
            self.adopt_merged_file(merged_path, counts)
        else:
            return False
        return True

    def merge(self, final_path: str, attributes: dict, remove_directory: bool = True) -> None:
        """Concatenate the completed segments into final_path (temporary name, then rename)."""
        self.close_current()
        temporary = partial_name(final_path)
        merged = self.open_segment(temporary)
        for segment in self.completed:
            self.copy_records(os.path.join(self.directory, segment["file"]), merged,
                              segment["counts"])
        merged.set_attributes(attributes)
        merged.close()
        os.replace(temporary, final_path)
        for segment in self.completed:
            os.remove(os.path.join(self.directory, segment["file"]))
        if remove_directory and not os.listdir(self.directory):
            shutil.rmtree(self.directory, ignore_errors=True)
