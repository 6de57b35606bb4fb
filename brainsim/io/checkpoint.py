"""Checkpoint files: one HDF5 shard per rank plus a JSON manifest written last.

    OUTDIR/checkpoints/ckpt_<step>/rank_<r>.h5   gids + every state array + pending input
    OUTDIR/checkpoints/ckpt_<step>/manifest.json step, model hash and document, seed,
                                                 versions, ranks, shard sizes and sha256,
                                                 recorder positions

Every rank writes its shard into a temporary directory; after a barrier rank 0 writes the
manifest there and renames the directory to its final name. A checkpoint therefore exists
only once it is complete: a crash at any moment leaves earlier checkpoints valid.
Static connectivity is not saved; it is regenerated from the seed.
"""
from __future__ import annotations

import json
import os
import shutil

import numpy as np

FORMAT_VERSION = 2        # 2: the rate-table counters from the start and from the window
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


def read_manifest(path: str) -> dict:
    manifest_path = os.path.join(path, MANIFEST)
    if not os.path.exists(manifest_path):
        raise CheckpointError(f"{path}: not a complete checkpoint (no {MANIFEST})")
    try:
        with open(manifest_path) as handle:
            manifest = json.load(handle)
    except (OSError, ValueError) as err:
        raise CheckpointError(f"{manifest_path}: unreadable manifest ({err})") from None
    if manifest.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(f"{manifest_path}: checkpoint format "
                              f"{manifest.get('format_version')}; expected {FORMAT_VERSION}")
    return manifest


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
    `source_gid`, `weight`) and, in every shard alike, the per-source state (`t_last`;
    `kplus` for STDP models; `x`, `y`, `u` for tsodyks_synapse, `x`, `u` for
    tsodyks2_synapse); `post/count` per shard neuron (gid order of /gids) with `post/step`,
    `post/k` concatenated. Returns {"projections": {index: {target_gid, source_gid,
    weight, kplus, t_last}}, "post": {gids, count, step, k}} (empty when none saved)."""
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
