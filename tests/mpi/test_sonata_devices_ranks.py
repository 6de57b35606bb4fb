"""A network wired from a SONATA edges file, driven by a spike_generator and a DC input,
gives bit-identical spikes on 1 and 3 ranks (each rank reads only the edges onto its own
targets and schedules only its own device events)."""
from __future__ import annotations

import h5py
import numpy as np
import pytest
import yaml

from brainsim.io.sonata_edges import write_edges
from cli_runner import run_brainsim


def spikes(outdir) -> dict:
    with h5py.File(outdir / "spikes.h5", "r") as f:
        return {f"{p}/{c}": f["spikes"][p][c][()] for p in f["spikes"]
                for c in ("timestamps", "node_ids")}


@pytest.fixture(scope="module")
def runs(tmp_path_factory, mpiexec):
    base = tmp_path_factory.mktemp("sonata_devices")
    gen = np.random.default_rng(5)
    n_e, n_i = 60, 15
    src = gen.integers(0, n_e, 900)
    tgt = gen.integers(0, n_e, 900)
    write_edges(str(base / "edges.h5"), "E_to_E", src, tgt, gen.uniform(20, 60, 900),
                np.round(gen.uniform(0.1, 2.0, 900), 1), source_population="E",
                target_population="E", num_source_nodes=n_e, num_target_nodes=n_e, mode="w")
    write_edges(str(base / "edges.h5"), "E_to_I", gen.integers(0, n_e, 300),
                gen.integers(0, n_i, 300), gen.uniform(20, 60, 300), np.full(300, 1.0),
                source_population="E", target_population="I")
    params = {"E_L": -65.0, "V_th": -50.0, "V_reset": -65.0, "tau_syn_ex": 0.5,
              "tau_syn_in": 0.5}
    doc = {
        "name": "sonata_devices",
        "simulation": {"dt": 0.1, "t_sim": 150.0, "seed": 11},
        "populations": [{"name": "E", "size": n_e, "model": "iaf_psc_exp", "params": params},
                        {"name": "I", "size": n_i, "model": "iaf_psc_exp", "params": params}],
        "projections": [
            {"source": "E", "target": "E", "rule": {"name": "sonata", "edges_file": "edges.h5",
                                                     "edge_population": "E_to_E"}},
            {"source": "E", "target": "I", "rule": {"name": "sonata", "edges_file": "edges.h5",
                                                     "edge_population": "E_to_I"}},
            {"source": "I", "target": "E", "rule": {"name": "fixed_outdegree", "outdegree": 20},
             "synapse": {"weight": -80.0, "delay": 0.8}}],
        "inputs": [
            {"type": "dc", "target": "E", "amplitude": 420.0},
            {"type": "spike_generator", "target": "E", "weight": 400.0, "delay": 0.5,
             "spike_times": [10.0, 10.0, 40.0, 80.5]},
            {"type": "spike_generator", "target": "I", "weight": 12000.0, "delay": 1.0,
             "per_neuron": {"node_ids": [0, 3, 3, 14], "times": [20.0, 20.0, 60.0, 90.0]}}],
        "recording": {"spikes": "all"},
    }
    (base / "model.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    out = {}
    for ranks in (1, 3):
        outdir = base / f"n{ranks}"
        done = run_brainsim(["run", str(base / "model.yaml"), "-o", str(outdir),
                             "--no-progress"], ranks=ranks)
        assert done.returncode == 0, done.stderr
        out[ranks] = spikes(outdir)
    return out


def test_network_is_active(runs):
    assert runs[1]["E/timestamps"].size > 50


def test_identical_on_1_and_3_ranks(runs):
    assert runs[1].keys() == runs[3].keys()
    for key in runs[1]:
        np.testing.assert_array_equal(runs[1][key], runs[3][key])


def test_spike_generator_drives_targets(runs):
    t, ids = runs[1]["I/timestamps"], runs[1]["I/node_ids"]
    # 12000 pA (~20 mV of PSP) onto I node 3 at 20 ms (delay 1 ms): it fires just after 21 ms
    assert np.any((ids == 3) & (t > 21.0) & (t < 24.0))
