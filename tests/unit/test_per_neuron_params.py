"""Per-neuron parameters (spec/neuron_params.py): a population whose parameters are lists,
arrays or distributions runs as the same neurons in separate homogeneous populations, bit
for bit; segments follow runs of equal parameters; draws are keyed per gid; bad inputs are
one-line SpecErrors at their path."""
from __future__ import annotations

import copy

import numpy as np
import pytest

from brainsim.engine.comm import SerialComm
from brainsim.engine.simulation import Engine
from brainsim.network.build import build_local_network
from brainsim.network.partition import make_partition
from brainsim.spec.errors import Sources, SpecError
from brainsim.spec.resolve import resolve

V_TH = [-55.0, -55.0, -52.0, -58.0, -58.0, -55.0]
TAU_M = [10.0, 10.0, 10.0, 20.0, 20.0, 10.0]
I_E = [300.0, 300.0, 320.0, 360.0, 360.0, 300.0]


def document(populations, inputs=()):
    return {"name": "per_neuron", "simulation": {"t_sim": 100.0, "dt": 0.1, "seed": 7},
            "populations": populations, "inputs": list(inputs)}


def kicks(target):
    return {"type": "spike_generator", "target": target, "spike_times": [5.0, 12.0, 30.0, 31.0],
            "weight": 400.0}


def resolved(doc):
    return resolve(copy.deepcopy(doc), Sources("<dict>", {}), "<dict>")


def run(model, ranks: int = 1):
    """Spike keys (sorted) and V_m by gid of a run on `ranks` simulated partitions (ranks
    stepped one after another: no synapses, so they do not interact)."""
    partition = make_partition(model, ranks)
    keys, v_m = [], {}

    class Collect:
        def record(self, spikes, first_step):
            keys.extend(((first_step, int(k)) for k in np.asarray(spikes)))

    for rank in range(ranks):
        network = build_local_network(model, partition, rank)
        engine = Engine(network, SerialComm(), model.simulation.seed, model.simulation.dt,
                        recorder=Collect())
        engine.run_until(1000)
        v_m.update(zip(network.local_gids.tolist(), network.state["V_m"].tolist()))
    return sorted(keys), v_m


def heterogeneous(**extra):
    params = {"V_th": V_TH, "tau_m": np.array(TAU_M), "I_e": I_E, **extra}
    return document([{"name": "A", "size": 6, "model": "iaf_psc_alpha", "params": params}],
                    [kicks("A")])


def test_per_neuron_params_run_as_separate_homogeneous_populations():
    separate = document(
        [{"name": f"A{i}", "size": 1, "model": "iaf_psc_alpha",
          "params": {"V_th": V_TH[i], "tau_m": TAU_M[i], "I_e": I_E[i]}} for i in range(6)],
        [kicks(f"A{i}") for i in range(6)])
    keys, v_m = run(resolved(heterogeneous()))
    assert keys and (keys, v_m) == run(resolved(separate))


def test_segments_are_runs_of_equal_parameters_and_homogeneous_is_one():
    model = resolved(heterogeneous())
    group = build_local_network(model, make_partition(model, 1), 0).groups[0]
    assert group.seg_begin.tolist() == [0, 2, 3, 5] and group.seg_end.tolist() == [2, 3, 5, 6]
    assert group.seg_params.shape[0] == 4
    plain = resolved(document([{"name": "A", "size": 6, "model": "iaf_psc_alpha",
                                "params": {"V_th": [-52.0] * 6}}]))
    assert plain.populations[0].params["V_th"] == -52.0     # equal values: one number
    group = build_local_network(plain, make_partition(plain, 1), 0).groups[0]
    assert group.seg_begin.tolist() == [0] and group.seg_end.tolist() == [6]


def test_two_ranks_equal_one():
    model = resolved(heterogeneous(E_L={"distribution": "normal", "mean": -70.0, "std": 2.0}))
    assert run(model, 2) == run(model, 1)


def test_distribution_draws_are_keyed_per_gid():
    drawn = {"distribution": "uniform", "low": -60.0, "high": -50.0}
    one = resolved(document([{"name": "A", "size": 50, "model": "iaf_psc_exp",
                              "params": {"V_th": drawn}}]))
    two = resolved(document([{"name": "B", "size": 10, "model": "iaf_psc_exp"},
                             {"name": "A", "size": 40, "model": "iaf_psc_exp",
                              "params": {"V_th": drawn}}]))
    values = one.populations[0].params["V_th"]
    assert values.shape == (50,) and np.all((values >= -60.0) & (values <= -50.0))
    assert np.unique(values).size == 50
    np.testing.assert_array_equal(two.populations[1].params["V_th"], values[10:])


def test_model_hash_follows_the_values():
    a = resolved(heterogeneous()).model_hash
    assert a == resolved(heterogeneous()).model_hash
    changed = heterogeneous()
    changed["populations"][0]["params"]["V_th"] = V_TH[:-1] + [-53.0]
    assert resolved(changed).model_hash != a


def test_initial_v_m_relative_to_a_per_neuron_e_l():
    e_l = [-70.0, -65.0, -60.0, -70.0, -65.0, -60.0]
    model = resolved(document([{"name": "A", "size": 6, "model": "iaf_psc_exp",
                                "params": {"E_L": e_l}, "initial": {"V_m": -62.0}}]))
    network = build_local_network(model, make_partition(model, 1), 0)
    np.testing.assert_array_equal(network.state["V_m"] + np.array(e_l), -62.0)


@pytest.mark.parametrize("params, path, message", [
    ({"V_th": [-55.0, -50.0]}, "populations[0].params.V_th",
     "2 values; expected 6 values (mV), one per neuron"),
    ({"V_reset": [-70.0, -70.0, -50.0, -70.0, -70.0, -70.0]},
     "populations[0].params.V_reset[2]", "neuron 2: V_reset = -50 mV; expected V_reset < V_th"),
    ({"tau_m": [10.0, 10.0, 10.0, 10.0, -1.0, 10.0]}, "populations[0].params.tau_m[4]",
     "neuron 4: tau_m = -1 ms; expected > 0"),
    ({"C_m": [250.0] * 5 + [float("nan")]}, "populations[0].params.C_m[5]", "nan"),
    ({"t_ref": ["a", 1, 1, 1, 1, 1]}, "populations[0].params.t_ref", "a list of numbers"),
])
def test_bad_per_neuron_params_name_path_and_neuron(params, path, message):
    doc = document([{"name": "A", "size": 6, "model": "iaf_psc_exp", "params": params}])
    with pytest.raises(SpecError) as err:
        resolved(doc)
    text = str(err.value)
    assert "\n" not in text and path in text and message in text, text


def test_mv_weights_onto_varying_tau_m_are_refused():
    doc = document([{"name": "A", "size": 6, "model": "iaf_psc_exp",
                     "params": {"tau_m": [10.0, 20.0] * 3}}],
                   [{"type": "poisson", "target": "A", "rate": 10.0,
                     "weight": {"value": 0.5, "unit": "mV"}}])
    with pytest.raises(SpecError, match="whose tau_m varies per neuron"):
        resolved(doc)
