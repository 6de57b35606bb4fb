"""The shipped equation model iaf_psc_exp_multisynapse (models/neurons, three receptor
ports reached by name) against NEST 3.10's iaf_psc_exp_multisynapse.

References: iaf_psc_exp_multisynapse_Ie and _inputs in
tests/reference/nest_reference_equation_models.json (tests/reference/NOTES.md,
"Equation-model references"). NEST's tau_syn list [t1, t2, t3] is the model's tau_syn_1,
tau_syn_2, tau_syn_3; a connection's receptor_type k is `receptor: r<k>`. In the _inputs
case the parrots S_ex / S_in relay spike_generator spikes onto N with weights of both
signs on all three receptors; their stored spike steps s are fed to N as spike_generator
inputs at s*dt with the connection's weight, delay and receptor (NEST's timing, as in
docs/model-format.md). N is advanced one step per kernel call so V_m is read after every
step like NEST's voltmeter.

Asserted: spike steps identical to NEST's, and max |V_m - V_m(NEST)| within TOLERANCE.
Measured: 0 (every sample bit for bit) in _Ie (no synaptic input); in _inputs 1.4e-14 mV:
NEST's P21 uses its own Taylor-series numerics::expm1 (the 3.10 wheel lacks HAVE_EXPM1),
1-2 ulp from libm's, and adds the receptors' P21 terms to V one by one after
V*P22 + I*P20.
"""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from brainsim.engine.comm import SerialComm
from brainsim.engine.simulation import Engine
from brainsim.network.build import build_local_network
from brainsim.network.inputs import ms_to_steps
from brainsim.network.partition import make_partition
from brainsim.spec import load_model

from cli_runner import REPO

REFERENCE = os.path.join(REPO, "tests", "reference", "nest_reference_equation_models.json")
with open(REFERENCE) as handle:
    CASES = {name: case for name, case in json.load(handle)["cases"].items()
             if case["models"]["N"] == "iaf_psc_exp_multisynapse"}
TOLERANCE = 1e-12      # mV, max over the trace (measured: see the module docstring)


def population(case: dict) -> dict:
    params = dict(case["params"]["N"])
    taus = params.pop("tau_syn")
    initial = {"V_m": params.pop("V_m")}
    params.update({f"tau_syn_{k + 1}": tau for k, tau in enumerate(taus)})
    return {"name": "N", "size": 1, "model": "iaf_psc_exp_multisynapse",
            "params": params, "initial": initial}


def document(case: dict) -> dict:
    dt = case["resolution_ms"]
    inputs = [{"type": "spike_generator", "target": "N",
               "spike_times": [round(s * dt, 10) for s in case["spike_steps"][c["source"]]],
               "weight": c["weight"], "delay": c["delay"],
               "receptor": f"r{c['receptor_type']}"}
              for c in case.get("connections", ())]
    doc = {"name": "nest_multisynapse",
           "simulation": {"dt": dt, "t_sim": case["t_sim_ms"], "seed": 1},
           "populations": [population(case)]}
    if inputs:
        doc["inputs"] = inputs
    return doc


def simulate(model) -> tuple[list, np.ndarray]:
    """(spike stamps of N in steps, V_m after every step)."""
    network = build_local_network(model, make_partition(model, 1), 0)
    (group,) = network.groups
    offset = model.neuron_model_of(model.populations[0]).stored_offset(
        "V_m", dict(model.populations[0].params))
    trace = []
    original = group.update

    def one_step_at_a_time(state, ring, local_gids, first_step, num_steps, seed,
                           spike_keys, *rest):
        emitted = 0
        for j in range(num_steps):
            n = original(state, ring, local_gids, first_step + j, 1, seed,
                         spike_keys[emitted:], *rest)
            spike_keys[emitted:emitted + n] += np.uint64(j << 32)
            emitted += n
            trace.append(float(state["V_m"][0]) + offset)
        return emitted
    group.update = one_step_at_a_time
    stamps = []

    class Collect:
        def record(self, keys, first_step):
            stamps.extend(first_step + (int(k) >> 32) + 1 for k in keys)

    engine = Engine(network, SerialComm(), model.simulation.seed, model.simulation.dt,
                    recorder=Collect())
    engine.run_until(ms_to_steps(model.simulation.t_sim, model.simulation.dt))
    return sorted(stamps), np.array(trace)


@pytest.mark.parametrize("name", sorted(CASES))
def test_multisynapse_matches_nest(tmp_path, name):
    import yaml
    case = CASES[name]
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(document(case), sort_keys=False))
    model = load_model(str(path))
    stamps, trace = simulate(model)
    reference = np.array(case["vm_V_m"]["N"])
    error = float(np.max(np.abs(trace[:len(reference)] - reference)))
    print(f"{name}: {len(stamps)} spikes (NEST {len(case['spike_steps']['N'])}), "
          f"max |dV_m| = {error:.3g} mV")
    assert stamps == case["spike_steps"]["N"]
    assert error <= TOLERANCE, f"max |dV_m| over the trace = {error:.3g} mV"
