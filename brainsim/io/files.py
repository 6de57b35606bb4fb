"""Output-directory safety: nothing existing is overwritten unasked, nothing half-written
is left under a final name (write to a temporary name, then rename)."""
from __future__ import annotations

import json
import os
import shutil


class OutputError(Exception):
    """The output directory cannot be used; str() is one line naming the path.

    agreed: True when every rank raises it together (after a broadcast); False when only
    the rank that met it knows, which must then abort the job (engine.guards)."""

    def __init__(self, message: str, *, agreed: bool = False):
        super().__init__(message)
        self.agreed = agreed


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
    probe_writable(path)


def probe_writable(path: str) -> None:
    """Create and remove a file in `path`: unlike os.access, this also refuses a read-only
    file system, /proc or /sys, and a directory without write permission for root."""
    probe = os.path.join(path, f".brainsim_write_test.{os.getpid()}")
    try:
        try:
            with open(probe, "wb") as handle:
                handle.write(b"\0")
        finally:
            if os.path.lexists(probe):
                os.remove(probe)
    except OSError as err:
        reason = err.strerror or str(err)
        raise OutputError(f"{path}: cannot write a file in the output directory ({reason}, "
                          f"errno {err.errno}); expected a writable directory with free space "
                          "(choose another with -o)") from None


def partial_name(final_path: str) -> str:
    return final_path + ".partial"


def write_json_atomic(path: str, data: dict) -> None:
    temporary = partial_name(path)
    with open(temporary, "w") as handle:
        json.dump(data, handle, indent=2, sort_keys=True, default=float)
        handle.write("\n")
    os.replace(temporary, path)
