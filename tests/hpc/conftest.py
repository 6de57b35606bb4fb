"""Fixtures of the batch-job tests: a real single-node SLURM (scripts/start_slurm.sh);
helpers that submit, wait by polling squeue and read spikes are in hpc_helpers.py.

The SLURM tests need root and apt-get (Debian/Ubuntu); elsewhere they are skipped and the
reason is printed at the end of the test session.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest

from cli_runner import REPO

START_SLURM = os.path.join(REPO, "scripts", "start_slurm.sh")
EXIT_CANNOT_RUN_HERE = 3
SKIPPED: list[str] = []


def pytest_terminal_summary(terminalreporter):
    for reason in SKIPPED:
        terminalreporter.write_line(f"tests/hpc: SLURM tests skipped: {reason}", yellow=True)


@pytest.fixture(scope="session")
def slurm():
    """A running single-node SLURM with the PBS wrappers (qsub); installs it the first time."""
    reason = None
    if os.geteuid() != 0:
        reason = "scripts/start_slurm.sh needs root (installs and starts SLURM)"
    elif shutil.which("apt-get") is None and shutil.which("scontrol") is None:
        reason = "scripts/start_slurm.sh needs apt-get (Debian/Ubuntu) or a running SLURM"
    if reason is None:
        started = time.monotonic()
        done = subprocess.run(["bash", START_SLURM, "--torque"], capture_output=True,
                              text=True, timeout=600)
        if done.returncode == EXIT_CANNOT_RUN_HERE:
            reason = done.stderr.strip().splitlines()[-1]
        elif done.returncode != 0:
            pytest.fail(f"scripts/start_slurm.sh failed ({done.returncode}):\n{done.stderr}")
        else:
            sys.stderr.write(f"\nSLURM ready in {time.monotonic() - started:.1f} s\n")
    if reason is not None:
        SKIPPED.append(reason)
        pytest.skip(reason)
    return True

