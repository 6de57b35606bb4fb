"""Spikes of multiplicity n into plastic synapses are n events (as NEST unrolls them) on
any number of ranks: the same spikes, stdp_synapse weights onto parrots (which archive n
post spikes) and tsodyks2 state on 1 and 3 ranks, byte for byte."""
from __future__ import annotations

import os

import h5py
import numpy as np
import pytest

from cli_runner import DATA, run_ok as run, spike_bytes
from plastic_checkpoint import final_plastic as final_plastic_of

MODEL = os.path.join(DATA, "multiplicity_network.yaml")
PER_SOURCE = {0: ("kplus", "t_last"), 1: ("x", "u", "t_last")}


def final_plastic(outdir: str) -> dict:
    return final_plastic_of(outdir, PER_SOURCE)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("multiplicity")
    out = {}
    for name, ranks in (("n1", 1), ("n3", 3)):
        outdir = str(base / name)
        run(["run", MODEL, "-o", outdir, "--no-progress", "--checkpoint-at-end"], ranks)
        out[name] = outdir
    return out


def test_relayed_spikes_have_multiplicities(runs):
    with h5py.File(os.path.join(runs["n1"], "spikes.h5"), "r") as f:
        group = f["spikes"]["P"]
        pairs = np.stack([group["node_ids"][()], np.rint(group["timestamps"][()] * 10)], 1)
    _, counts = np.unique(pairs, axis=0, return_counts=True)
    assert counts.max() >= 3 and np.sum(counts > 1) > 100


def test_same_spikes_and_plastic_state_on_1_and_3_ranks(runs):
    assert spike_bytes(runs["n1"]) == spike_bytes(runs["n3"])
    one, three = final_plastic(runs["n1"]), final_plastic(runs["n3"])
    assert one.keys() == three.keys()
    for key in one:
        assert one[key].tobytes() == three[key].tobytes(), key
    assert np.any(one["0/weight"] != 3.0) and np.any(one["1/x"] != 1.0)
