"""The API under mpiexec -n 2 gives one process's results (gathered on rank 0)."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def run_script(out: str, launcher: list[str]) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([HERE, os.path.dirname(os.path.dirname(HERE))])}
    done = subprocess.run(launcher + [sys.executable, os.path.join(HERE, "ranks_script.py"), out],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return dict(np.load(out))


def test_two_ranks_equal_one(mpiexec, tmp_path):
    one = run_script(str(tmp_path / "one.npz"), [])
    two = run_script(str(tmp_path / "two.npz"), [mpiexec, "-n", "2"])
    assert len(one["E_t"]) > 300
    for key in one:
        assert np.array_equal(one[key], two[key]), key
