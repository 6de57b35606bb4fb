"""Helpers of the reliability tests: timed CLI runs."""
from __future__ import annotations

import os
import subprocess
import time

from cli_runner import brainsim_command


def timed_run(args, ranks=None, env=None, timeout=60):
    """(CompletedProcess, wall seconds) of `brainsim ARGS`, optionally under mpiexec."""
    started = time.monotonic()
    done = subprocess.run(brainsim_command(args, ranks), capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})
    return done, time.monotonic() - started
