"""Test helper: the plastic state a run's last checkpoint holds, merged over its rank shards."""
from __future__ import annotations

import glob
import os

import h5py
import numpy as np

SYNAPSE_KEYS = ("target_gid", "source_gid", "weight")


def final_plastic(outdir: str, per_source: dict, expect_post: bool = False) -> dict:
    """'{index}/{key}' -> array for each plastic projection index of `per_source` (index ->
    names of its per-source state): the synapse keys ordered by target gid (stable, so CSR
    order within a target) and the per-source state (replicated on every rank). With
    expect_post, every shard must hold the post-spike histories (STDP targets)."""
    (ckpt,) = sorted(glob.glob(os.path.join(outdir, "checkpoints", "ckpt_*")))[-1:]
    parts: dict = {}
    for shard in sorted(glob.glob(os.path.join(ckpt, "rank_*.h5"))):
        with h5py.File(shard, "r") as f:
            for index, names in per_source.items():
                group = f[f"plastic/p{index}"]
                for key in SYNAPSE_KEYS:
                    parts.setdefault(f"{index}/{key}", []).append(group[key][()])
                for key in names:
                    parts[f"{index}/{key}"] = group[key][()]
            if expect_post:
                assert "post" in f["plastic"], f"{shard}: no post-spike histories"
    out = {}
    for index, names in per_source.items():
        order = np.argsort(np.concatenate(parts[f"{index}/target_gid"]), kind="stable")
        for key in SYNAPSE_KEYS:
            out[f"{index}/{key}"] = np.concatenate(parts[f"{index}/{key}"])[order]
        for key in names:
            out[f"{index}/{key}"] = parts[f"{index}/{key}"]
    return out
