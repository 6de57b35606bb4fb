"""Output-directory safety: nothing existing is overwritten unasked, nothing half-written
is left under a final name (write to a temporary name, then rename)."""
from __future__ import annotations

import json
import os
import shutil


class OutputError(Exception):
    """The output directory cannot be used; str() is one line naming the path."""


OUTPUT_FILES = ("spikes.h5", "run.json", "run_interrupted.json", "checkpoints",
                ".segments", "population_activity.h5")
# What --overwrite replaces: brainsim's own results, never anything else in the directory.
REPLACED_ON_OVERWRITE = ("run_interrupted.json", "checkpoints", ".segments")


def check_output_dir(path: str, overwrite: bool) -> None:
    """Refuse an output directory that already holds brainsim results, unless overwrite."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise OutputError(f"{path}: exists and is not a directory; expected an output directory")
    if not os.path.isdir(path) or overwrite:
        return
    existing = [name for name in os.listdir(path)
                if name in OUTPUT_FILES or (name.startswith("report_") and name.endswith(".h5"))]
    if existing:
        raise OutputError(f"{path}: already holds results ({', '.join(existing)}); "
                          "expected a new directory (or pass --overwrite to replace them)")


def clear_previous_results(path: str) -> None:
    """--overwrite: remove the previous run's checkpoints and partial recordings, so that a
    later resume cannot pick up a checkpoint of the run being replaced."""
    for name in REPLACED_ON_OVERWRITE:
        target = os.path.join(path, name)
        if os.path.isdir(target):
            shutil.rmtree(target)
        elif os.path.exists(target):
            os.remove(target)


def prepare_output_dir(path: str) -> None:
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as err:
        raise OutputError(f"{path}: cannot create output directory ({err.strerror})") from None
    if not os.access(path, os.W_OK):
        raise OutputError(f"{path}: output directory is not writable")


def partial_name(final_path: str) -> str:
    return final_path + ".partial"


def write_json_atomic(path: str, data: dict) -> None:
    temporary = partial_name(path)
    with open(temporary, "w") as handle:
        json.dump(data, handle, indent=2, sort_keys=True, default=float)
        handle.write("\n")
    os.replace(temporary, path)
