"""Numerical faults (issue 8): NaN/inf in a neuron's state stops the run with status 3,
naming gid, population, step and variable, after writing the spikes recorded so far."""
from __future__ import annotations

import json
import os

import h5py
import pytest

from cli_runner import DATA
from reliability_helpers import timed_run

SMALL = os.path.join(DATA, "small_network.yaml")
BLOWUP = os.path.join(os.path.dirname(__file__), "blowup.yaml")


@pytest.mark.mpi
def test_nan_written_on_one_rank_stops_every_rank_with_status_3(tmp_path, mpiexec):
    out = tmp_path / "o"
    done, _ = timed_run(["run", SMALL, "--set", "simulation.t_sim=200", "-o", str(out),
                         "--no-progress"], ranks=2,
                        env={"BRAINSIM_TEST_NAN_RANK": "1", "BRAINSIM_TEST_NAN_STEP": "300"})
    assert done.returncode == 3, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    # rank 1's first neuron is gid 1 (round robin); detected at the first check after 30 ms
    assert "gid 1 (population E, node id 1) has V_m = nan at step 300 (30 ms" in lines[0]
    with h5py.File(out / "spikes.h5") as spikes:
        last = max(spikes[f"spikes/{p}/timestamps"][:].max() for p in ("E", "I"))
    assert 29.0 < last <= 31.0                 # what was recorded up to the stop, merged
    assert not (out / ".segments").exists() or not os.listdir(out / ".segments")
    metadata = json.loads((out / "run.json").read_text())
    assert metadata["completed"] is False and "V_m = nan" in metadata["numerical_fault"]


@pytest.mark.mpi
def test_overflowing_model_stops_with_status_3(tmp_path, mpiexec):
    done, _ = timed_run(["run", BLOWUP, "-o", str(tmp_path / "o"), "--no-progress"], ranks=2)
    assert done.returncode == 3, done.stderr
    assert "population A" in done.stderr and "i_syn_ex = inf" in done.stderr
    assert "at step 100 (10 ms" in done.stderr
    assert (tmp_path / "o" / "spikes.h5").exists()


def test_overflowing_model_serial(tmp_path):
    done, _ = timed_run(["run", BLOWUP, "-o", str(tmp_path / "o"), "--no-progress"])
    assert done.returncode == 3, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
