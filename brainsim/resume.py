"""Find, check and load what `brainsim resume OUTDIR` continues from.

The model is re-read from the files the run was started with (same model file, config and
--set overrides, plus the new overrides); if they are gone, from the merged document stored
in the checkpoint. Either way its hash must equal the checkpoint's: a checkpoint is never
applied to a different network, and the recordings must be the ones the run made.

In place, a run continues only from its newest checkpoint: an older one would drop what the
newer checkpoints and the finished results reference. `--fork NEWDIR` continues any
checkpoint in a new directory instead (the checkpoint and its segments are hard-linked or
copied there; the original directory is left as it was, and locked while the fork runs).
"""
from __future__ import annotations

import hashlib
import math
import os
import shutil
import tempfile

import yaml

from brainsim.io import checkpoint as files
from brainsim.io.checkpoint import CheckpointError
from brainsim.io.files import OutputError, read_json_object


def checkpoint_path(output_dir: str, name: str | None) -> str:
    root = os.path.join(output_dir, files.CHECKPOINT_DIR)
    if name is not None:
        if os.sep in name or name in (".", ".."):
            raise CheckpointError(f"--from {name}: expected the name of a checkpoint in "
                                  f"{root} (such as {files.checkpoint_name(0)})")
        path = os.path.join(root, name)
        if not os.path.isdir(path):
            available = ", ".join(files.list_checkpoints(root)) or "none"
            raise CheckpointError(f"{path}: no such checkpoint (available: {available})")
        return path
    complete = files.list_checkpoints(root)
    if not complete:
        raise CheckpointError(f"{root}: no complete checkpoint to resume from")
    return os.path.join(root, complete[-1])


def load_checkpoint(path: str) -> dict:
    """The checked manifest of the checkpoint in `path`, its shards verified."""
    manifest = files.read_manifest(path)
    name = os.path.basename(os.path.normpath(path))
    if name.startswith("ckpt_") and name != files.checkpoint_name(manifest["step"]):
        raise CheckpointError(f"{path}: the name says step {name[5:].lstrip('0') or 0}, the "
                              f"manifest says step {manifest['step']}; the manifest was "
                              "edited or moved (use another checkpoint)")
    files.verify_shards(path, manifest)
    return manifest


def load_resumed_model(manifest: dict, overrides: list[str], path: str | None = None):
    """The ResolvedModel of the checkpointed run with `overrides` applied on top; path:
    the checkpoint's directory (for the arrays of a dict document, document_arrays.py)."""
    from brainsim.spec import load_model
    source = manifest["model_source"]
    config = manifest.get("config_source")
    all_overrides = list(manifest.get("overrides", [])) + list(overrides)
    if os.path.exists(source) and (config is None or os.path.exists(config)):
        model = load_model(source, config, all_overrides)
    elif manifest.get("document_arrays") and path is not None:
        # a dict document with numpy arrays: resolved as a dict again, arrays restored
        from brainsim.io.document_arrays import restore_arrays
        from brainsim.spec.load import load_document
        document = restore_arrays(manifest["document"], path, manifest["document_arrays"])
        model = load_document(document, list(overrides), label=source)
    else:
        # The run's files are gone: the merged document stored in the checkpoint stands in.
        with tempfile.TemporaryDirectory() as scratch:
            copy = os.path.join(scratch, os.path.basename(source))
            with open(copy, "w") as handle:
                yaml.safe_dump(manifest["document"], handle)
            model = load_model(copy, None, list(overrides))
    if model.model_hash != manifest["model_hash"]:
        raise CheckpointError(
            f"model hash {model.model_hash[:12]} differs from the checkpoint's "
            f"{manifest['model_hash'][:12]}: the overrides change the network or its "
            "dynamics (only simulation.t_sim, warmup and recording may change on resume; "
            "a changed model file changes it too)")
    return model


def check_rate_counts(manifest: dict, model) -> None:
    """Refuse a resume whose rate table the checkpoint cannot give exactly: a warm-up changed
    to a time before the checkpoint (its counters start at the old warm-up or at 0). A changed
    t_sim is always fine, also when it moves the window across the warm-up."""
    from brainsim.engine.spike_recorder import counts_at_checkpoint, rate_window_steps
    sim = model.simulation
    first_step = rate_window_steps(sim)[0]
    if counts_at_checkpoint(manifest["recorder"], first_step, manifest["step"]) is None:
        counted_from = manifest["recorder"]["window_first_step"] * sim.dt
        starts = f"0, {counted_from:g} ms" if counted_from else "0"
        raise CheckpointError(
            f"simulation.warmup: {sim.warmup:g} ms; expected {starts} (where the checkpoint's "
            f"rate-table counters start) or at least the checkpoint's {manifest['t_ms']:g} ms")


