"""Checkpoint files: one HDF5 shard per rank plus a JSON manifest written last.

    OUTDIR/checkpoints/ckpt_<step>/rank_<r>.h5   gids + every state array + pending input
    OUTDIR/checkpoints/ckpt_<step>/document_arrays.npz   numpy arrays of a dict document
    OUTDIR/checkpoints/ckpt_<step>/manifest.json step, model hash and document, seed,
                                                 run id, versions, ranks, shard sizes and
                                                 sha256, recorder positions, the recording
                                                 segments (step ranges, counts, sha256),
                                                 its own sha256 (manifest_digest)

Every rank writes its shard into a temporary directory; after a barrier rank 0 writes the
manifest there and renames the directory to its final name. A checkpoint therefore exists
only once it is complete: a crash at any moment leaves earlier checkpoints valid.
read_manifest checks every field's type and the manifest's checksum, so a damaged, edited
or foreign manifest is refused with one line instead of failing somewhere later.
Static connectivity is not saved; it is regenerated from the seed.
"""
from __future__ import annotations

import json
import os
import shutil

import numpy as np

from brainsim.io.document_arrays import is_entry as is_arrays_entry, split_arrays, write_arrays
from brainsim.io.files import read_json_object

# 2: the rate-table counters from the start and from the window; 3: checksummed recording
# segments with their step ranges, the run's id and recording choices, a manifest checksum
FORMAT_VERSION = 3
MANIFEST = "manifest.json"
CHECKPOINT_DIR = "checkpoints"


class CheckpointError(Exception):
    """A checkpoint cannot be used; str() is one line naming the path and the reason."""


def checkpoint_name(step: int) -> str:
    return f"ckpt_{step:012d}"


def temporary_dir(root: str, step: int) -> str:
    return os.path.join(root, f".incomplete_{checkpoint_name(step)}")


def shard_name(rank: int) -> str:
    return f"rank_{rank:05d}.h5"


def sha256_of(path: str) -> str:
    import hashlib      # here, not at import: OpenSSL costs 3.6 MiB per rank (docs/performance.md)
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def write_shard(directory: str, rank: int, gids: np.ndarray, state: dict[str, np.ndarray],
                pending_input: np.ndarray, plastic: dict[str, np.ndarray] | None = None) -> dict:
    """This rank's dynamic state, keyed by gid; returns {file, bytes, sha256}.

    plastic: dataset path -> array under /plastic (see read_plastic)."""
    import h5py   # imported when needed: it costs every process ~13 MiB
    path = os.path.join(directory, shard_name(rank))
    with h5py.File(path, "w") as shard:
        shard.create_dataset("gids", data=gids)
        for name, values in state.items():
            shard.create_dataset(f"state/{name}", data=values)
        shard.create_dataset("pending_input", data=pending_input)
        for name, values in (plastic or {}).items():
            shard.create_dataset(f"plastic/{name}", data=values)
    return {"file": shard_name(rank), "bytes": os.path.getsize(path), "sha256": sha256_of(path)}


