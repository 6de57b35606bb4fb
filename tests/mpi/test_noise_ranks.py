"""noise_generator inputs under MPI: the small network with noise currents gives bit-identical
spikes and state reports on 1 and 3 ranks, sampling state (which cuts the epoch's update)
does not change the spikes, and a run checkpointed on 2 ranks and resumed on 3 equals the
uninterrupted run (noise is keyed by seed, input, gid and interval: nothing to save)."""
from __future__ import annotations

import os

import h5py
import pytest
import yaml

from cli_runner import DATA, run_brainsim
from test_checkpoint import run, spikes

NOISE_INPUTS = [
    {"type": "noise_generator", "target": "E", "mean": 50.0, "std": 300.0, "dt": 0.5,
     "start": 20.0, "stop": 150.0, "delay": 0.3},
    {"type": "noise_generator", "target": "I", "mean": 0.0, "std": 200.0, "dt": 0.1,
     "delay": 1.0},
]


def spike_datasets(outdir) -> dict:
    with h5py.File(os.path.join(outdir, "spikes.h5"), "r") as f:
        return {name: (group["timestamps"][()].tobytes(), group["node_ids"][()].tobytes())
                for name, group in f["spikes"].items()}


@pytest.fixture(scope="module")
def noise_model(tmp_path_factory):
    with open(os.path.join(DATA, "small_network.yaml")) as handle:
        doc = yaml.safe_load(handle)
    doc["name"] = "small_network_noise"
    doc["inputs"] = doc["inputs"] + NOISE_INPUTS
    path = tmp_path_factory.mktemp("model") / "small_network_noise.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return str(path)


@pytest.fixture(scope="module")
def straight(noise_model, tmp_path_factory, mpiexec):
    """The uninterrupted 200 ms run on 1 rank, with state reports."""
    outdir = tmp_path_factory.mktemp("straight") / "out"
    run(["run", noise_model, "-o", str(outdir), "--no-progress", "--set",
         "simulation.t_sim=200"], ranks=1)
    return spikes(outdir)


def test_noise_changes_the_network(straight, tmp_path):
    outdir = str(tmp_path / "quiet")
    done = run_brainsim(["run", os.path.join(DATA, "small_network.yaml"), "-o", outdir,
                         "--no-progress", "--set", "simulation.t_sim=200"])
    assert done.returncode == 0, done.stderr
    quiet = spike_datasets(outdir)
    assert quiet["E"] != straight["E"] and quiet["I"] != straight["I"]


def test_three_ranks_bit_identical_to_one(noise_model, straight, tmp_path):
    outdir = str(tmp_path / "out")
    run(["run", noise_model, "-o", outdir, "--no-progress", "--set", "simulation.t_sim=200"],
        ranks=3)
    assert spikes(outdir) == straight


def test_state_sampling_does_not_change_spikes(noise_model, straight, tmp_path):
    """Sampling cuts each epoch's update at the sample times; every cut gets its own noise
    rows, so the spikes equal those of a run without sampling."""
    outdir = str(tmp_path / "out")
    done = run_brainsim(["run", noise_model, "-o", outdir, "--no-progress", "--set",
                         "simulation.t_sim=200"], ranks=2)
    assert done.returncode == 0, done.stderr
    assert spike_datasets(outdir) == {k: straight[k] for k in ("E", "I")}


def test_resume_on_other_ranks_equals_uninterrupted(noise_model, straight, tmp_path):
    outdir = str(tmp_path / "out")
    run(["run", noise_model, "-o", outdir, "--no-progress", "--set", "simulation.t_sim=100",
         "--checkpoint-at-end"], ranks=2)
    run(["resume", outdir, "--no-progress", "--set", "simulation.t_sim=200"], ranks=3)
    assert spikes(outdir) == straight
