"""A receptor-addressed network (iaf_psc_exp_multisynapse with three named ports beside
iaf_psc_exp, tests/data/receptor_network.yaml) gives the same spikes on 1, 2 and 3 ranks,
and a run checkpointed on 2 ranks and resumed on 3 equals the unbroken run, byte for byte
(the ring's three channels are in the checkpoint)."""
from __future__ import annotations

import json
import os

import pytest

from cli_runner import DATA, run_ok as run, spike_bytes

MODEL = os.path.join(DATA, "receptor_network.yaml")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("receptors")
    out = {}
    for name, ranks in (("n1", 1), ("n2", 2), ("n3", 3)):
        outdir = str(base / name)
        run(["run", MODEL, "-o", outdir, "--no-progress"], ranks, timeout=900)
        out[name] = outdir
    broken = str(base / "broken")
    run(["run", MODEL, "-o", broken, "--no-progress", "--checkpoint-at-end",
         "--set", "simulation.t_sim=100"], 2, timeout=900)
    run(["resume", broken, "--no-progress", "--set", "simulation.t_sim=200"], 3,
        timeout=900)
    out["broken"] = broken
    return out


def test_the_network_spikes_in_both_populations(runs):
    with open(os.path.join(runs["n1"], "run.json")) as handle:
        meta = json.load(handle)
    assert meta["total_spikes"] > 200
    assert len(spike_bytes(runs["n1"])) == 4


def test_same_spikes_on_1_2_and_3_ranks(runs):
    one = spike_bytes(runs["n1"])
    assert spike_bytes(runs["n2"]) == one
    assert spike_bytes(runs["n3"]) == one


def test_checkpointed_on_2_and_resumed_on_3_ranks_equals_the_unbroken_run(runs):
    checkpoints = os.path.join(runs["broken"], "checkpoints")
    manifest = os.path.join(checkpoints, sorted(os.listdir(checkpoints))[0], "manifest.json")
    with open(manifest) as handle:
        assert json.load(handle)["ring_channels"] == 3
    assert spike_bytes(runs["broken"]) == spike_bytes(runs["n1"])
