"""MPI faults (issue 8): an error on one rank ends the whole job within seconds, with that
rank's message on stderr, never a hang in a collective."""
from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from cli_runner import DATA, brainsim_command
from reliability_helpers import timed_run

pytestmark = pytest.mark.mpi

SMALL = os.path.join(DATA, "small_network.yaml")
BAD = os.path.join(os.path.dirname(DATA), "bad_inputs", "zero_size.yaml")


@pytest.mark.parametrize("where", ["build", "simulate"])
def test_failure_on_one_rank_ends_the_job(where, tmp_path, mpiexec):
    done, seconds = timed_run(
        ["run", SMALL, "--set", "simulation.t_sim=2000", "-o", str(tmp_path / "o"),
         "--no-progress"], ranks=3,
        env={"BRAINSIM_TEST_FAIL_RANK": "1", "BRAINSIM_TEST_FAIL_AT": where}, timeout=60)
    assert done.returncode != 0
    assert seconds < 20
    assert f"injected test fault on rank 1 at {'build' if where == 'build' else 'step'}" \
        in done.stderr
    assert "rank 1" in done.stderr


def test_setup_error_on_one_rank_only_exits_2_everywhere(tmp_path, mpiexec):
    """Rank 1 reads a bad model, the others a good one: status 2, rank 1's one line."""
    wrapper = tmp_path / "per_rank.sh"
    good = " ".join(brainsim_command(["run", SMALL, "-o", str(tmp_path / "o"), "--no-progress"]))
    bad = " ".join(brainsim_command(["run", BAD, "-o", str(tmp_path / "o"), "--no-progress"]))
    wrapper.write_text(f'#!/bin/sh\nif [ "$PMI_RANK" = 1 ]; then exec {bad}; else exec {good}; fi\n')
    wrapper.chmod(0o755)
    started = time.monotonic()
    done = subprocess.run([mpiexec, "-n", "3", str(wrapper)], capture_output=True, text=True,
                          timeout=60)
    assert time.monotonic() - started < 20
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        line for line in done.stderr.strip().splitlines() if "populations[1].size: 0" in line]
    assert len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_missing_recordings_on_resume_are_refused_by_every_rank_before_the_build(
        tmp_path, mpiexec):
    """Resume after the spike recordings were deleted: rank 0 checks them with the output
    directory, before the build, and every rank exits 2 together (one line)."""
    out = tmp_path / "o"
    first, _ = timed_run(["run", SMALL, "--set", "simulation.t_sim=50", "-o", str(out),
                          "--no-progress", "--checkpoint-at-end"], ranks=2)
    assert first.returncode == 0, first.stderr
    os.remove(out / "spikes.h5")
    done, seconds = timed_run(["resume", str(out), "--set", "simulation.t_sim=100",
                               "--no-progress"], ranks=2)
    assert done.returncode == 2, done.stderr
    assert seconds < 20
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "spike recordings up to the checkpoint" in lines[0], done.stderr


def _rank_pid(marker: str, rank: int) -> int | None:
    """pid of the brainsim process of MPI rank `rank` whose command line holds marker."""
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as handle:
                cmdline = handle.read().decode(errors="replace")
            with open(f"/proc/{name}/environ", "rb") as handle:
                environ = handle.read().split(b"\0")
        except OSError:
            continue
        if marker in cmdline and "brainsim" in cmdline and \
                f"PMI_RANK={rank}".encode() in environ:
            return int(name)
    return None


def test_kill_9_of_one_rank_ends_the_job(tmp_path, mpiexec):
    out = tmp_path / "killed_run"
    job = subprocess.Popen(brainsim_command(
        ["run", SMALL, "--set", "simulation.t_sim=1000000", "-o", str(out), "--no-progress"],
        ranks=2), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        pid = None
        while time.monotonic() < deadline and pid is None:
            if (out / ".segments").exists():
                pid = _rank_pid(str(out), 1)
            time.sleep(0.1)
        assert pid is not None, "rank 1 never started simulating"
        os.kill(pid, signal.SIGKILL)
        killed = time.monotonic()
        job.communicate(timeout=30)
        assert time.monotonic() - killed < 20
        assert job.returncode != 0
    finally:
        if job.poll() is None:
            job.kill()
            job.communicate()
