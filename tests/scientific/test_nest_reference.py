"""Spike times equal NEST 3.10's for single neurons and small explicit networks.

References: tests/reference/nest_reference.json, made by tests/reference/make_nest_reference.py
(`pip install nest-simulator`, then run it). Each case is rebuilt as a brainsim model (one
population per neuron, one_to_one projections with constant weight and delay, dc_generator
as a `dc` input) and run in-process, so the test also reads the final membrane potential.
"""
from __future__ import annotations

import json
import math
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

REFERENCE = os.path.join(REPO, "tests", "reference", "nest_reference.json")
with open(REFERENCE) as handle:
    CASES = json.load(handle)["cases"]

NOT_PARAMETERS = {"V_m", "rho", "delta"}


def population(name: str, model: str, params: dict) -> dict:
    kept = {k: (-math.inf if k == "V_min" and v < -1e300 else v)
            for k, v in params.items() if k not in NOT_PARAMETERS}
    return {"name": name, "size": 1, "model": model, "params": kept,
            "initial": {"V_m": params["V_m"]}}


def model_document(case: dict) -> dict:
    """A brainsim model equivalent to one NEST reference case."""
    document = {"name": "nest_reference", "simulation": {"dt": 0.1, "t_sim": case["t_sim_ms"],
                                                         "seed": 1}}
    if "neurons" in case:
        document["populations"] = [population(n, case["model"], case["params"][n])
                                   for n in case["neurons"]]
        document["projections"] = [
            {"source": c["source"], "target": c["target"], "rule": {"name": "one_to_one"},
             "synapse": {"weight": c["weight"], "delay": c["delay"]}}
            for c in case["connections"]]
    else:
        document["populations"] = [population("N", case["model"], case["params"])]
    if "dc_generator" in case:
        dc = case["dc_generator"]
        stop = math.inf if dc["stop"] is None else dc["stop"]
        document["inputs"] = [{"type": "dc", "target": "N", "amplitude": dc["amplitude"],
                               "start": dc["start"], "stop": stop, "delay": dc["delay"]}]
    return document


def simulate(case: dict, tmp_path) -> tuple[dict[str, list[int]], np.ndarray, dict]:
    """Spike stamps (steps) per population, final V_m (mV) per neuron, resolved model."""
    path = tmp_path / "model.yaml"
    path.write_text(yaml.safe_dump(model_document(case)))
    model = load_model(str(path))
    comm = SerialComm()
    network = build_local_network(model, make_partition(model, 1), 0)
    stamps = {p.name: [] for p in model.populations}

    class Collect:
        def record(self, keys, first_step):
            for key in keys:
                gid = int(key) & 0xFFFFFFFF
                stamps[model.populations[gid].name].append(first_step + (int(key) >> 32) + 1)

    engine = Engine(network, comm, model.simulation.seed, model.simulation.dt, recorder=Collect())
    engine.run_until(ms_to_steps(model.simulation.t_sim, model.simulation.dt))
    e_l = np.array([p.params["E_L"] for p in model.populations])
    return stamps, network.state["V_m"] + e_l, model


SINGLE = [name for name, case in CASES.items() if "neurons" not in case
          and "spike_generator" not in case]
NETWORKS = [name for name, case in CASES.items() if "neurons" in case]


@pytest.mark.parametrize("name", SINGLE)
def test_single_neuron_spike_times_equal_nest(name, tmp_path):
    case = CASES[name]
    stamps, v_end, _ = simulate(case, tmp_path)
    assert stamps["N"] == case["spike_steps"]
    assert v_end[0] == pytest.approx(case["V_m_end"], abs=1e-9)


@pytest.mark.parametrize("name", NETWORKS)
def test_network_spike_times_equal_nest(name, tmp_path):
    case = CASES[name]
    stamps, _, _ = simulate(case, tmp_path)
    for neuron in case["neurons"]:
        assert stamps[neuron] == case["spike_steps"][neuron], neuron
    assert len(stamps["B"]) > 0, "the target must fire because of its synaptic input"


def test_spike_file_stamps_are_nest_times(tmp_path):
    """The SONATA file stores (step + 1) * dt with exact decimals, as NEST prints them."""
    from brainsim.engine.run import step_to_ms_converter
    case = CASES["iaf_psc_exp_default_Ie376"]
    times = step_to_ms_converter(0.1)(np.array(case["spike_steps"]))
    assert times[:3].tolist() == [59.3, 120.6, 181.9]