def publish(root: str, step: int, manifest: dict, keep: int) -> str:
    """Rank 0, after every shard is written: manifest last, then rename into place; keep
    the newest `keep` checkpoints."""
    incomplete = temporary_dir(root, step)
    document, arrays = split_arrays(manifest.get("document"))
    if arrays:      # numpy arrays of a dict document: beside the JSON (document_arrays.py)
        manifest = dict(manifest, document=document,
                        document_arrays=write_arrays(incomplete, arrays))
    manifest = dict(manifest, manifest_sha256=manifest_digest(manifest))
    with open(os.path.join(incomplete, MANIFEST), "w") as handle:
        json.dump(manifest, handle, indent=1, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    final = os.path.join(root, checkpoint_name(step))
    if os.path.exists(final):
        shutil.rmtree(final)
    os.rename(incomplete, final)
    for old in list_checkpoints(root)[:-keep] if keep > 0 else []:
        shutil.rmtree(os.path.join(root, old), ignore_errors=True)
    return final


def list_checkpoints(root: str) -> list[str]:
    """Complete checkpoints under root, oldest first."""
    if not os.path.isdir(root):
        return []
    names = [n for n in os.listdir(root) if n.startswith("ckpt_")
             and os.path.exists(os.path.join(root, n, MANIFEST))]
    return sorted(names)


def manifest_digest(manifest: dict) -> str:
    """SHA-256 of the manifest's canonical JSON without its own checksum: an edited or
    damaged manifest no longer matches."""
    import hashlib
    content = {key: value for key, value in manifest.items() if key != "manifest_sha256"}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def read_manifest(path: str) -> dict:
    """The checkpoint's manifest, checked: format version, every field's type, its own
    checksum (CheckpointError, one line, on anything else)."""
    manifest_path = os.path.join(path, MANIFEST)
    if not os.path.exists(manifest_path):
        raise CheckpointError(f"{path}: not a complete checkpoint (no {MANIFEST})")
    try:
        manifest = read_json_object(manifest_path, "unreadable manifest",
                                    "the JSON a checkpoint writes",
                                    "a checkpoint manifest (a JSON object)")
    except ValueError as err:
        raise CheckpointError(str(err)) from None
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        written_by = manifest.get("brainsim_version")
        by = f" by brainsim {written_by}" if isinstance(written_by, str) else ""
        raise CheckpointError(f"{manifest_path}: checkpoint format {version!r} (written{by}); "
                              f"this brainsim ({_own_version()}) reads format "
                              f"{FORMAT_VERSION}: resume it with the brainsim that wrote it")
    problem = manifest_problem(manifest)
    if problem is not None:
        raise CheckpointError(f"{manifest_path}: {problem}; the manifest is damaged or was "
                              "edited (use another checkpoint)")
    if manifest["manifest_sha256"] != manifest_digest(manifest):
        raise CheckpointError(f"{manifest_path}: checksum mismatch; the manifest was edited "
                              "or damaged (use another checkpoint)")
    return manifest


def _own_version() -> str:
    import brainsim
    return brainsim.__version__


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_plain_name(value) -> bool:
    """A file name inside the checkpoint or segment directory, never a path out of it."""
    return (isinstance(value, str) and value not in ("", ".", "..") and "/" not in value
            and "\\" not in value and "\0" not in value)


def _is_counts(value) -> bool:
    return isinstance(value, dict) and all(_is_int(n) and n >= 0 for n in value.values())


_SEGMENT_FIELDS = {"file": _is_plain_name, "first_step": _is_int, "last_step": _is_int,
                   "counts": _is_counts, "bytes": _is_int,
                   "sha256": lambda v: isinstance(v, str) and len(v) == 64}


def _recording_problem(entry, where: str) -> str | None:
    if not isinstance(entry, dict) or not isinstance(entry.get("segments"), list) \
            or not _is_counts(entry.get("counts")):
        return f"{where}: expected {{segments: [...], counts: {{...}}}}"
    for index, segment in enumerate(entry["segments"]):
        if not isinstance(segment, dict):
            return f"{where}.segments[{index}]: expected an object"
        for key, valid in _SEGMENT_FIELDS.items():
            if not valid(segment.get(key)):
                return f"{where}.segments[{index}].{key}: missing or of the wrong type"
    return None


_FIELDS = {
    "step": lambda v: _is_int(v) and v >= 0,
    "t_ms": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0,
    "ranks": lambda v: _is_int(v) and v >= 1,
    "seed": _is_int, "model": lambda v: isinstance(v, str),
    "model_hash": lambda v: isinstance(v, str) and len(v) >= 12,
    "model_source": lambda v: isinstance(v, str),
    "config_source": lambda v: v is None or isinstance(v, str),
    "overrides": lambda v: isinstance(v, list) and all(isinstance(o, str) for o in v),
    "document": lambda v: isinstance(v, dict),
    "population_sizes": _is_counts,
    "brainsim_version": lambda v: isinstance(v, str),
    "written_at": lambda v: isinstance(v, str),
    "run_id": lambda v: isinstance(v, str) and v != "",
    "recording": lambda v: isinstance(v, dict),
    "reports": lambda v: isinstance(v, dict),
    "recorder": lambda v: isinstance(v, dict) and all(
        _is_int(x) or (isinstance(x, list) and all(_is_int(i) for i in x))
        for x in v.values()) and {"counts_in_window", "total_spikes"} <= set(v),
    "population_activity": lambda v: v is None or _is_plain_name(v),
    "document_arrays": is_arrays_entry,
    "manifest_sha256": lambda v: isinstance(v, str),
}
OPTIONAL_FIELDS = ("population_activity", "document_arrays")


def manifest_problem(manifest: dict) -> str | None:
    """What is wrong with a manifest of the right format version (None: nothing)."""
    for key, valid in _FIELDS.items():
        if key in OPTIONAL_FIELDS and key not in manifest:
            continue
        if key not in manifest:
            return f"no {key!r}"
        if not valid(manifest[key]):
            return f"{key!r} is {str(manifest[key])[:60]!r}, of the wrong type or range"
    shards = manifest.get("shards")
    if not isinstance(shards, list) or len(shards) != manifest["ranks"]:
        return f"'shards': expected a list of {manifest['ranks']} shard(s)"
    for rank, shard in enumerate(shards):
        if not isinstance(shard, dict) or shard.get("rank") != rank \
                or shard.get("file") != shard_name(rank) or not _is_int(shard.get("bytes")) \
                or not isinstance(shard.get("sha256"), str):
            return f"'shards'[{rank}]: expected {{rank: {rank}, file: {shard_name(rank)}, " \
                   "bytes, sha256}"
    problem = _recording_problem(manifest.get("spikes"), "'spikes'")
    if problem is None:
        for variable, entry in manifest["reports"].items():
            problem = problem or _recording_problem(entry, f"'reports'.{variable}")
    return problem


def verify_shards(path: str, manifest: dict) -> None:
    """Every shard present, of the recorded size and checksum."""
    for shard in manifest["shards"]:
        shard_path = os.path.join(path, shard["file"])
        if not os.path.exists(shard_path):
            raise CheckpointError(f"{shard_path}: shard missing; the checkpoint is incomplete")
        if os.path.getsize(shard_path) != shard["bytes"] or sha256_of(shard_path) != shard["sha256"]:
            raise CheckpointError(f"{shard_path}: checksum mismatch; the shard is corrupted")


def read_local_state(path: str, manifest: dict, owns) -> dict:
    """The state of the gids this rank owns, read shard by shard (never the whole network).

    owns(gids) -> boolean mask. Returns {"gids", "state": {name: values}, "pending_input"}.
    """
    import h5py
    gids_parts, state_parts, pending_parts = [], {}, []
    for shard in manifest["shards"]:
        with h5py.File(os.path.join(path, shard["file"]), "r") as data:
            gids = data["gids"][()]
            mine = owns(gids)
            gids_parts.append(gids[mine])
            for name, values in data["state"].items():
                state_parts.setdefault(name, []).append(values[()][mine])
            pending_parts.append(data["pending_input"][()][mine])
    return {"gids": np.concatenate(gids_parts),
            "state": {name: np.concatenate(parts) for name, parts in state_parts.items()},
            "pending_input": np.concatenate(pending_parts)}


def read_plastic(path: str, manifest: dict, owns) -> dict:
    """Plastic state for the gids this rank owns, shard by shard.

    Shard layout under /plastic: per projection `p<index>/` the synapses onto the shard's
    neurons sorted by target gid (each target's synapses in CSR order: `target_gid`,
    `source_gid`, `weight`) and, in every shard alike, one dataset per per-source array
    the projection's synapse model declares (brainsim.catalogue.synapses, `per_source`:
    `t_last`, then e.g. `kplus` or `x`, `y`, `u`), read back whatever their names;
    `post/count` per shard neuron (gid order of /gids) with `post/step`, `post/k`
    concatenated. Returns {"projections": {index: {target_gid, source_gid, weight, and
    each per-source name}}, "post": {gids, count, step, k}} (empty when none saved)."""
    import h5py
    projections: dict = {}
    post = {"gids": [], "count": [], "step": [], "k": []}
    for shard in manifest["shards"]:
        with h5py.File(os.path.join(path, shard["file"]), "r") as data:
            if "plastic" not in data:
                continue
            group = data["plastic"]
            for name, proj in group.items():
                if not (name.startswith("p") and name[1:].isdigit()):
                    continue
                index = int(name[1:])
                tgt = proj["target_gid"][()]
                mine = owns(tgt)
                entry = projections.setdefault(index, {
                    "target_gid": [], "source_gid": [], "weight": [],
                    **{key: proj[key][()] for key in proj
                       if key not in ("target_gid", "source_gid", "weight")}})
                entry["target_gid"].append(tgt[mine])
                entry["source_gid"].append(proj["source_gid"][()][mine])
                entry["weight"].append(proj["weight"][()][mine])
            if "post" in group:
                gids = data["gids"][()]
                count = group["post/count"][()]
                mine = owns(gids)
                per_entry = np.repeat(mine, count)
                post["gids"].append(gids[mine])
                post["count"].append(count[mine])
                post["step"].append(group["post/step"][()][per_entry])
                post["k"].append(group["post/k"][()][per_entry])
    for entry in projections.values():
        for key in ("target_gid", "source_gid", "weight"):
            entry[key] = np.concatenate(entry[key])
    return {"projections": projections,
            "post": {k: np.concatenate(v) for k, v in post.items()} if post["gids"] else None}
