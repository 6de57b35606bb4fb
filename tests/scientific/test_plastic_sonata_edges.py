"""Plastic synapses on the `sonata` rule equal the same synapses made by a YAML rule:
spikes and learned weights, for stdp_synapse, stdp_pl_synapse_hom and tsodyks2_synapse;
file weights of the wrong sign are refused at validation."""
from __future__ import annotations

import numpy as np
import pytest
import yaml

from brainsim.engine.comm import SerialComm
from brainsim.engine.simulation import Engine
from brainsim.io.sonata_edges import write_edges
from brainsim.network.build import build_local_network
from brainsim.network.partition import make_partition
from brainsim.spec import SpecError, load_model

N_PRE, N_POST, WEIGHT, DELAY = 6, 4, 80.0, 1.5
SYNAPSES = {"stdp_synapse": {"Wmax": 200.0, "lambda": 0.05, "mu_plus": 0.5},
            "stdp_pl_synapse_hom": {"lambda": 0.05, "alpha": 0.3, "mu": 0.4},
            "tsodyks2_synapse": {"U": 0.4, "tau_rec": 300.0, "tau_fac": 20.0}}


def document(tmp_path, synapse_model: str, rule) -> str:
    synapse = {"model": synapse_model, "params": SYNAPSES[synapse_model]}
    if rule == "all_to_all":
        synapse.update(weight=WEIGHT, delay=DELAY)
    doc = {"name": "plastic_edges", "simulation": {"dt": 0.1, "t_sim": 300.0, "seed": 4},
           "populations": [{"name": "pre", "size": N_PRE, "model": "parrot_neuron"},
                           {"name": "post", "size": N_POST, "model": "iaf_psc_alpha",
                            "params": {"I_e": 370.0, "tau_minus": 25.0}}],
           "projections": [{"source": "pre", "target": "post", "rule": rule,
                            "synapse": synapse}],
           "inputs": [{"type": "poisson", "target": "pre", "rate": 60.0, "weight": 1.0}]}
    path = tmp_path / f"{synapse_model}_{'file' if isinstance(rule, dict) else rule}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return str(path)


def edges_file(tmp_path, weight: float = WEIGHT) -> dict:
    """All-to-all edges pre -> post, in the order of an all_to_all rule's rows."""
    sources = np.repeat(np.arange(N_PRE), N_POST)
    targets = np.tile(np.arange(N_POST), N_PRE)
    write_edges(str(tmp_path / "edges.h5"), "pre_to_post", sources, targets,
                np.full(sources.size, weight), np.full(sources.size, DELAY),
                source_population="pre", target_population="post",
                num_source_nodes=N_PRE, num_target_nodes=N_POST, mode="w")
    return {"name": "sonata", "edges_file": "edges.h5", "edge_population": "pre_to_post"}


def simulate(path: str) -> tuple[list, np.ndarray]:
    """(spike keys in order, weights by (source gid, target gid))."""
    model = load_model(path)
    network = build_local_network(model, make_partition(model, 1), 0)
    spikes = []

    class Collect:
        def record(self, keys, first_step):
            spikes.extend((first_step + (int(k) >> 32), int(k) & 0xFFFFFFFF) for k in keys)

    engine = Engine(network, SerialComm(), model.simulation.seed, model.simulation.dt,
                    recorder=Collect())
    engine.run_until(3000)
    (proj,) = network.plastic
    rows = np.repeat(np.arange(proj.row_ptr.shape[0] - 1), np.diff(proj.row_ptr))
    targets = network.local_gids[proj.target.astype(np.int64)]
    order = np.lexsort((targets, rows))
    return spikes, proj.weight[order].copy()


@pytest.mark.parametrize("synapse_model", sorted(SYNAPSES))
def test_sonata_edges_learn_as_the_rule(tmp_path, synapse_model):
    by_rule = simulate(document(tmp_path, synapse_model, "all_to_all"))
    by_file = simulate(document(tmp_path, synapse_model, edges_file(tmp_path)))
    assert len([s for s in by_rule[0] if s[1] >= N_PRE]) > 20      # the targets fire
    assert by_file[0] == by_rule[0]
    np.testing.assert_array_equal(by_file[1], by_rule[1])
    if synapse_model.startswith("stdp"):
        assert np.unique(by_rule[1]).size > 1, "the weights must learn"


def test_file_weights_of_the_wrong_sign_are_refused(tmp_path):
    rule = edges_file(tmp_path, weight=-5.0)
    with pytest.raises(SpecError) as info:
        load_model(document(tmp_path, "stdp_pl_synapse_hom", rule))
    message = str(info.value)
    assert "projections[0].rule.edges_file" in message
    assert "syn_weight -5" in message and "weights >= 0 for stdp_pl_synapse_hom" in message
    with pytest.raises(SpecError, match="different sign"):
        load_model(document(tmp_path, "stdp_synapse", rule))
    load_model(document(tmp_path, "tsodyks2_synapse", rule))     # any sign
