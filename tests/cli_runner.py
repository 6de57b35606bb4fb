"""Test helpers: paths, and running the brainsim CLI in a subprocess (optionally under mpiexec)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(REPO, "tests", "data")
MODELS = os.path.join(REPO, "models")


def mpiexec_path() -> str | None:
    beside_python = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if os.path.exists(beside_python):
        return beside_python
    return shutil.which("mpiexec")


def brainsim_command(args: list[str], ranks: int | None = None) -> list[str]:
    command = [sys.executable, "-m", "brainsim", *args]
    if ranks is None:
        return command
    return [mpiexec_path(), "-n", str(ranks), *command]


def run_brainsim(args: list[str], ranks: int | None = None, timeout: float = 300,
                 cwd: str | None = None) -> subprocess.CompletedProcess:
    """Run `brainsim ARGS` (under mpiexec -n ranks if given) and capture its output."""
    return subprocess.run(brainsim_command(args, ranks), capture_output=True, text=True,
                          timeout=timeout, cwd=cwd or REPO)


def run_ok(args: list[str], ranks: int | None = None, timeout: float = 300):
    """run_brainsim, asserting exit status 0 (the output is shown when it is not)."""
    done = run_brainsim(args, ranks=ranks, timeout=timeout)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def spike_bytes(outdir) -> dict[str, bytes]:
    """Every spike dataset of OUTDIR/spikes.h5 as bytes, for byte-for-byte comparisons."""
    import h5py
    with h5py.File(os.path.join(outdir, "spikes.h5"), "r") as f:
        return {f"{name}/{column}": f["spikes"][name][column][()].tobytes()
                for name in f["spikes"] for column in ("timestamps", "node_ids")}
