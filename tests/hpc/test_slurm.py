"""brainsim submit on a real single-node SLURM (scripts/start_slurm.sh): a run, a run stopped by
the time-limit signal and finished by its continuation job (spikes byte-identical to an
unbroken run), and the PBS script submitted through SLURM's qsub wrapper, chain included."""
from __future__ import annotations

import json
import os
import subprocess
import time

import pytest

from cli_runner import MODELS, REPO, brainsim_command
from hpc_helpers import (brainsim, job_ids, job_outputs, spike_datasets, wait_for_chain,
                         wait_for_checkpoint)

PD14 = os.path.join(MODELS, "potjans_diesmann_2014.yaml")
CLUSTER = os.path.join(REPO, "configs", "cluster.yaml")
SHORT = ["--set", "scale=0.02", "--set", "simulation.t_sim=200", "--set",
         "simulation.warmup=50"]
# Long enough (~2 s on 2 ranks) to be signalled after its first checkpoint.
LONG = ["--set", "scale=0.02", "--set", "simulation.t_sim=8000", "--set",
        "simulation.warmup=50", "--set", "run.checkpoint.every=200"]
JOB = ["--nodes", "1", "--ntasks-per-node", "2", "--time", "00:05:00"]


def submit(outdir, scheduler, *args):
    done = brainsim(["submit", PD14, "--config", CLUSTER, "--scheduler", scheduler, *args,
                     *JOB, "-o", str(outdir)], cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert f"submitted job {job_ids(outdir)[0]}" in done.stdout
    return job_ids(outdir)[0]


def status(outdir) -> dict:
    done = brainsim(["status", str(outdir), "--json"], cwd=REPO)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def signal_batch_shell(job_id):
    """What SLURM's --signal=B:USR1@... does before the time limit, now."""
    subprocess.run(["scancel", "--signal=USR1", "--batch", job_id], check=True, timeout=30)


def unbroken_run(tmp_path, overrides) -> dict:
    outdir = tmp_path / "unbroken"
    done = subprocess.run(brainsim_command(["run", PD14, "--config", CLUSTER, *overrides,
                                            "-o", str(outdir), "--no-progress"], ranks=2),
                          capture_output=True, text=True, timeout=300, cwd=REPO)
    assert done.returncode == 0, done.stderr
    return spike_datasets(outdir / "spikes.h5")


def test_submit_runs_on_slurm(slurm, tmp_path):
    import h5py
    outdir = tmp_path / "pd14"
    submit(outdir, "slurm", *SHORT)
    wait_for_chain(outdir)
    with h5py.File(outdir / "spikes.h5", "r") as handle:
        populations = list(handle["spikes"])
        assert "L4E" in populations
        assert sum(handle[f"spikes/{p}/timestamps"].shape[0] for p in populations) > 0
        assert handle["spikes/L4E/node_ids"].shape == handle["spikes/L4E/timestamps"].shape
    with open(outdir / "run.json") as handle:
        meta = json.load(handle)
    assert meta["ranks"] == 2 and meta["completed"], job_outputs(outdir)
    report = status(outdir)
    assert report["state"] == "finished" and report["finished"]
    assert [(j["action"], j["status"]) for j in report["jobs"]] == [("run", 0)]
    text = (outdir / "job.sbatch").read_text()
    assert "#SBATCH --signal=B:USR1@" in text and "launcher=(srun --mpi=pmi2)" in text


def test_time_limit_signal_checkpoints_and_the_chain_finishes_the_run(slurm, tmp_path):
    outdir = tmp_path / "chained"
    first = submit(outdir, "slurm", *LONG, "--chain", "2")
    wait_for_checkpoint(outdir)
    signal_batch_shell(first)
    ids = wait_for_chain(outdir)
    report = status(outdir)
    jobs = [(j["job"], j.get("action"), j.get("status")) for j in report["jobs"]]
    assert jobs[0] == (first, "run", 75), "the first job was not stopped by the signal:\n" \
        + job_outputs(outdir)
    assert jobs[1:] == [(ids[1], "resume", 0)], job_outputs(outdir)
    assert report["jobs"][1]["after"] == first
    assert report["state"] == "finished" and report["t_sim_ms"] == 8000
    assert 0 < report["stopped_at_ms"] < 8000
    assert spike_datasets(outdir / "spikes.h5") == unbroken_run(tmp_path, LONG)


def test_pbs_script_through_the_qsub_wrapper(slurm, tmp_path):
    """No PBS server exists in Debian: slurm-wlm-torque's qsub hands the PBS script (its
    #PBS directives included) to SLURM. The run is signalled, the script resubmits itself
    with qsub -W depend=afterany:ID, and the continuation finishes the run."""
    outdir = tmp_path / "pbs"
    first = submit(outdir, "pbs", *LONG, "--chain", "1", "--partition", "debug")
    info = subprocess.run(["scontrol", "show", "job", first], capture_output=True, text=True,
                          timeout=30).stdout
    assert "JobName=potjans_diesman" in info and "TimeLimit=00:05:00" in info
    wait_for_checkpoint(outdir)
    signal_batch_shell(first)
    wait_for_chain(outdir)
    report = status(outdir)
    assert [(j.get("action"), j.get("status")) for j in report["jobs"]] == \
        [("run", 75), ("resume", 0)], job_outputs(outdir)
    assert report["finished"]
    with open(outdir / "run.json") as handle:
        assert json.load(handle)["ranks"] == 2


@pytest.mark.parametrize("scheduler", ["slurm"])
def test_status_of_a_stopped_run_without_chain(slurm, tmp_path, scheduler):
    outdir = tmp_path / "stopped"
    first = submit(outdir, scheduler, *LONG)
    wait_for_checkpoint(outdir)
    signal_batch_shell(first)
    wait_for_chain(outdir)
    report = status(outdir)
    assert report["state"] == "stopped", job_outputs(outdir)
    assert f"sbatch {outdir}/job.sbatch" in report["detail"]
    assert report["latest_checkpoint"]["t_ms"] > 0
    text = brainsim(["status", str(outdir)], cwd=REPO).stdout
    assert "exit 75 (checkpointed, stopped)" in text and "latest checkpoint: ckpt_" in text


def test_time_limit_signal_during_the_build_is_kept_and_the_chain_finishes(slurm, tmp_path,
                                                                           monkeypatch):
    """The warning reaches the job while its ranks build the network (a test pause holds
    them there): the run checkpoints at its first epoch boundary and exits 75, the
    continuation resumes to the end, spikes equal an unbroken run. Before: MPI's SIGUSR1
    handler swallowed it and the job ran on into its time limit."""
    outdir = tmp_path / "early"
    marker = tmp_path / "paused"
    for name, value in (("BRAINSIM_TEST_PAUSE_AT", "build"), ("BRAINSIM_TEST_PAUSE_S", "4"),
                        ("BRAINSIM_TEST_PAUSE_FILE", str(marker))):
        monkeypatch.setenv(name, value)        # sbatch exports the environment to the job
    first = submit(outdir, "slurm", *SHORT, "--chain", "1")
    deadline = time.monotonic() + 120
    while not (os.path.exists(f"{marker}.0") and os.path.exists(f"{marker}.1")):
        assert time.monotonic() < deadline, job_outputs(outdir)
        time.sleep(0.05)
    signal_batch_shell(first)
    ids = wait_for_chain(outdir)
    report = status(outdir)
    jobs = [(j["job"], j.get("action"), j.get("status")) for j in report["jobs"]]
    assert jobs == [(first, "run", 75), (ids[1], "resume", 0)], job_outputs(outdir)
    assert report["state"] == "finished"
    monkeypatch.delenv("BRAINSIM_TEST_PAUSE_AT")
    assert spike_datasets(outdir / "spikes.h5") == unbroken_run(tmp_path, SHORT)
