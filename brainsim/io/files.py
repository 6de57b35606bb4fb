"""Output-directory safety: nothing existing is overwritten unasked, nothing half-written
is left under a final name (write to a temporary name, then rename)."""
from __future__ import annotations

import json
import os


class OutputError(Exception):
    """The output directory cannot be used; str() is one line naming the path."""


OUTPUT_FILES = ("spikes.h5", "run.json")


def check_output_dir(path: str, overwrite: bool) -> None:
    """Refuse an output directory that already holds brainsim results, unless overwrite."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise OutputError(f"{path}: exists and is not a directory; expected an output directory")
    if not os.path.isdir(path) or overwrite:
        return
    existing = [name for name in OUTPUT_FILES if os.path.exists(os.path.join(path, name))]
    if existing:
        raise OutputError(f"{path}: already holds results ({', '.join(existing)}); "
                          "expected a new directory (or pass --overwrite to replace them)")


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
