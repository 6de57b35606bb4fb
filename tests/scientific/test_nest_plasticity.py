"""stdp_pl_synapse_hom, tsodyks_synapse and tsodyks2_synapse against NEST 3.10.

Reference: tests/reference/nest_plasticity_reference.json, made by
tests/reference/make_nest_plasticity_reference.py (spike_generator -> parrot_neuron
-synapse-> post neuron; for stdp_pl the post neuron is driven by its own spike_generator).
brainsim runs the same network in-process and, after every chunk, reads the plastic weight
and Kplus (stdp_pl) or the synapse state x, y, u (tsodyks), and the post neuron's V_m
(where the tsodyks PSC amplitudes show). The *multiplicity* cases repeat pre spike times: the
parrot relays a spike of multiplicity n, which NEST unrolls into n events, each updating the
synapse state.
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
from brainsim.spec import SpecError, load_model

from cli_runner import REPO

with open(os.path.join(REPO, "tests", "reference",
                       "nest_plasticity_reference.json")) as handle:
    REFERENCE = json.load(handle)


def model_document(case: dict) -> dict:
    synapse = {"model": case["model"], **case["synapse"]}
    if case["params"]:
        synapse["params"] = case["params"]
    inputs = [{"type": "spike_generator", "target": "pre", "weight": 1.0, "delay": 1.0,
               "spike_times": case.get("pre_times", REFERENCE["pre_times"])}]
    if case["drive_weight"]:
        inputs.append({"type": "spike_generator", "target": "post",
                       "weight": case["drive_weight"], "delay": 1.0,
                       "spike_times": REFERENCE["post_times"]})
    return {"name": "nest_plasticity",
            "simulation": {"dt": REFERENCE["dt"], "t_sim": REFERENCE["t_sim_ms"], "seed": 1},
            "populations": [{"name": "pre", "size": 1, "model": "parrot_neuron"},
                            {"name": "post", "size": 1, "model": case["post_model"],
                             "params": case["post_params"]}],
            "projections": [{"source": "pre", "target": "post", "rule": "one_to_one",
                             "synapse": synapse}],
            "inputs": inputs}


@pytest.mark.parametrize("name", sorted(REFERENCE["cases"]))
def test_plastic_synapse_matches_nest(name, tmp_path):
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
    e_l = model.populations[1].params.get("E_L", -70.0)
    state = {k: [] for k in case["state"]}
    v_m = []
    chunk = ms_to_steps(REFERENCE["chunk_ms"], dt)
    for k in range(len(case["V_m"])):
        engine.run_until((k + 1) * chunk)
        for key in state:
            if key == "weight":
                state[key].append(float(proj.weight[0]))
            elif key == "Kplus":
                state[key].append(float(proj.kplus[0]))
            else:
                state[key].append(float(proj.presyn[key][0]))
        v_m.append(float(network.state["V_m"][1]) + e_l)
    assert stamps[0] == [int(round(t / dt)) for t in case["pre_spikes"]]
    assert stamps[1] == [int(round(t / dt)) for t in case["post_spikes"]]
    for key, values in state.items():
        np.testing.assert_allclose(values, case["state"][key], rtol=1e-12, atol=1e-12,
                                   err_msg=key)
        if key != "u" or case["params"].get("tau_fac"):
            assert len(set(values)) > 3, f"{key} must change"
    np.testing.assert_allclose(v_m, case["V_m"], rtol=1e-12, atol=1e-11)


@pytest.mark.parametrize("model,params,message", [
    ("tsodyks_synapse", {"x": 0.7, "y": 0.4}, r"x \+ y"),
    ("tsodyks_synapse", {"U": 1.5}, "U"),
    ("tsodyks2_synapse", {"u": -0.1}, "u"),
    ("tsodyks2_synapse", {"tau_rec": 0.0}, "tau_rec"),
    ("stdp_pl_synapse_hom", {"Wmax": 3.0}, "Wmax"),
    ("stdp_pl_synapse_hom", {"mu": -1.0}, "mu"),
])
def test_bad_synapse_params_rejected(model, params, message, tmp_path):
    case = {"model": model, "synapse": {"weight": 1.0, "delay": 1.0}, "params": params,
            "drive_weight": 0.0, "post_model": "iaf_psc_exp", "post_params": {}}
    path = tmp_path / "model.yaml"
    path.write_text(yaml.safe_dump(model_document(case)))
    with pytest.raises(SpecError, match=message):
        load_model(str(path))
