"""Per-neuron parameters of an equation model (the shipped aeif_psc_exp, a generated
kernel): each run of equal parameters is a segment with its own constants, and the
population runs bit for bit as its neurons in separate homogeneous populations."""
from __future__ import annotations

import numpy as np
import yaml

from brainsim.engine.comm import SerialComm
from brainsim.engine.simulation import Engine
from brainsim.network.build import build_local_network
from brainsim.network.neurons import load_generated_kernels
from brainsim.network.partition import make_partition
from brainsim.spec import load_model

A = [2.0, 2.0, 4.0, 0.0]
B = [40.0, 40.0, 80.0, 0.0]
V_TH = [-50.4, -50.4, -52.0, -48.0]


def model_file(tmp_path, name, populations, inputs):
    doc = {"name": name, "simulation": {"t_sim": 100.0, "dt": 0.1, "seed": 3},
           "populations": populations, "inputs": inputs}
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return load_model(str(path))


def kicks(target):
    return {"type": "spike_generator", "target": target, "spike_times": [5.0, 20.0, 21.0],
            "weight": 900.0}


def run(model):
    load_generated_kernels(model.neuron_models.values(), SerialComm())
    network = build_local_network(model, make_partition(model, 1), 0)
    keys = []

    class Collect:
        def record(self, spikes, first_step):
            keys.extend((first_step, int(k)) for k in np.asarray(spikes))

    Engine(network, SerialComm(), model.simulation.seed, model.simulation.dt,
           recorder=Collect()).run_until(1000)
    return keys, network.state["V_m"].tolist(), network.state["w"].tolist(), network


def test_equation_model_per_neuron_params_run_as_separate_populations(tmp_path):
    varied = model_file(tmp_path, "varied", [
        {"name": "N", "size": 4, "model": "aeif_psc_exp",
         "params": {"a": A, "b": B, "V_th": V_TH, "I_e": 1000.0}}], [kicks("N")])
    separate = model_file(tmp_path, "separate", [
        {"name": f"N{i}", "size": 1, "model": "aeif_psc_exp",
         "params": {"a": A[i], "b": B[i], "V_th": V_TH[i], "I_e": 1000.0}} for i in range(4)],
        [kicks(f"N{i}") for i in range(4)])
    keys, v_m, w, network = run(varied)
    assert network.groups[0].seg_begin.tolist() == [0, 2, 3]
    assert keys and (keys, v_m, w) == run(separate)[:3]
