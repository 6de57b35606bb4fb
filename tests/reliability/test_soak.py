"""The soak test of issue 8, marked slow (deselected by default; about 8 minutes):

    python -m pytest -m slow tests/reliability/test_soak.py

PD14 at 10 % for 60 s of biological time on 2 ranks with checkpoints every 10 s: memory per
rank stays flat after the first checkpoint, and the output equals the unbroken run and a run
broken in two by `brainsim resume` (benchmarks/soak.py does the work and the checks).
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from cli_runner import REPO


@pytest.mark.slow
def test_pd14_sixty_seconds_flat_memory_and_equal_output():
    done = subprocess.run([sys.executable, os.path.join(REPO, "benchmarks", "soak.py")],
                          capture_output=True, text=True, timeout=3600, cwd=REPO)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
