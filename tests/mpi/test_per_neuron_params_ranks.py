"""Per-neuron parameters under MPI: the small network with E_L and V_th drawn per neuron and
t_ref listed per neuron gives bit-identical spikes and V_m reports on 1 and 2 ranks, and a
run checkpointed on 2 ranks and resumed on 1 equals the uninterrupted run (the resolved
document keeps the listed values; the drawn ones are redrawn from the same keys)."""
from __future__ import annotations

import os

import numpy as np
import pytest
import yaml

from cli_runner import DATA
from test_checkpoint import run, spikes


@pytest.fixture(scope="module")
def varied_model(tmp_path_factory):
    with open(os.path.join(DATA, "small_network.yaml")) as handle:
        doc = yaml.safe_load(handle)
    doc["name"] = "small_network_per_neuron"
    e, i = doc["populations"]
    e["params"].update(E_L={"distribution": "uniform", "low": -66.0, "high": -64.0},
                       V_th={"distribution": "normal", "mean": -50.0, "std": 1.0,
                             "min": -53.0, "max": -47.0},
                       V_reset=-66.0)
    i["params"]["t_ref"] = np.round(np.linspace(1.0, 3.0, i["size"]), 1).tolist()
    path = tmp_path_factory.mktemp("model") / "small_network_per_neuron.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return str(path)


@pytest.fixture(scope="module")
def straight(varied_model, tmp_path_factory, mpiexec):
    outdir = tmp_path_factory.mktemp("straight") / "out"
    run(["run", varied_model, "-o", str(outdir), "--no-progress"], ranks=1)
    return spikes(outdir)


def test_the_varied_network_spikes_differently(straight, tmp_path):
    outdir = str(tmp_path / "plain")
    run(["run", os.path.join(DATA, "small_network.yaml"), "-o", outdir, "--no-progress"],
        ranks=1)
    plain = spikes(outdir)
    assert straight["E"][0] and plain["E"] != straight["E"] and plain["I"] != straight["I"]


def test_two_ranks_bit_identical_to_one(varied_model, straight, tmp_path):
    outdir = str(tmp_path / "out")
    run(["run", varied_model, "-o", outdir, "--no-progress"], ranks=2)
    assert spikes(outdir) == straight


def test_resume_on_one_rank_equals_uninterrupted(varied_model, straight, tmp_path):
    outdir = str(tmp_path / "out")
    run(["run", varied_model, "-o", outdir, "--no-progress", "--set", "simulation.t_sim=100",
         "--checkpoint-at-end"], ranks=2)
    os.rename(varied_model, varied_model + ".gone")    # resume reads the stored document
    try:
        run(["resume", outdir, "--no-progress", "--set", "simulation.t_sim=200"], ranks=1)
    finally:
        os.rename(varied_model + ".gone", varied_model)
    assert spikes(outdir) == straight
