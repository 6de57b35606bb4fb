"""Find, check and load what `brainsim resume OUTDIR` continues from.

The model is re-read from the files the run was started with (same model file, config and
--set overrides, plus the new overrides); if they are gone, from the merged document stored
in the checkpoint. Either way its hash must equal the checkpoint's: a checkpoint is never
applied to a different network.
"""
from __future__ import annotations

import os
import tempfile

import yaml

from brainsim.io import checkpoint as files
from brainsim.io.checkpoint import CheckpointError


def checkpoint_path(output_dir: str, name: str | None) -> str:
    root = os.path.join(output_dir, files.CHECKPOINT_DIR)
    if name is not None:
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
    manifest = files.read_manifest(path)
    files.verify_shards(path, manifest)
    return manifest


def load_resumed_model(manifest: dict, overrides: list[str]):
    """The ResolvedModel of the checkpointed run with `overrides` applied on top."""
    from brainsim.spec import load_model
    source = manifest["model_source"]
    config = manifest.get("config_source")
    all_overrides = list(manifest.get("overrides", [])) + list(overrides)
    if os.path.exists(source) and (config is None or os.path.exists(config)):
        model = load_model(source, config, all_overrides)
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


def check_same_run(output_dir: str, manifest: dict) -> None:
    """Refuse to resume into a directory whose finished results belong to another model."""
    import json
    run_json = os.path.join(output_dir, "run.json")
    if os.path.exists(run_json):
        with open(run_json) as handle:
            finished = json.load(handle)
        if finished.get("model_hash") != manifest["model_hash"]:
            raise CheckpointError(f"{run_json}: results of another model "
                                  f"({finished.get('model_hash', '?')[:12]}); resuming "
                                  "would overwrite them")
