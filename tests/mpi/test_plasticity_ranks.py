"""stdp_pl_synapse_hom, tsodyks_synapse and tsodyks2_synapse keep brainsim's guarantees:
the same spikes, plastic weights and per-source synapse state on 1 and 3 ranks, and a run
checkpointed on 2 ranks and resumed on 3 equals the uninterrupted run."""
from __future__ import annotations

import os

import numpy as np
import pytest

from brainsim.network.build import build_local_network
from brainsim.network.partition import make_partition
from brainsim.spec import load_model
from cli_runner import DATA, run_ok as run, spike_bytes
from plastic_checkpoint import final_plastic as final_plastic_of

MODEL = os.path.join(DATA, "plasticity_network.yaml")
PER_SOURCE = {0: ("kplus", "t_last"), 1: ("x", "u", "t_last"), 2: ("x", "y", "u", "t_last")}


def final_plastic(outdir: str) -> dict:
    return final_plastic_of(outdir, PER_SOURCE, expect_post=True)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("plasticity")
    out = {}
    for name, ranks in (("n1", 1), ("n3", 3)):
        outdir = str(base / name)
        run(["run", MODEL, "-o", outdir, "--no-progress", "--checkpoint-at-end"], ranks)
        out[name] = outdir
    outdir = str(base / "resumed")
    run(["run", MODEL, "-o", outdir, "--no-progress", "--set", "simulation.t_sim=100",
         "--checkpoint-at-end"], 2)
    run(["resume", outdir, "--no-progress", "--set", "simulation.t_sim=200",
         "--checkpoint-at-end"], 3)
    out["resumed"] = outdir
    return out


def test_models_change_their_state(runs):
    plastic = final_plastic(runs["n1"])
    model = load_model(MODEL)
    network = build_local_network(model, make_partition(model, 1), 0)
    assert [p.model for p in network.plastic] == ["stdp_pl_synapse_hom", "tsodyks2_synapse",
                                                  "tsodyks_synapse"]
    pl = network.plastic[0]
    order, targets, sources = pl.synapse_order(network.local_gids)
    assert np.array_equal(targets, plastic["0/target_gid"])
    assert np.array_equal(sources, plastic["0/source_gid"])
    changed = plastic["0/weight"] != pl.weight[order]
    assert changed.mean() > 0.5, "stdp_pl must move most weights"
    for index in (1, 2):    # tsodyks: weights fixed, state per source moved
        proj = network.plastic[index]
        order, _, _ = proj.synapse_order(network.local_gids)
        assert np.array_equal(plastic[f"{index}/weight"], proj.weight[order])
        assert np.any(plastic[f"{index}/t_last"] > 0)
        assert np.any(plastic[f"{index}/x"] != proj.presyn["x"])
        assert np.any(plastic[f"{index}/u"] != proj.presyn["u"])


def test_one_and_three_ranks_identical(runs):
    assert spike_bytes(runs["n1"]) == spike_bytes(runs["n3"])
    a, b = final_plastic(runs["n1"]), final_plastic(runs["n3"])
    for key in a:
        assert a[key].tobytes() == b[key].tobytes(), key


def test_resume_two_to_three_ranks_equals_uninterrupted(runs):
    assert spike_bytes(runs["resumed"]) == spike_bytes(runs["n1"])
    a, b = final_plastic(runs["n1"]), final_plastic(runs["resumed"])
    for key in a:
        assert a[key].tobytes() == b[key].tobytes(), key
