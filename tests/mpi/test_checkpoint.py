"""Checkpoint and resume: a resumed run equals the run that never stopped, byte for byte,
on the same or another number of ranks; interrupted writes and signals are safe; damaged or
mismatched checkpoints are refused with one line and exit status 2."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import h5py
import pytest

from cli_runner import DATA, brainsim_command, run_brainsim

MODEL = os.path.join(DATA, "small_network.yaml")
EXIT_CHECKPOINTED = 75
# Every run here also samples state, so reports are compared as well as spikes.
REPORTS = ("recording.state=[{population: E, variables: [V_m, i_syn_ex], count: 12, "
           "interval: 0.5}, {population: I, variables: [V_m], neurons: [0, 7, 40]}]")


def spikes(outdir) -> dict:
    """Spike and report datasets of a finished run, as bytes."""
    with h5py.File(os.path.join(outdir, "spikes.h5"), "r") as f:
        result = {name: (group["timestamps"][()].tobytes(), group["node_ids"][()].tobytes())
                  for name, group in f["spikes"].items()}
    for variable in ("V_m", "i_syn_ex"):
        with h5py.File(os.path.join(outdir, f"report_{variable}.h5"), "r") as f:
            for name, group in f["report"].items():
                result[f"{variable}/{name}"] = (group["data"][()].tobytes(),
                                                group["mapping/time"][()].tobytes())
    return result


def run(args, ranks=None, expect=0):
    if args[0] == "run":
        args = args + ["--set", REPORTS]
    done = run_brainsim(args, ranks=ranks, timeout=300)
    assert done.returncode == expect, done.stdout + done.stderr
    return done


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    """The uninterrupted 200 ms run on 2 ranks."""
    outdir = tmp_path_factory.mktemp("straight") / "out"
    run(["run", MODEL, "-o", str(outdir), "--no-progress", "--set", "simulation.t_sim=200"],
        ranks=2)
    return spikes(outdir)


def test_straight_run_has_reports(straight):
    assert {"V_m/E", "V_m/I", "i_syn_ex/E", "E", "I"} <= set(straight)


@pytest.mark.parametrize("before, after", [(2, 2), (2, 3), (1, 4)])
def test_resume_equals_uninterrupted(straight, tmp_path, before, after):
    outdir = str(tmp_path / "out")
    run(["run", MODEL, "-o", outdir, "--no-progress", "--set", "simulation.t_sim=100",
         "--checkpoint-at-end"], ranks=before)
    run(["resume", outdir, "--no-progress", "--set", "simulation.t_sim=200"], ranks=after)
    assert spikes(outdir) == straight
    with open(os.path.join(outdir, "run.json")) as handle:
        meta = json.load(handle)
    assert meta["resumed_from_ranks"] == before and meta["ranks"] == after


def test_kill_while_writing_a_checkpoint_keeps_the_previous_one(straight, tmp_path):
    outdir = str(tmp_path / "out")
    env = dict(os.environ, BRAINSIM_TEST_KILL_IN_CHECKPOINT="1")
    killed = subprocess.run(brainsim_command(
        ["run", MODEL, "-o", outdir, "--no-progress", "--set", "simulation.t_sim=200",
         "--checkpoint-every", "50", "--set", REPORTS], ranks=2), env=env,
        capture_output=True, text=True, timeout=300)
    assert killed.returncode != 0
    root = os.path.join(outdir, "checkpoints")
    assert sorted(os.listdir(root)) == [".incomplete_ckpt_000000001000", "ckpt_000000000500"]
    run(["resume", outdir, "--no-progress"], ranks=3)
    assert spikes(outdir) == straight
    assert not any(name.startswith(".incomplete") for name in os.listdir(root))


def test_sigterm_checkpoints_and_exits_75_then_resumes(tmp_path):
    reference = str(tmp_path / "reference")
    run(["run", MODEL, "-o", reference, "--no-progress", "--set", "simulation.t_sim=3000"],
        ranks=2)
    outdir = str(tmp_path / "out")
    process = subprocess.Popen(brainsim_command(
        ["run", MODEL, "-o", outdir, "--no-progress", "--set", "simulation.t_sim=3000",
         "--set", REPORTS], ranks=2), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    segments = os.path.join(outdir, ".segments")
    deadline = time.monotonic() + 60
    while not os.path.isdir(segments) and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == EXIT_CHECKPOINTED, stdout + stderr
    assert "brainsim resume" in stdout
    assert os.path.exists(os.path.join(outdir, "run_interrupted.json"))
    assert not os.path.exists(os.path.join(outdir, "spikes.h5"))
    assert len(os.listdir(os.path.join(outdir, "checkpoints"))) == 1
    run(["resume", outdir, "--no-progress"], ranks=2)
    assert spikes(outdir) == spikes(reference)


def test_periodic_checkpoints_keep_the_newest(tmp_path):
    outdir = str(tmp_path / "out")
    run(["run", MODEL, "-o", outdir, "--no-progress", "--set", "simulation.t_sim=100",
         "--checkpoint-every", "20", "--keep-checkpoints", "2"])
    assert sorted(os.listdir(os.path.join(outdir, "checkpoints"))) == [
        "ckpt_000000000800", "ckpt_000000001000"]
    info = run(["info", os.path.join(outdir, "checkpoints", "ckpt_000000000800")])
    assert "time 80 ms" in info.stdout and "written by 1 rank" in info.stdout


@pytest.fixture
def checkpointed(tmp_path):
    outdir = str(tmp_path / "out")
    run(["run", MODEL, "-o", outdir, "--no-progress", "--set", "simulation.t_sim=50",
         "--checkpoint-at-end"], ranks=2)
    return outdir, os.path.join(outdir, "checkpoints", "ckpt_000000000500")


def refused(args, fragment):
    done = run(args, expect=2)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], done.stderr
    assert "Traceback" not in done.stderr


def test_corrupted_shard_is_refused(checkpointed):
    outdir, path = checkpointed
    shard = os.path.join(path, "rank_00001.h5")
    with open(shard, "r+b") as handle:
        handle.seek(os.path.getsize(shard) // 2)
        handle.write(b"\x00garbage\x00")
    refused(["resume", outdir, "--set", "simulation.t_sim=100"], "checksum mismatch")


def test_missing_shard_is_refused(checkpointed):
    outdir, path = checkpointed
    os.remove(os.path.join(path, "rank_00000.h5"))
    refused(["resume", outdir, "--set", "simulation.t_sim=100"], "shard missing")


def test_changed_model_is_refused(checkpointed):
    outdir, _ = checkpointed
    before = spikes(outdir)
    refused(["resume", outdir, "--set", "simulation.t_sim=100", "--set", "parameters.g=-5"],
            "differs from the checkpoint")
    assert spikes(outdir) == before


def test_resume_needs_a_later_t_sim(checkpointed):
    outdir, _ = checkpointed
    refused(["resume", outdir], "expected more than the checkpoint's 50 ms")


def test_unknown_checkpoint_name_is_refused(checkpointed):
    outdir, _ = checkpointed
    refused(["resume", outdir, "--from", "ckpt_nope", "--set", "simulation.t_sim=100"],
            "no such checkpoint")


def test_incompatible_format_version_is_refused(checkpointed):
    outdir, path = checkpointed
    manifest_path = os.path.join(path, "manifest.json")
    with open(manifest_path) as handle:
        manifest = json.load(handle)
    manifest["format_version"] = 999
    with open(manifest_path, "w") as handle:
        json.dump(manifest, handle)
    refused(["resume", outdir, "--set", "simulation.t_sim=100"], "checkpoint format 999")


def test_resume_never_clobbers_another_runs_results(checkpointed, tmp_path):
    outdir, _ = checkpointed
    other = str(tmp_path / "other")
    run(["run", MODEL, "-o", other, "--no-progress", "--set", "simulation.t_sim=20",
         "--set", "parameters.g=-5"])
    # Another model's finished results now sit where the resume would write.
    with open(os.path.join(other, "run.json")) as source, \
            open(os.path.join(outdir, "run.json"), "w") as target:
        target.write(source.read())
    before = open(os.path.join(outdir, "spikes.h5"), "rb").read()
    refused(["resume", outdir, "--set", "simulation.t_sim=100"], "results of another model")
    assert open(os.path.join(outdir, "spikes.h5"), "rb").read() == before
