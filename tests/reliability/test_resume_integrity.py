"""Output, checkpoint and resume integrity (issue 20 items 4-8 and 11, issue 12's red team):
nothing a newer checkpoint or a finished run references is destroyed, damaged or foreign
recordings are refused, one run owns a directory at a time, --overwrite replaces the whole
set, recordings cannot change on resume, a crash in the final merge can be finished, and
kill -9 anywhere leaves a directory that can be resumed or run again.

Serial runs of the small network (about a second each) unless a case needs ranks."""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import signal
import subprocess
import time

import pytest

from cli_runner import DATA, brainsim_command, spike_bytes
from reliability_helpers import timed_run

SMALL = os.path.join(DATA, "small_network.yaml")
REPORT = ("recording.state=[{population: E, variables: [V_m], count: 5, interval: 1.0}]")
ACTIVITY = "recording.population_activity={bin: 5.0}"


def brainsim(args, expect=0, ranks=None, env=None):
    done, _ = timed_run(args, ranks=ranks, env=env, timeout=120)
    assert done.returncode == expect, done.stdout + done.stderr
    return done


def refused(args, fragment, ranks=None):
    """Status 2, one line holding fragment, no traceback."""
    done = brainsim(args, expect=2, ranks=ranks)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], done.stderr
    return lines[0]


def run(outdir, t_sim, *extra, expect=0, env=None, ranks=None):
    return brainsim(["run", SMALL, "-o", str(outdir), "--no-progress", "--set",
                     f"simulation.t_sim={t_sim}", *extra], expect=expect, env=env,
                    ranks=ranks)


def tree(directory) -> dict[str, str]:
    """Every file under directory (but the lock file) -> SHA-256 of its content."""
    result = {}
    for root, _, names in os.walk(directory):
        for name in names:
            if name == ".brainsim.lock":
                continue
            path = os.path.join(root, name)
            with open(path, "rb") as handle:
                result[os.path.relpath(path, directory)] = hashlib.sha256(
                    handle.read()).hexdigest()
    return result


def checkpoint(outdir, step) -> str:
    return os.path.join(str(outdir), "checkpoints", f"ckpt_{step:012d}")


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    """Spikes of the uninterrupted 100 ms run."""
    outdir = tmp_path_factory.mktemp("straight") / "out"
    run(outdir, 100)
    return spike_bytes(outdir)


def killed_run(outdir, *extra):
    """A run killed (-9) after its checkpoints at 20 and 40 ms, while writing the one at
    60 ms, on its way to 100 ms."""
    done, _ = timed_run(["run", SMALL, "-o", str(outdir), "--no-progress", "--set",
                         "simulation.t_sim=100", "--checkpoint-every", "20", *extra],
                        env={"BRAINSIM_TEST_KILL_IN_CHECKPOINT": "2"})
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert sorted(n for n in os.listdir(outdir / "checkpoints") if n.startswith("ckpt_")) \
        == ["ckpt_000000000200", "ckpt_000000000400"]
    return outdir


@pytest.fixture
def interrupted(tmp_path):
    return killed_run(tmp_path / "out")


# --- item 4: older checkpoints, finished results, --fork --------------------------------

def test_older_checkpoint_in_place_is_refused_and_fork_leaves_the_run_as_it_was(
        tmp_path, straight):
    outdir, fork = tmp_path / "out", tmp_path / "fork"
    run(outdir, 100, "--checkpoint-every", "25", "--keep-checkpoints", "4")
    before = tree(outdir)
    line = refused(["resume", str(outdir), "--from", "ckpt_000000000500", "--set",
                    "simulation.t_sim=150"], "not the newest checkpoint")
    assert "--fork NEWDIR" in line
    assert tree(outdir) == before
    brainsim(["resume", str(outdir), "--from", "ckpt_000000000500", "--fork", str(fork),
              "--no-progress"])
    assert spike_bytes(fork) == straight
    assert tree(outdir) == before         # the original: same files, same bytes
    with open(fork / "run.json") as handle:
        assert json.load(handle)["resumed_from"] == checkpoint(fork, 500)


