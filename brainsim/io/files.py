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


# A run's results: what `--overwrite` replaces as one set and what a new run refuses to
# overwrite (with report_<variable>.h5 and a checkpoints/ holding a complete checkpoint).
RESULT_FILES = ("spikes.h5", "run.json", "run_interrupted.json", "population_activity.h5")
# Leftovers of a run that never reached a checkpoint (kill -9, Ctrl-C, a full disk): no
# resume can use them, so a new run into the directory removes them without --overwrite.
PARTIAL_DIRS = (".segments", "checkpoints")
# --overwrite moves the previous results here and removes them only once the new run's
# results are complete: a new run that fails leaves the old ones (hidden, restorable).
PREVIOUS_DIR = ".previous_results"


def is_result(directory: str, name: str) -> bool:
    """True for a file of a run's results (see RESULT_FILES) in `directory`."""
    if name in RESULT_FILES or (name.startswith("report_") and name.endswith(".h5")):
        return True
    if name == "checkpoints":
        root = os.path.join(directory, name)
        return os.path.isdir(root) and any(
            entry.startswith("ckpt_") and os.path.exists(os.path.join(root, entry,
                                                                      "manifest.json"))
            for entry in os.listdir(root))
    return False


def results_in(directory: str) -> list[str]:
    """Names of the result files in `directory` (sorted)."""
    return sorted(name for name in os.listdir(directory) if is_result(directory, name))


def check_output_target(path: str) -> None:
    """Refuse a path that cannot be an output directory: a file, a dangling symbolic link."""
    if os.path.islink(path) and not os.path.exists(path):
        raise OutputError(f"{path}: a symbolic link to {os.readlink(path)}, which does not "
                          "exist; expected an output directory (create the target or choose "
                          "another path with -o)")
    if os.path.exists(path) and not os.path.isdir(path):
        raise OutputError(f"{path}: exists and is not a directory; expected an output directory")


def check_output_dir(path: str, overwrite: bool) -> None:
    """Refuse an output directory that already holds brainsim results, unless overwrite.
    Leftovers of a run that never checkpointed are not results (see PARTIAL_DIRS)."""
    check_output_target(path)
    if not os.path.isdir(path) or overwrite:
        return
    existing = results_in(path)
    if existing:
        raise OutputError(f"{path}: already holds results ({', '.join(existing)}); "
                          "expected a new directory (or pass --overwrite to replace them)")


def _remove(target: str) -> None:
    if os.path.isdir(target) and not os.path.islink(target):
        shutil.rmtree(target)
    elif os.path.lexists(target):
        os.remove(target)


def clear_partial_results(path: str) -> None:
    """A new run (under the directory's lock): remove what an unfinished earlier run left
    that is not a result: segments, checkpoints that never completed, temporary files."""
    for name in os.listdir(path):
        ours = name in PARTIAL_DIRS or (name.endswith(".partial")
                                        and is_result(path, name[:-len(".partial")]))
        if ours and not is_result(path, name):
            _remove(os.path.join(path, name))


def set_aside_previous_results(path: str) -> None:
    """--overwrite (under the directory's lock): the previous results leave their final
    names together, into PREVIOUS_DIR, so that no old file stays beside the new run's.

    A finished set (run.json) replaces an older set already there; an unfinished one
    (checkpoints of a replaced run, run_interrupted.json) is removed: a resume must never
    pick it up."""
    previous = os.path.join(path, PREVIOUS_DIR)
    names = results_in(path)
    finished = "run.json" in names
    if finished:
        _remove(previous)
        os.makedirs(previous)
    for name in names:
        target = os.path.join(path, name)
        if finished and name != "checkpoints" and name != "run_interrupted.json":
            os.replace(target, os.path.join(previous, name))
        else:
            _remove(target)
    clear_partial_results(path)


def drop_previous_results(path: str) -> None:
    """The new run's results are complete: the replaced set goes."""
    _remove(os.path.join(path, PREVIOUS_DIR))


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


# JSON bookkeeping files (run.json, manifests) are small; a larger one is not ours.
MAX_JSON_BYTES = 64 << 20


def read_json_object(path: str, unreadable: str, expected: str,
                     expected_object: str = "an object") -> dict:
    """The JSON object in `path` (at most MAX_JSON_BYTES read). ValueError with one line,
    "PATH: <unreadable> (reason); expected <expected>" when it cannot be read or parsed,
    "PATH: a JSON <type>; ..." when it holds something other than an object."""
    try:
        with open(path, "rb") as handle:
            data = json.loads(handle.read(MAX_JSON_BYTES).decode())
    except (OSError, ValueError, RecursionError) as err:
        reason = " ".join(str(err).split())[:120]
        raise ValueError(f"{path}: {unreadable} ({reason}); expected {expected}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a JSON {type(data).__name__}; expected {expected_object}")
    return data


def partial_name(final_path: str) -> str:
    return final_path + ".partial"


def write_json_atomic(path: str, data: dict) -> None:
    temporary = partial_name(path)
    with open(temporary, "w") as handle:
        json.dump(data, handle, indent=2, sort_keys=True, default=float)
        handle.write("\n")
    os.replace(temporary, path)
