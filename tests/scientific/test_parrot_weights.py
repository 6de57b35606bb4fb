"""A parrot_neuron ignores the weight of its incoming connections, as in NEST 3.10
(models/parrot_neuron.cpp: each SpikeEvent adds its multiplicity): spike_generator and
Poisson inputs, static projections and SONATA edges onto parrots with weight 2.5 or -1.0
give the spikes of weight 1.0, and the deterministic ones are NEST's; plastic synapses
onto a parrot deliver one event per spike too."""
from __future__ import annotations

import os

import h5py
import numpy as np
import yaml

from brainsim.io.sonata_edges import write_edges, write_nodes

from cli_runner import run_ok, spike_bytes

SPIKES = [1.0, 2.0, 2.0, 5.0]   # ms; 2.0 twice: multiplicity 2
# NEST 3.10 (nest.Connect with the same weights, delays and spike_generator; measured for
# weights 1.0, 2.5 and -1.0 alike): spike times (ms) per parrot.
NEST_TIMES = {"SG": {0: [2.0, 3.0, 3.0, 6.0]},
              "PR": {0: [3.5, 4.5, 4.5, 7.5]},
              "SO": {0: [4.0, 5.0, 5.0, 8.0], 1: [4.0, 4.0, 5.0, 5.0, 5.0, 5.0, 8.0, 8.0]}}


def parrot_model(tmp_path, w: float) -> str:
    """Parrots driven by every kind of connection, each with weight w (REL: weight 1)."""
    write_nodes(str(tmp_path / "nodes.h5"), {"REL": 1, "SO": 2})
    write_edges(str(tmp_path / "edges.h5"), "REL_to_SO", [0, 0, 0], [0, 1, 1], [w] * 3,
                [2.0] * 3, source_population="REL", target_population="SO",
                num_source_nodes=1, num_target_nodes=2, mode="w")
    parrots = {"SG": 1, "REL": 1, "PR": 1, "SO": 2, "PO": 3, "MIX": 4}
    doc = {"name": "parrots", "simulation": {"dt": 0.1, "t_sim": 60.0, "seed": 5},
           "populations": [{"name": n, "size": s, "model": "parrot_neuron"}
                           for n, s in parrots.items()],
           "projections": [
               {"source": "REL", "target": "PR", "rule": "one_to_one",
                "synapse": {"weight": w, "delay": 1.5}},
               {"source": "REL", "target": "SO",
                "rule": {"name": "sonata", "edges_file": "edges.h5",
                         "edge_population": "REL_to_SO", "nodes_file": "nodes.h5"}},
               {"source": "PO", "target": "MIX", "rule": {"name": "fixed_indegree",
                                                          "indegree": 5},
                "synapse": {"weight": w, "delay": {"distribution": "uniform", "low": 0.5,
                                                   "high": 3.0}}}],
           "inputs": [
               {"type": "spike_generator", "target": "SG", "spike_times": SPIKES,
                "weight": w, "delay": 1.0},
               {"type": "spike_generator", "target": "REL", "spike_times": SPIKES,
                "weight": 1.0, "delay": 1.0},
               {"type": "poisson", "target": "PO", "rate": 2000.0, "weight": w}],
           "recording": {"spikes": "all"}}
    path = tmp_path / "parrots.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return str(path)


def run(tmp_path, w: float):
    folder = tmp_path / f"w{w}"
    folder.mkdir()
    outdir = folder / "out"
    run_ok(["run", parrot_model(folder, w), "-o", str(outdir), "--no-progress"])
    return outdir


def times_by_node(outdir, population: str) -> dict:
    with h5py.File(os.path.join(outdir, "spikes.h5"), "r") as f:
        group = f["spikes"][population]
        ids, times = group["node_ids"][()], group["timestamps"][()]
    return {int(i): sorted(np.round(times[ids == i], 6).tolist()) for i in np.unique(ids)}


def test_weights_onto_parrots_are_ignored_as_in_nest(tmp_path):
    unit = run(tmp_path, 1.0)
    reference = spike_bytes(unit)
    for population, expected in NEST_TIMES.items():
        assert times_by_node(unit, population) == expected, population
    assert sum(len(v) for v in times_by_node(unit, "PO").values()) > 300   # 2 kHz x 3 x 60 ms
    assert sum(len(v) for v in times_by_node(unit, "MIX").values()) > 1000
    for w in (2.5, -1.0):
        assert spike_bytes(run(tmp_path, w)) == reference, f"weight {w}"


def relay_model(tmp_path, synapse: dict) -> str:
    """spike_generator -> parrots A -> parrots B through `synapse`."""
    doc = {"name": "relay", "simulation": {"dt": 0.1, "t_sim": 40.0, "seed": 2},
           "populations": [{"name": "A", "size": 2, "model": "parrot_neuron"},
                           {"name": "B", "size": 2, "model": "parrot_neuron"}],
           "projections": [{"source": "A", "target": "B", "rule": "all_to_all",
                            "synapse": dict(synapse, delay=1.5)}],
           "inputs": [{"type": "spike_generator", "target": "A", "spike_times": SPIKES,
                       "weight": 1.0, "delay": 1.0}],
           "recording": {"spikes": "all"}}
    name = synapse.get("model", "static_synapse")
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc))
    return str(path)


def test_plastic_synapses_onto_parrots_deliver_one_event_per_spike(tmp_path):
    """As NEST: the parrot repeats each spike whatever the (learning or scaled) weight;
    stdp_synapse onto a parrot against NEST's weights: tests/scientific/test_nest_stdp.py."""
    outputs = {}
    for synapse in ({"weight": 1.0},
                    {"model": "stdp_synapse", "weight": 7.0},
                    {"model": "tsodyks_synapse", "weight": 7.0},
                    {"model": "tsodyks2_synapse", "weight": -3.0}):
        outdir = tmp_path / synapse.get("model", "static_synapse")
        run_ok(["run", relay_model(tmp_path, synapse), "-o", str(outdir), "--no-progress"])
        outputs[synapse.get("model", "static")] = outdir
    # A repeats SPIKES + 1 ms; each B repeats both A's spikes 1.5 ms later
    each = sorted([t + 2.5 for t in SPIKES] * 2)
    for name, outdir in outputs.items():
        assert times_by_node(outdir, "B") == {0: each, 1: each}, name
