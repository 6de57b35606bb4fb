"""Helpers of the batch-job tests: submit, wait by polling squeue, read spikes."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from cli_runner import REPO


def job_ids(outdir) -> list[str]:
    from brainsim.scheduler import joblog
    return [e["job"] for e in joblog.read(str(outdir)) if e["event"] == "submitted"]


def queued(ids: list[str]) -> list[str]:
    if not ids:
        return []
    out = subprocess.run(["squeue", "-h", "-o", "%i", "-j", ",".join(ids)],
                         capture_output=True, text=True, timeout=30)
    return out.stdout.split()


def wait_for_chain(outdir, timeout: float = 120) -> list[str]:
    """Poll squeue until no job of OUTDIR's chain is queued or running (a job logs its
    continuation before it ends, so an empty answer means the chain is over)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ids = job_ids(outdir)
        if ids and not queued(ids):
            return ids
        time.sleep(0.2)
    subprocess.run(["scancel", *job_ids(outdir)], timeout=30)
    pytest.fail(f"jobs {job_ids(outdir)} of {outdir} still queued after {timeout} s:\n"
                + job_outputs(outdir))


def wait_for_checkpoint(outdir, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    root = os.path.join(str(outdir), "checkpoints")
    while time.monotonic() < deadline:
        if os.path.isdir(root) and any(os.path.exists(os.path.join(root, n, "manifest.json"))
                                       for n in os.listdir(root)):
            return
        time.sleep(0.05)
    pytest.fail(f"no checkpoint in {outdir} after {timeout} s:\n" + job_outputs(outdir))


def job_outputs(outdir) -> str:
    """The scheduler output files of OUTDIR (for failure messages)."""
    text = []
    for name in sorted(os.listdir(str(outdir))):
        if name.startswith(("slurm-", "pbs")) or name.endswith(".jsonl"):
            with open(os.path.join(str(outdir), name)) as handle:
                text.append(f"--- {name}\n{handle.read()[-3000:]}")
    return "\n".join(text)


def spike_datasets(path) -> dict[str, bytes]:
    """Every dataset of a spike file as raw bytes, by name."""
    import h5py
    found = {}
    with h5py.File(path, "r") as handle:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                found[name] = obj[()].tobytes()
        handle.visititems(visit)
    return found


def brainsim(args: list[str], cwd, timeout: float = 300) -> subprocess.CompletedProcess:
    """`python -m brainsim ARGS` from another directory (brainsim importable from REPO even
    when it is not installed)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = REPO + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return subprocess.run([sys.executable, "-m", "brainsim", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=str(cwd), env=env)
