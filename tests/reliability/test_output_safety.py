"""Output safety (issue 8): an unwritable output directory is refused up front (status 2);
a disk that fills during the run gives one line naming the path and errno (status 74) and
leaves files completed before untouched.

CI runs as root, which ignores permission bits (chmod 555 does not stop it), so
unwritability is produced without them: /proc (no files can be created there, even by
root), a file where the directory should be, and, where mounting works, a read-only tmpfs.
brainsim detects all of these by creating and removing a probe file, not by os.access."""
from __future__ import annotations

import hashlib
import os
import subprocess

import pytest

from cli_runner import DATA
from reliability_helpers import timed_run

SMALL = os.path.join(DATA, "small_network.yaml")


def _refused(output: str, ranks=None):
    done, _ = timed_run(["run", SMALL, "-o", output, "--no-progress"], ranks=ranks)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and output in lines[0], done.stderr
    return lines[0]


def test_unwritable_directory_even_for_root():
    assert "cannot write a file in the output directory" in _refused("/proc")


def test_file_where_the_directory_should_be(tmp_path):
    (tmp_path / "a_file").write_text("x")
    assert "cannot create output directory" in _refused(str(tmp_path / "a_file" / "out"))


def test_chmod_read_only_directory_when_not_root(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root ignores permission bits; covered by /proc and read-only tmpfs")
    target = tmp_path / "ro"
    target.mkdir()
    target.chmod(0o555)
    try:
        assert "cannot write a file" in _refused(str(target))
    finally:
        target.chmod(0o755)


@pytest.mark.mpi
def test_read_only_file_system_on_two_ranks(tmpfs, mpiexec):
    target = tmpfs("1m", "ro")
    assert "Read-only file system" in _refused(target, ranks=2)


def _digest(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


@pytest.mark.parametrize("ranks", [None, 2])
def test_disk_full_during_the_run(ranks, tmpfs, mpiexec):
    root = tmpfs("2m")
    out = os.path.join(root, "out")
    first, _ = timed_run(["run", SMALL, "--set", "simulation.t_sim=50", "-o", out,
                          "--no-progress"])
    assert first.returncode == 0, first.stderr
    before = _digest(os.path.join(out, "spikes.h5")), _digest(os.path.join(out, "run.json"))
    done, seconds = timed_run(["run", SMALL, "--set", "simulation.t_sim=5000", "-o", out,
                               "--overwrite", "--checkpoint-every", "500", "--no-progress"],
                              ranks=ranks)
    assert done.returncode == 74, done.stderr
    assert seconds < 30
    line = [text for text in done.stderr.splitlines() if text.startswith("brainsim: error")]
    assert len(line) == 1, done.stderr
    assert "No space left on device (errno 28 ENOSPC)" in line[0] and root in line[0]
    assert "Traceback" not in done.stderr
    # the previous run's results are untouched: --overwrite moved them aside together and
    # removes them only once the new run's results are complete (none of them stays beside
    # the new run's files)
    previous = os.path.join(out, ".previous_results")
    assert (_digest(os.path.join(previous, "spikes.h5")),
            _digest(os.path.join(previous, "run.json"))) == before
    assert not os.path.exists(os.path.join(out, "spikes.h5"))
    assert previous in line[0]
    # the advice is true: resume where a checkpoint exists, else run again
    checkpoints = os.path.join(out, "checkpoints")
    if os.path.isdir(checkpoints) and any(n.startswith("ckpt_") for n in os.listdir(checkpoints)):
        assert f"brainsim resume {out}" in line[0]
    else:
        assert "run the same command again" in line[0]


def test_disk_full_during_the_final_merge_then_resume_finishes_it(tmpfs, tmp_path):
    """Issue 20 item 11: the simulation's segments (1.3 MB) fit, the merged spikes.h5 beside
    them does not. The exit-74 line says to resume, and after freeing space (the tmpfs
    grown) `brainsim resume OUTDIR` finishes the merge: the same spikes as a run with room."""
    from cli_runner import spike_bytes
    root = tmpfs("2m")
    out = os.path.join(root, "out")
    args = ["--set", "simulation.t_sim=3000", "--no-progress"]
    done, _ = timed_run(["run", SMALL, "-o", out, *args])
    assert done.returncode == 74, done.stderr
    line = done.stderr.strip().splitlines()
    assert len(line) == 1 and "No space left on device" in line[0], done.stderr
    assert line[0].endswith(f"then brainsim resume {out} finishes writing the results")
    assert not os.path.exists(os.path.join(out, "spikes.h5"))
    subprocess.run(["mount", "-o", "remount,size=8m", root], check=True)
    finished, _ = timed_run(["resume", out])
    assert finished.returncode == 0, finished.stderr
    reference = str(tmp_path / "reference")
    assert timed_run(["run", SMALL, "-o", reference, *args])[0].returncode == 0
    assert spike_bytes(out) == spike_bytes(reference)
    assert sorted(os.listdir(out)) == [".brainsim.lock", "run.json", "spikes.h5"]
