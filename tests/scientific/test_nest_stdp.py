"""stdp_synapse against NEST 3.10: the weight of one pre/post pair after every 5 ms.

Reference: tests/reference/nest_stdp_reference.json, made by
tests/reference/make_nest_stdp_reference.py (spike_generator -> parrot_neuron -stdp->
post neuron, the post neuron driven by its own spike_generator). brainsim runs the same
network in-process and reads the plastic weight between chunks. The *multiplicity* cases
repeat spike times: NEST unrolls a spike of multiplicity n into n events (n weight updates,
n post spikes archived by a parrot target); *aeif_tref0_pre*: the presynaptic neuron is an
aeif_cond_exp with t_ref = 0 that answers each input spike with a burst, several spikes in
one step.
"""
from __future__ import annotations

import json
import os

import numpy as np
import pytest
import yaml

from brainsim.engine.comm import SerialComm
from brainsim.engine.simulation import Engine
from brainsim.network.build import build_local_network
from brainsim.network.inputs import ms_to_steps
from brainsim.network.partition import make_partition
from brainsim.spec import load_model

from cli_runner import REPO

with open(os.path.join(REPO, "tests", "reference", "nest_stdp_reference.json")) as handle:
    REFERENCE = json.load(handle)


def model_document(case: dict) -> dict:
    stdp = dict(case["stdp"])
    weight, delay = stdp.pop("weight"), stdp.pop("delay")
    pre = {"name": "pre", "size": 1, "model": case.get("pre_model", "parrot_neuron")}
    inputs = [{"type": "spike_generator", "target": "post", "weight": case["drive_weight"],
               "delay": 1.0, "spike_times": case.get("post_times", REFERENCE["post_times"])}]
    if "pre_model" in case:
        pre["params"] = case["pre_params"]
    inputs.insert(0, {"type": "spike_generator", "target": "pre",
                      "weight": case.get("pre_drive_weight", 1.0), "delay": 1.0,
                      "spike_times": case.get("pre_times", REFERENCE["pre_times"])})
    return {"name": "nest_stdp", "simulation": {"dt": REFERENCE["dt"],
                                                "t_sim": REFERENCE["t_sim_ms"], "seed": 1},
            "populations": [pre, {"name": "post", "size": 1, "model": case["post_model"],
                                  "params": case["post_params"]}],
            "projections": [{"source": "pre", "target": "post", "rule": "one_to_one",
                             "synapse": {"model": "stdp_synapse", "weight": weight,
                                         "delay": delay, "params": stdp}}],
            "inputs": inputs}


@pytest.mark.parametrize("name", sorted(REFERENCE["cases"]))
def test_stdp_weight_trajectory_matches_nest(name, tmp_path):
    case = REFERENCE["cases"][name]
    path = tmp_path / "model.yaml"
    path.write_text(yaml.safe_dump(model_document(case)))
    model = load_model(str(path))
    network = build_local_network(model, make_partition(model, 1), 0)
    stamps = {0: [], 1: []}

    class Collect:
        def record(self, keys, first_step):
            for key in keys:
                stamps[int(key) & 0xFFFFFFFF].append(first_step + (int(key) >> 32) + 1)

    dt = model.simulation.dt
    engine = Engine(network, SerialComm(), model.simulation.seed, dt, recorder=Collect())
    (proj,) = network.plastic
    weights = []
    chunk = ms_to_steps(REFERENCE["chunk_ms"], dt)
    for k in range(len(case["weights"])):
        engine.run_until((k + 1) * chunk)
        weights.append(float(proj.weight[0]))
    assert stamps[0] == [int(round(t / dt)) for t in case["pre_spikes"]]
    assert stamps[1] == [int(round(t / dt)) for t in case["post_spikes"]]
    np.testing.assert_allclose(weights, case["weights"], rtol=1e-12, atol=1e-12)
    assert len(set(weights)) > 3, "the weight must change"