def read_run_json(output_dir: str, name: str = "run.json") -> dict | None:
    """OUTDIR/run.json (or run_interrupted.json) as a dict; None when absent; one-line
    CheckpointError when it is not a JSON object."""
    path = os.path.join(output_dir, name)
    if not os.path.exists(path):
        return None
    try:
        data = read_json_object(path, "unreadable", "the JSON a run writes")
    except ValueError as err:
        raise CheckpointError(str(err)) from None
    return data


def check_same_run(output_dir: str, manifest: dict) -> None:
    """Refuse to resume into a directory whose results belong to another model or run."""
    for name in ("run.json", "run_interrupted.json"):
        finished = read_run_json(output_dir, name)
        if finished is None:
            continue
        path = os.path.join(output_dir, name)
        if finished.get("model_hash") != manifest["model_hash"]:
            raise CheckpointError(f"{path}: results of another model "
                                  f"({str(finished.get('model_hash', '?'))[:12]}); resuming "
                                  "would overwrite them")
        if finished.get("run_id") not in (None, manifest["run_id"]):
            raise CheckpointError(f"{path}: results of another run (run id "
                                  f"{str(finished['run_id'])[:12]}, the checkpoint's is "
                                  f"{manifest['run_id'][:12]}): the checkpoint was copied "
                                  "from elsewhere; resuming would splice two runs")


def check_in_place(output_dir: str, path: str, manifest: dict, model) -> None:
    """Resuming in OUTDIR itself: only from the newest checkpoint, and never over finished
    results it would not extend."""
    root = os.path.join(output_dir, files.CHECKPOINT_DIR)
    newest = files.list_checkpoints(root)[-1]
    name = os.path.basename(os.path.normpath(path))
    if name != newest:
        raise CheckpointError(
            f"{path}: not the newest checkpoint ({newest} is); resuming from it in place would "
            f"discard what {newest} and the run's results hold; continue it in a new "
            f"directory: brainsim resume {output_dir} --from {name} --fork NEWDIR")
    finished = read_run_json(output_dir)
    t_sim = model.simulation.t_sim
    if finished is not None and isinstance(finished.get("t_sim_ms"), (int, float)) \
            and t_sim <= finished["t_sim_ms"] + 1e-9:
        raise CheckpointError(
            f"{os.path.join(output_dir, 'run.json')}: the run has finished at "
            f"{finished['t_sim_ms']:g} ms; resuming in place with simulation.t_sim {t_sim:g} "
            "would replace its results: extend it (--set simulation.t_sim=...) or continue "
            "in a new directory (--fork NEWDIR)")


def check_fork_target(output_dir: str, new_dir: str) -> None:
    """--fork NEWDIR: a directory other than the run's (and not inside it)."""
    source = os.path.realpath(output_dir)
    target = os.path.realpath(new_dir)
    if target == source or target.startswith(source + os.sep):
        raise OutputError(f"{new_dir}: the fork's directory is the run's own (or inside it); "
                          "expected a new directory")


def recording_signature(model) -> dict:
    """What a run records, as the checkpoint keeps it: resumes must record the same."""
    recording = model.recording
    state = []
    for entry in recording.state:
        ids = ",".join(str(i) for i in entry.node_ids).encode()
        state.append([entry.population, list(entry.variables),
                      hashlib.sha256(ids).hexdigest()[:16], len(entry.node_ids),
                      entry.interval, entry.start,
                      None if math.isinf(entry.stop) else entry.stop])
    return {"spikes": sorted(recording.spikes), "state": state,
            "population_activity.bin": recording.activity_bin,
            "population_activity.mean_V_m": recording.mean_V_m_interval}


def check_same_recording(manifest: dict, model) -> None:
    """Refuse a resume that records something else than the run did up to the checkpoint:
    the result would silently lack the part before it (a new report, population, count)
    or cut what was recorded (a dropped one)."""
    saved = manifest["recording"]
    for key, value in recording_signature(model).items():
        was = saved.get(key)
        if was == value:
            continue
        shown = (f"{was} -> {value}" if key != "state"
                 else "the list of state reports differs from the run's")
        raise CheckpointError(
            f"recording.{key}: {shown}; recordings cannot change on resume (up to the "
            f"checkpoint at {manifest['t_ms']:g} ms they were made as before, so the result "
            "would be incomplete or cut): resume with the run's recording, or start a new run")