def test_finished_run_is_not_replaced_by_a_resume_that_does_not_extend_it(tmp_path):
    outdir = tmp_path / "out"
    run(outdir, 100, "--checkpoint-every", "30")        # checkpoints 30, 60, 90; ends at 100
    before = tree(outdir)
    line = refused(["resume", str(outdir)], "the run has finished at 100 ms")
    assert "--fork NEWDIR" in line and "simulation.t_sim" in line
    assert tree(outdir) == before


def test_fork_into_the_run_itself_or_a_directory_with_results_is_refused(tmp_path):
    outdir, other = tmp_path / "out", tmp_path / "other"
    run(outdir, 50, "--checkpoint-at-end")
    run(other, 20)
    refused(["resume", str(outdir), "--fork", str(outdir), "--set", "simulation.t_sim=80"],
            "the fork's directory is the run's own")
    refused(["resume", str(outdir), "--fork", str(other), "--set", "simulation.t_sim=80"],
            "already holds results")


def test_kill_9_of_a_resume_then_resume_again(interrupted, straight):
    env = {"BRAINSIM_TEST_KILL_AT": "simulate", "BRAINSIM_TEST_KILL_STEP": "700"}
    done, _ = timed_run(["resume", str(interrupted), "--no-progress"], env=env)
    assert done.returncode == -signal.SIGKILL
    brainsim(["resume", str(interrupted), "--no-progress"])
    assert spike_bytes(interrupted) == straight


# --- item 5: checksums, manifests, shards -----------------------------------------------

def test_corrupted_spike_segment_is_refused(interrupted):
    """The first timestamp of a segment becomes 1.8e308 (the largest float64)."""
    import h5py
    path = interrupted / ".segments" / "spikes_000000000000.h5"
    with h5py.File(path, "r") as segment:
        offset = segment["spikes/E/timestamps"].id.get_chunk_info(0).byte_offset
    with open(path, "r+b") as handle:
        handle.seek(offset)
        handle.write(bytes.fromhex("ffffffffffffef7f"))
    refused(["resume", str(interrupted)], "checksum mismatch; the spike recordings segment")


def _edit_manifest(path, change, recompute: bool):
    from brainsim.io.checkpoint import manifest_digest
    manifest_path = os.path.join(path, "manifest.json")
    with open(manifest_path) as handle:
        manifest = json.load(handle)
    change(manifest)
    if recompute:
        manifest["manifest_sha256"] = manifest_digest(manifest)
    with open(manifest_path, "w") as handle:
        json.dump(manifest, handle)


def test_edited_manifest_step_is_refused(interrupted):
    newest = checkpoint(interrupted, 400)
    _edit_manifest(newest, lambda m: m.update(step=300, t_ms=30.0), recompute=False)
    refused(["resume", str(interrupted)], "the manifest was edited")
    # with its checksum made to match: the directory's name says another step
    _edit_manifest(newest, lambda m: None, recompute=True)
    refused(["resume", str(interrupted)], "the manifest says step 300")
    # the step left alone, a count edited: the segments no longer add up to it
    _edit_manifest(newest, lambda m: m.update(step=400, t_ms=40.0), recompute=True)
    _edit_manifest(newest, lambda m: m["spikes"]["counts"].update(E=1), recompute=True)
    refused(["resume", str(interrupted)], "record counts do not add up")


def test_checkpoint_of_another_run_is_refused(interrupted, tmp_path):
    """Another run of the model with another seed, stopped at the same time: its newest
    checkpoint copied over this run's would splice the two runs' spikes."""
    other = killed_run(tmp_path / "other", "--set", "simulation.seed=99")
    shutil.rmtree(checkpoint(interrupted, 400))
    shutil.copytree(checkpoint(other, 400), checkpoint(interrupted, 400))
    refused(["resume", str(interrupted)], "checksum mismatch")


