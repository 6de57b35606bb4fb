"""A network wired by from_list (a static list with weights of both signs, and an
stdp_synapse list) gives bit-identical spikes on 1 and 2 ranks: each rank keeps the
listed synapses onto its own targets, in list order, so every neuron sums its inputs in
the same order."""
from __future__ import annotations

import numpy as np
import pytest
import yaml

from cli_runner import run_brainsim, spike_bytes

N_E, N_I = 40, 10


def listed(gen, n, n_src, n_tgt, low, high) -> dict:
    return {"sources": gen.integers(0, n_src, n).tolist(),
            "targets": gen.integers(0, n_tgt, n).tolist(),
            "weights": gen.uniform(low, high, n).tolist(),
            "delays": np.round(gen.uniform(0.1, 2.5, n), 1).tolist()}


@pytest.fixture(scope="module")
def runs(tmp_path_factory, mpiexec):
    base = tmp_path_factory.mktemp("from_list_ranks")
    gen = np.random.default_rng(8)
    params = {"E_L": -65.0, "V_th": -50.0, "V_reset": -65.0, "tau_syn_ex": 0.5,
              "tau_syn_in": 0.5}
    doc = {
        "name": "from_list_ranks",
        "simulation": {"dt": 0.1, "t_sim": 120.0, "seed": 2},
        "populations": [{"name": "E", "size": N_E, "model": "iaf_psc_exp", "params": params},
                        {"name": "I", "size": N_I, "model": "iaf_psc_exp", "params": params}],
        "projections": [
            {"source": "E", "target": "E", "rule": {
                "name": "from_list", "connections": listed(gen, 600, N_E, N_E, -60, 90)}},
            {"source": "E", "target": "I", "rule": {
                "name": "from_list", "connections": listed(gen, 200, N_E, N_I, 10, 80)},
             "synapse": {"model": "stdp_synapse", "params": {"Wmax": 200.0}}},
            {"source": "I", "target": "E", "rule": {
                "name": "from_list", "connections": [[i % N_I, i, -40.0, 0.8]
                                                     for i in range(N_E)]}}],
        "inputs": [{"type": "poisson", "target": "E", "rate": 26000.0, "weight": 30.0},
                   {"type": "poisson", "target": "I", "rate": 27000.0, "weight": 30.0}],
        "recording": {"spikes": "all"},
    }
    (base / "model.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    out = {}
    for ranks in (1, 2):
        outdir = base / f"n{ranks}"
        done = run_brainsim(["run", str(base / "model.yaml"), "-o", str(outdir),
                             "--no-progress"], ranks=ranks)
        assert done.returncode == 0, done.stdout + done.stderr
        out[ranks] = spike_bytes(outdir)
    return out


def test_network_is_active(runs):
    assert len(runs[1]["E/timestamps"]) > 8 * 50 and len(runs[1]["I/timestamps"]) > 8 * 10


def test_identical_on_1_and_2_ranks(runs):
    assert runs[1] == runs[2]