def verify_recordings(manifest: dict, output_dir: str, results_dir: str) -> None:
    """Every recording up to the checkpoint is there and is the checkpoint's: its segments
    (size, SHA-256, step ranges, counts) in OUTDIR/.segments, or the run's merged file in
    results_dir cut at the checkpoint."""
    from brainsim.io.report_segments import inspect_merged_report, report_file_name
    from brainsim.io.segments import verify_recording
    from brainsim.io.spike_segments import SEGMENT_DIR, inspect_merged_spikes
    segments = os.path.join(output_dir, SEGMENT_DIR)
    verify_recording(segments, manifest["spikes"], manifest,
                     os.path.join(results_dir, "spikes.h5"), "spike recordings",
                     inspect_merged_spikes)
    for variable, saved in manifest["reports"].items():
        verify_recording(segments, saved, manifest,
                         os.path.join(results_dir, report_file_name(variable)),
                         f"{variable} report", inspect_merged_report)


def _link_or_copy(source: str, target: str) -> None:
    """Segments and shards are never changed in place, so a hard link is a safe copy."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def fork_checkpoint(source_dir: str, new_dir: str, path: str, manifest: dict) -> str:
    """--fork: the checkpoint, and the segments it lists, into new_dir; returns the
    checkpoint's path there. Written as .incomplete_* and renamed, like any checkpoint."""
    from brainsim.io.spike_segments import SEGMENT_DIR
    root = os.path.join(new_dir, files.CHECKPOINT_DIR)
    os.makedirs(root, exist_ok=True)
    incomplete = files.temporary_dir(root, manifest["step"])
    if os.path.exists(incomplete):
        shutil.rmtree(incomplete)
    os.makedirs(incomplete)
    for name in sorted(os.listdir(path)):
        if name != files.MANIFEST:
            _link_or_copy(os.path.join(path, name), os.path.join(incomplete, name))
    segments = os.path.join(new_dir, SEGMENT_DIR)
    os.makedirs(segments, exist_ok=True)
    listed = list(manifest["spikes"]["segments"])
    for saved in manifest["reports"].values():
        listed += saved["segments"]
    for entry in listed:
        source = os.path.join(source_dir, SEGMENT_DIR, entry["file"])
        target = os.path.join(segments, entry["file"])
        if os.path.exists(source) and not os.path.exists(target):
            _link_or_copy(source, target)
    shutil.copy2(os.path.join(path, files.MANIFEST), os.path.join(incomplete, files.MANIFEST))
    final = os.path.join(root, os.path.basename(os.path.normpath(path)))
    os.rename(incomplete, final)
    return final


def what_next(output_dir: str) -> str:
    """The true advice after writing failed in output_dir: it depends on what is there."""
    from brainsim.io.files import PREVIOUS_DIR
    from brainsim.io.finish import pending_finish
    previous = os.path.join(output_dir, PREVIOUS_DIR)
    kept = (f" (the results --overwrite replaces wait in {previous})"
            if os.path.isdir(previous) else "")
    if pending_finish(output_dir):
        step = f"brainsim resume {output_dir} finishes writing the results"
    else:
        complete = files.list_checkpoints(os.path.join(output_dir, files.CHECKPOINT_DIR))
        step = (f"brainsim resume {output_dir} continues from its checkpoint {complete[-1]}"
                if complete else "run the same command again (no checkpoint was written; "
                "what the run left is replaced)")
    return (f"files completed before are untouched{kept}; free space or choose another "
            f"directory, then {step}")


def finish_pending_run(args) -> int:
    """`brainsim resume OUTDIR` after a crash or a full disk during the final merge: finish
    writing the results (rank 0, output locked; other ranks only meet it)."""
    from brainsim.engine.comm import make_comm
    from brainsim.engine.guards import SetupFailedElsewhere, agree_setup, storage_failure
    from brainsim.io.finish import finish, read_record
    from brainsim.io.lock import lock_output_dir
    comm = make_comm()
    agree_setup(comm)
    args.met_other_ranks = True
    failure = None
    if comm.rank == 0:
        try:
            lock = lock_output_dir(args.output, "resume (finishing the merge)")
            try:
                finish(args.output, read_record(args.output), verify=True)
            finally:
                lock.release()
        except Exception as err:       # every rank must hear of it before rank 0 raises
            failure = err
    failed = comm.bcast(failure is not None)
    if failure is not None:
        if storage_failure(failure) is not None:
            failure.brainsim_advice = what_next(args.output)
        if isinstance(failure, (OutputError, CheckpointError)):
            failure = OutputError(str(failure), agreed=True)
        raise failure
    if failed:
        raise SetupFailedElsewhere()
    if comm.rank == 0:
        print(f"finished writing the results of the run's final merge, which had been "
              f"interrupted: {os.path.join(args.output, 'spikes.h5')}, run.json")
        if args.overrides or args.checkpoint:
            print(f"(--set/--from were not used; to extend the finished run: brainsim resume "
                  f"{args.output} --set simulation.t_sim=...)")
    return 0