MALFORMED = [
    (b"{not json", "unreadable manifest"),
    (b"[1, 2]", "a JSON list; expected a checkpoint manifest"),
    (b'{"format_version": 1, "brainsim_version": "0.0.1"}',
     "checkpoint format 1 (written by brainsim 0.0.1)"),
    (lambda m: m.pop("step"), "no 'step'"),
    (lambda m: m.update(ranks="two"), "'ranks' is 'two'"),
    (lambda m: m["shards"][0].update(file="rank_00001.h5"), "'shards'[0]: expected {rank: 0"),
    (lambda m: m["spikes"]["segments"][0].update(file="../../run.json"),
     "'spikes'.segments[0].file: missing or of the wrong type"),
]


def test_malformed_manifests_are_refused_by_resume_info_and_status(interrupted):
    path = checkpoint(interrupted, 400)
    manifest_path = os.path.join(path, "manifest.json")
    with open(manifest_path, "rb") as handle:
        good = handle.read()
    for content, fragment in MALFORMED:
        with open(manifest_path, "wb") as handle:
            handle.write(good)
        if callable(content):
            _edit_manifest(path, content, recompute=True)
        else:
            with open(manifest_path, "wb") as handle:
                handle.write(content)
        refused(["resume", str(interrupted)], fragment)
        refused(["info", path], fragment)
    status = brainsim(["status", str(interrupted)])
    assert "latest checkpoint: ckpt_000000000400 (unreadable manifest" in status.stdout
    assert "Traceback" not in status.stderr


@pytest.mark.mpi
def test_swapped_or_foreign_shards_are_refused(tmp_path, mpiexec):
    outdir = tmp_path / "out"
    run(outdir, 60, "--checkpoint-every", "20", "--keep-checkpoints", "3", ranks=2)
    newest, older = checkpoint(outdir, 600), checkpoint(outdir, 400)
    a, b = os.path.join(newest, "rank_00000.h5"), os.path.join(newest, "rank_00001.h5")
    os.rename(a, a + ".tmp")
    os.rename(b, a)
    os.rename(a + ".tmp", b)
    refused(["resume", str(outdir), "--set", "simulation.t_sim=80"], "checksum mismatch")
    os.rename(b, b + ".tmp")
    os.rename(a, b)
    os.rename(b + ".tmp", a)
    shutil.copy(os.path.join(older, "rank_00001.h5"), b)
    refused(["resume", str(outdir), "--set", "simulation.t_sim=80"], "checksum mismatch")


# --- item 6: one owner per output directory ---------------------------------------------

