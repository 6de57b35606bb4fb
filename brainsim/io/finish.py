"""The last step of a run, resumable: merge the recordings into the final files and write
run.json.

Before merging, rank 0 saves what the merge needs into OUTDIR/.segments/finish.json (the
run's metadata and the list of checksummed segments of every recording; the population
activity is saved beside it). Then every final file is written under a temporary name and
renamed: the reports, population_activity.h5, spikes.h5, run.json last. Only then are the
segments and the record removed. A crash or a full disk anywhere in between leaves the
record and every segment, and `brainsim resume OUTDIR` finishes the same merge (no model
is built, no step simulated), on one process.
"""
from __future__ import annotations

import json
import os

from brainsim.io.checkpoint import CheckpointError
from brainsim.io.files import drop_previous_results, write_json_atomic
from brainsim.io.segments import remove_if_empty, verify_segments
from brainsim.io.spike_segments import SEGMENT_DIR, SpikeSegments

RECORD = "finish.json"
STAGED_ACTIVITY = "population_activity.h5"
RECORD_FORMAT = 1


def record_path(output_dir: str) -> str:
    return os.path.join(output_dir, SEGMENT_DIR, RECORD)


def pending_finish(output_dir: str) -> bool:
    """True when a run's simulation ended but writing its final files did not."""
    return os.path.exists(record_path(output_dir))


def _chain_entry(chain) -> dict:
    return {"groups": list(chain.groups), "segments": [dict(s) for s in chain.completed]}


def stage(output_dir: str, metadata: dict, attributes: dict, spikes, reports: dict,
          activity) -> dict:
    """Rank 0, when the simulation has ended: save what the merge needs (see module doc).

    spikes / reports: the SpikeSegments and {variable: ReportSegments}, current segment
    closed; activity: the PopulationActivity or None."""
    from brainsim.io.files import partial_name
    directory = os.path.join(output_dir, SEGMENT_DIR)
    record = {"format": RECORD_FORMAT, "metadata": metadata, "attributes": attributes,
              "spikes": _chain_entry(spikes),
              "reports": {variable: _chain_entry(chain) for variable, chain in reports.items()},
              "activity": None}
    if activity is not None:
        staged = os.path.join(directory, STAGED_ACTIVITY)
        activity.save(partial_name(staged))
        _set_attributes(partial_name(staged), attributes)
        os.replace(partial_name(staged), staged)
        record["activity"] = STAGED_ACTIVITY
    write_json_atomic(record_path(output_dir), record)
    return record


def _set_attributes(path: str, attributes: dict) -> None:
    import h5py
    import numpy as np
    with h5py.File(path, "a") as out:
        for key, value in attributes.items():
            out.attrs[key] = np.asarray(value) if isinstance(value, list) else value


def read_record(output_dir: str) -> dict:
    """The saved record, checked enough to merge from (CheckpointError, one line)."""
    path = record_path(output_dir)
    try:
        with open(path, "rb") as handle:
            record = json.loads(handle.read(64 << 20).decode())
    except (OSError, ValueError, RecursionError) as err:
        raise CheckpointError(f"{path}: unreadable ({' '.join(str(err).split())[:100]}); "
                              "the record of the final merge is damaged: run the model "
                              "again (--overwrite)") from None
    chains = [record.get("spikes")] + list((record.get("reports") or {}).values()) \
        if isinstance(record, dict) and isinstance(record.get("reports", {}), dict) else [None]
    if not isinstance(record, dict) or record.get("format") != RECORD_FORMAT \
            or not isinstance(record.get("metadata"), dict) \
            or not isinstance(record.get("attributes"), dict) \
            or not all(isinstance(c, dict) and isinstance(c.get("segments"), list)
                       and isinstance(c.get("groups"), list) for c in chains):
        raise CheckpointError(f"{path}: not a record of a final merge of this brainsim; run "
                              "the model again (--overwrite)")
    return record


def finish(output_dir: str, record: dict, verify: bool = False, on_step=None) -> None:
    """Write the final files from the record (see module doc); verify: check every
    segment's checksum first (when finishing after a crash). on_step(name): test hook."""
    from brainsim.io.report_segments import ReportSegments, report_file_name
    directory = os.path.join(output_dir, SEGMENT_DIR)
    chains = []
    if verify:
        for entry in [record["spikes"]] + list(record["reports"].values()):
            verify_segments(directory, entry["segments"], "recording")
    for variable, entry in record["reports"].items():
        if not entry["segments"]:
            continue
        chain = ReportSegments.from_segment(
            output_dir, variable, os.path.join(directory, entry["segments"][0]["file"]))
        chain.completed = entry["segments"]
        chain.merge(os.path.join(output_dir, report_file_name(variable)),
                    record["attributes"])
        chains.append(chain)
    (on_step or (lambda name: None))("merge")
    if record["activity"]:
        staged = os.path.join(directory, record["activity"])
        if os.path.exists(staged):     # else renamed by the attempt that crashed later
            os.replace(staged, os.path.join(output_dir, STAGED_ACTIVITY))
    spikes = SpikeSegments(output_dir, record["spikes"]["groups"])
    spikes.completed = record["spikes"]["segments"]
    spikes.merge(os.path.join(output_dir, "spikes.h5"), record["attributes"])
    chains.append(spikes)
    write_json_atomic(os.path.join(output_dir, "run.json"), record["metadata"])
    # The set is complete: a replaced run's results go. (run_interrupted.json of an earlier
    # stop of this same run stays: `brainsim status` reports where the run was stopped.)
    drop_previous_results(output_dir)
    os.remove(record_path(output_dir))
    for chain in chains:
        chain.remove_segments()
    remove_if_empty(directory)
