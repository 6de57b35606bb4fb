"""Numpy arrays of a model document, stored beside a checkpoint's manifest.

A document handed to brainsim as a Python dict may hold numpy arrays (a from_list
projection's `connections`, docs/model-format.md). The manifest is JSON, so each array is
replaced there by a reference {"checkpoint_array": name} and all of them are saved in
OUTDIR/checkpoints/ckpt_<step>/document_arrays.npz (size and sha256 in the manifest's
`document_arrays`); resume puts them back, so the stored document rebuilds the same model
(same hash) with no file of the original run, on any number of ranks.
"""
from __future__ import annotations

import os

import numpy as np

ARRAYS_FILE = "document_arrays.npz"
REFERENCE = "checkpoint_array"


def split_arrays(document):
    """(the document with every numpy array replaced by a reference, {name: array})."""
    arrays: dict[str, np.ndarray] = {}

    def walk(value):
        if isinstance(value, np.ndarray):
            name = f"a{len(arrays)}"
            arrays[name] = value
            return {REFERENCE: name}
        if isinstance(value, dict):
            return {key: walk(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [walk(item) for item in value]
        if isinstance(value, np.generic):      # a numpy scalar: JSON takes the Python one
            return value.item()
        return value
    return walk(document), arrays


def write_arrays(directory: str, arrays: dict) -> dict:
    """Save the arrays in `directory`; returns the manifest's {file, bytes, sha256}."""
    from brainsim.io.checkpoint import sha256_of
    path = os.path.join(directory, ARRAYS_FILE)
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)
    return {"file": ARRAYS_FILE, "bytes": os.path.getsize(path), "sha256": sha256_of(path)}


def is_entry(value) -> bool:
    """The manifest's `document_arrays` field as write_arrays makes it."""
    return (isinstance(value, dict) and value.get("file") == ARRAYS_FILE
            and isinstance(value.get("bytes"), int) and isinstance(value.get("sha256"), str))


def restore_arrays(document, directory: str, entry: dict):
    """The stored document with its arrays back (CheckpointError, one line, when the
    file is missing, damaged or lacks an array the document refers to)."""
    from brainsim.io.checkpoint import CheckpointError, sha256_of
    path = os.path.join(directory, entry["file"])
    if not os.path.exists(path):
        raise CheckpointError(f"{path}: missing; the checkpoint is incomplete")
    if os.path.getsize(path) != entry["bytes"] or sha256_of(path) != entry["sha256"]:
        raise CheckpointError(f"{path}: checksum mismatch; the document's arrays are corrupted")
    with np.load(path, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}

    def walk(value):
        if isinstance(value, dict):
            if set(value) == {REFERENCE}:
                if value[REFERENCE] not in arrays:
                    raise CheckpointError(f"{path}: no array {value[REFERENCE]!r}; the "
                                          "manifest and its arrays do not match")
                return arrays[value[REFERENCE]]
            return {key: walk(item) for key, item in value.items()}
        if isinstance(value, list):
            return [walk(item) for item in value]
        return value
    return walk(document)
