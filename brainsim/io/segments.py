"""Recordings as chains of segment files, merged into one output file at the end.

A segment holds one stretch of the run; a new one starts at every checkpoint. A crash can
only damage the segment being written — exactly what a resume drops — so everything
recorded up to the last checkpoint survives any kill. When the run completes the segments
are concatenated (they are in time order) into the final file, written under a temporary
name and renamed. Subclasses say how a segment is opened and how one is appended to the
merged file; this class keeps the bookkeeping that checkpoints store.

Every completed segment is checksummed (size and SHA-256) when it is closed; a resume checks
each one against the checkpoint's list before using it, so a damaged, edited or foreign
segment is refused instead of being spliced into the result. The final merge leaves the
segments in place until every final file of the run is written (brainsim.io.finish), so a
crash during it can be finished later.
"""
from __future__ import annotations

import os
import shutil

from brainsim.io.checkpoint import CheckpointError, sha256_of
from brainsim.io.files import partial_name


class SegmentChain:
    """The segment files of one recording (on the writing rank only).

    Each completed segment is described by {"file", "first_step", "last_step", "counts":
    {group: n}, "bytes", "sha256"}, where n is the number of records (spikes or frames) of
    each group (population) and the segment holds the records of steps
    [first_step, last_step).
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

    def check_cut(self, source, counts: dict[str, int], step: int) -> str | None:
        """What is wrong with cutting the open merged file `source` after counts[group]
        records to get the recording up to `step` (None: nothing)."""
        return None

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

    def close_current(self, last_step: int) -> None:
        """Finish the open segment at `last_step`, checksummed; it becomes part of every
        later checkpoint."""
        if self.current is None:
            return
        self.current.close()
        entry = self._current_entry
        path = os.path.join(self.directory, entry["file"])
        entry.update(last_step=int(last_step), bytes=os.path.getsize(path),
                     sha256=sha256_of(path))
        self.completed.append(entry)
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

    def adopt_merged_file(self, merged_path: str, counts: dict[str, int], step: int) -> None:
        """Resume after a completed run: its merged file, cut to the checkpoint's counts,
        becomes the first segment."""
        self.keep_only([])
        name = f"{self.prefix}_base.h5"
        path = os.path.join(self.directory, name)
        base = self.open_segment(path)
        self.copy_records(merged_path, base, counts)
        base.close()
        self.completed = [{"file": name, "first_step": 0, "last_step": int(step),
                           "counts": dict(counts), "bytes": os.path.getsize(path),
                           "sha256": sha256_of(path)}]

    def resume(self, merged_path: str, completed: list[dict], counts: dict[str, int],
               step: int) -> None:
        """Position the chain at a checkpoint (checked before by verify_recording)."""
        if not self.missing(completed):
            self.keep_only(completed)
        else:
            self.adopt_merged_file(merged_path, counts, step)

    def merge(self, final_path: str, attributes: dict) -> None:
        """Concatenate the completed segments into final_path (temporary name, then rename);
        the segments stay until remove_segments()."""
        temporary = partial_name(final_path)
        merged = self.open_segment(temporary)
        for segment in self.completed:
            self.copy_records(os.path.join(self.directory, segment["file"]), merged,
                              segment["counts"])
        merged.set_attributes(attributes)
        merged.close()
        os.replace(temporary, final_path)

    def remove_segments(self) -> None:
        for segment in self.completed:
            path = os.path.join(self.directory, segment["file"])
            if os.path.exists(path):
                os.remove(path)


def remove_if_empty(directory: str) -> None:
    if os.path.isdir(directory) and not os.listdir(directory):
        shutil.rmtree(directory, ignore_errors=True)


def verify_segments(directory: str, entries: list[dict], what: str) -> None:
    """Every listed segment present with its recorded size and checksum (CheckpointError)."""
    for entry in entries:
        path = os.path.join(directory, entry["file"])
        if not os.path.exists(path):
            raise CheckpointError(f"{path}: {what} segment missing")
        if os.path.getsize(path) != entry["bytes"] or sha256_of(path) != entry["sha256"]:
            raise CheckpointError(f"{path}: checksum mismatch; the {what} segment is "
                                  "corrupted or belongs to another run")


def check_chain(entries: list[dict], counts: dict[str, int], step: int, where: str) -> None:
    """The checkpoint's list of segments covers steps [0, step) without gap or overlap and
    its counts add up (CheckpointError naming `where`)."""
    expected = 0
    for entry in entries:
        if entry["first_step"] != expected or entry["last_step"] < entry["first_step"]:
            raise CheckpointError(f"{where}: segment {entry['file']} covers steps "
                                  f"[{entry['first_step']}, {entry['last_step']}); expected "
                                  f"it to start at step {expected} (a gap or an overlap)")
        expected = entry["last_step"]
    if entries and expected != step:
        raise CheckpointError(f"{where}: the segments end at step {expected}, the checkpoint "
                              f"is at step {step}")
    totals = {g: sum(e["counts"].get(g, 0) for e in entries) for g in counts}
    if entries and totals != {g: int(n) for g, n in counts.items()}:
        raise CheckpointError(f"{where}: the segments' record counts do not add up to the "
                              "checkpoint's")


def verify_recording(directory: str, saved: dict, manifest: dict, merged_path: str,
                     what: str, inspect_merged) -> None:
    """One recording up to a checkpoint, before a resume uses it (CheckpointError):

    saved: the manifest's {"segments", "counts"}; the segments in `directory`, each of its
    recorded size and checksum, or, when the run was merged since, merged_path written by
    the same run (its run_id) and holding at least the checkpoint's records, which
    inspect_merged(open h5py file, counts, manifest) checks (a problem, or None)."""
    step = manifest["step"]
    check_chain(saved["segments"], saved["counts"], step, f"{what} of the checkpoint at "
                f"step {step}")
    entries = saved["segments"]
    if all(os.path.exists(os.path.join(directory, e["file"])) for e in entries):
        verify_segments(directory, entries, what)
        return
    if not os.path.exists(merged_path):
        raise CheckpointError(f"{os.path.dirname(merged_path)}: the {what} up to the "
                              f"checkpoint are missing (no segments, no "
                              f"{os.path.basename(merged_path)})")
    import h5py
    try:
        with h5py.File(merged_path, "r") as merged:
            owner = merged.attrs.get("run_id")
            owner = owner.decode() if isinstance(owner, bytes) else owner
            if owner != manifest["run_id"]:
                problem = (f"written by another run (run id {str(owner)[:12]}, the "
                           f"checkpoint's is {manifest['run_id'][:12]})")
            else:
                problem = inspect_merged(merged, saved["counts"], manifest)
    except (OSError, KeyError, ValueError) as err:
        problem = f"unreadable ({' '.join(str(err).split())[:100]})"
    if problem is not None:
        raise CheckpointError(f"{merged_path}: {problem}; it cannot stand in for the {what} "
                              "up to the checkpoint")