def _hold_lock(outdir):
    os.makedirs(outdir, exist_ok=True)
    fd = os.open(os.path.join(outdir, ".brainsim.lock"), os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.ftruncate(fd, 0)
    os.write(fd, b"run (pid 4242 on node17, since 2026-01-01T00:00:00)\n")
    return fd


def test_second_run_or_resume_into_a_locked_directory_is_refused(tmp_path):
    outdir = tmp_path / "out"
    run(outdir, 50, "--checkpoint-at-end")
    before = tree(outdir)
    fd = _hold_lock(outdir)
    try:
        line = refused(["run", SMALL, "-o", str(outdir), "--overwrite", "--no-progress"],
                       "in use by another brainsim run (pid 4242 on node17")
        assert str(outdir) in line
        refused(["resume", str(outdir), "--set", "simulation.t_sim=80"], "pid 4242 on node17")
        # without --overwrite the results would be refused anyway: the holder is named first
        refused(["run", SMALL, "-o", str(outdir), "--no-progress"], "pid 4242 on node17")
        assert tree(outdir) == before
    finally:
        os.close(fd)
    brainsim(["resume", str(outdir), "--set", "simulation.t_sim=80", "--no-progress"])


def test_concurrent_run_is_refused_naming_it_and_a_dead_ones_lock_does_not_block(tmp_path):
    outdir = tmp_path / "out"
    first = subprocess.Popen(brainsim_command(["run", SMALL, "-o", str(outdir), "--no-progress",
                                               "--set", "simulation.t_sim=100000"]),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not (outdir / ".segments").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        refused(["run", SMALL, "-o", str(outdir), "--no-progress"], f"pid {first.pid} on ")
    finally:
        first.kill()                    # kill -9: its lock goes with it
        first.wait()
    # no checkpoint was reached: the leftovers are not results, a plain rerun is possible
    run(outdir, 20)
    assert not (outdir / ".segments").exists()


def test_status_does_not_call_a_job_lost_when_squeue_fails(tmp_path, monkeypatch):
    from brainsim.scheduler import joblog
    from brainsim.scheduler.status import run_status
    outdir = tmp_path / "out"
    outdir.mkdir()
    joblog.append(str(outdir), "submitted", job="77", scheduler="slurm", fresh=True)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    squeue = bin_dir / "squeue"
    squeue.write_text("#!/bin/sh\necho 'slurm_load_jobs error: Unable to contact slurm "
                      "controller (connect failure)' >&2\nexit 1\n")
    squeue.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    report = run_status(str(outdir))
    assert report["state"] == "waiting", report
    assert "could not be asked" in report["detail"] and "Unable to contact" in report["detail"]
    squeue.write_text("#!/bin/sh\necho 'slurm_load_jobs error: Invalid job id specified' "
                      ">&2\nexit 1\n")
    assert run_status(str(outdir))["state"] == "lost"


# --- item 7: --overwrite replaces the whole set -----------------------------------------

def test_overwrite_replaces_the_whole_set_of_results(tmp_path):
    outdir = tmp_path / "out"
    run(outdir, 30, "--set", REPORT, "--set", ACTIVITY, "--checkpoint-at-end")
    assert {"report_V_m.h5", "population_activity.h5"} <= set(os.listdir(outdir))
    (outdir / "notes.txt").write_text("the user's, not brainsim's")
    run(outdir, 20, "--overwrite")
    assert sorted(n for n in os.listdir(outdir) if not n.startswith(".brainsim")) == [
        "notes.txt", "run.json", "spikes.h5"]


# --- item 8: recordings cannot change on resume -----------------------------------------

def test_changed_recordings_on_resume_are_refused(interrupted):
    before = tree(interrupted)
    for change, fragment in [(REPORT, "recording.state: the list of state reports differs"),
                             (ACTIVITY, "recording.population_activity.bin: None -> 5.0"),
                             ("recording.spikes=[E]", "recording.spikes: ['E', 'I'] -> ['E']")]:
        refused(["resume", str(interrupted), "--set", change], fragment)
    assert tree(interrupted) == before


# --- item 11: the final merge is a resumable step ---------------------------------------

@pytest.mark.parametrize("checkpoints", [["--checkpoint-at-end"], []])
def test_kill_9_during_the_final_merge_then_resume_finishes_it(tmp_path, checkpoints):
    outdir, reference = tmp_path / "out", tmp_path / "reference"
    run(reference, 40, "--set", REPORT)
    done, _ = timed_run(["run", SMALL, "-o", str(outdir), "--no-progress", "--set",
                         "simulation.t_sim=40", "--set", REPORT, *checkpoints],
                        env={"BRAINSIM_TEST_KILL_AT": "merge"})
    assert done.returncode == -signal.SIGKILL
    assert not (outdir / "run.json").exists() and not (outdir / "spikes.h5").exists()
    status = brainsim(["status", str(outdir)])
    assert f"merge interrupted (the simulation ended, writing its results did not; finish " \
        f"them with: brainsim resume {outdir})" in status.stdout.splitlines()[0]
    finished = brainsim(["resume", str(outdir)])
    assert "finished writing the results" in finished.stdout
    assert spike_bytes(outdir) == spike_bytes(reference)
    assert not (outdir / ".segments").exists()
    with open(outdir / "run.json") as handle:
        assert json.load(handle)["completed"] is True


# --- red team: output directories, kill -9, leftovers -----------------------------------

def test_output_directory_as_a_symlink_to_a_directory_works(tmp_path):
    target = tmp_path / "real"
    target.mkdir()
    link = tmp_path / "link"
    link.symlink_to(target)
    run(link, 20)
    assert (target / "spikes.h5").exists()


def test_dangling_symlink_and_regular_file_are_refused(tmp_path):
    link = tmp_path / "dangling"
    link.symlink_to(tmp_path / "nowhere")
    refused(["run", SMALL, "-o", str(link), "--no-progress"], "which does not exist")
    regular = tmp_path / "file"
    regular.write_text("keep me")
    refused(["run", SMALL, "-o", str(regular), "--no-progress"], "is not a directory")
    assert regular.read_text() == "keep me" and not (tmp_path / "nowhere").exists()


@pytest.mark.parametrize("where", ["build", "simulate"])
def test_kill_9_before_the_first_checkpoint_then_a_plain_rerun(tmp_path, where):
    outdir = tmp_path / "out"
    done, _ = timed_run(["run", SMALL, "-o", str(outdir), "--no-progress", "--set",
                         "simulation.t_sim=100"], env={"BRAINSIM_TEST_KILL_AT": where})
    assert done.returncode == -signal.SIGKILL
    (outdir / "notes.partial").write_text("the user's, not brainsim's")
    run(outdir, 20)
    assert sorted(n for n in os.listdir(outdir) if not n.startswith(".brainsim")) == [
        "notes.partial", "run.json", "spikes.h5"]


def test_results_are_still_refused_without_overwrite(tmp_path):
    outdir = tmp_path / "out"
    run(outdir, 20)
    before = tree(outdir)
    refused(["run", SMALL, "-o", str(outdir), "--no-progress"], "already holds results")
    assert tree(outdir) == before


@pytest.mark.mpi
def test_kill_9_of_rank_1_while_writing_a_checkpoint_then_resume(tmp_path, mpiexec,
                                                                straight):
    outdir = tmp_path / "out"
    env = {"BRAINSIM_TEST_KILL_AT": "checkpoint", "BRAINSIM_TEST_KILL_RANK": "1"}
    done, _ = timed_run(["run", SMALL, "-o", str(outdir), "--no-progress", "--set",
                         "simulation.t_sim=100", "--checkpoint-every", "50"], ranks=2,
                        env=env)
    assert done.returncode != 0
    assert not (outdir / "spikes.h5").exists()
    assert not os.listdir(outdir / "checkpoints") or all(
        n.startswith(".incomplete") for n in os.listdir(outdir / "checkpoints"))
    run(outdir, 100, ranks=2)           # nothing to resume from: a plain rerun
    assert spike_bytes(outdir) == straight


def test_ctrl_c_advice_during_the_final_merge_is_to_resume(tmp_path):
    from brainsim.engine.guards import _after_interrupt
    (tmp_path / ".segments").mkdir()
    assert "run the same command again" in _after_interrupt(str(tmp_path))
    (tmp_path / ".segments" / "finish.json").write_text("{}")
    assert _after_interrupt(str(tmp_path)) == (
        f"; finish writing the results with: brainsim resume {tmp_path}")


def test_job_scripts_resume_a_directory_whose_final_merge_is_pending(tmp_path):
    """run.json of an earlier part (an extended run) does not make it finished."""
    from brainsim.scheduler import joblog
    (tmp_path / "run.json").write_text("{}")
    assert joblog.next_action(str(tmp_path)) == "done"
    (tmp_path / ".segments").mkdir()
    (tmp_path / ".segments" / "finish.json").write_text("{}")
    assert not joblog.finished(str(tmp_path))
    assert joblog.next_action(str(tmp_path)) == "resume"
