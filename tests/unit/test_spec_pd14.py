"""The PD14 and Brunel model files resolve to the numbers of NEST's examples
(docs/reference/pd14_model.md, nest_baseline.md)."""
from __future__ import annotations

import math
import os

import pytest
import yaml

from brainsim.spec import NEURON_MODELS, load_model, psc_over_psp

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PD14 = os.path.join(REPO, "models", "potjans_diesmann_2014.yaml")
BRUNEL = os.path.join(REPO, "models", "brunel_2000.yaml")
CONFIGS = os.path.join(REPO, "configs")
NAMES = ["L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I"]
FULL_SIZES = [20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948]
# full-scale synapse counts, [target][source] (pd14_model.md)
FULL_COUNTS = [
    [45499805, 22323577, 20253647, 9670918, 3293578, 0, 2271404, 0],
    [17443694, 5018763, 4105338, 1690074, 2221213, 0, 353461, 0],
    [3503670, 756561, 24482849, 17413576, 714524, 7003, 14624432, 0],
    [8114254, 92832, 9933538, 5223272, 87836, 0, 8810905, 0],
    [10613575, 1817058, 5507804, 151900, 2040738, 2407889, 1438969, 0],
    [1241436, 169424, 607667, 12851, 319602, 430444, 132414, 0],
    [4681225, 556108, 6727570, 1320234, 4112225, 305029, 8372649, 10827677],
    [2260836, 17207, 220033, 8078, 401638, 25218, 2888426, 1354320],
]
K_EXT = [1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100]


@pytest.fixture(scope="module")
def full():
    return load_model(PD14)


@pytest.fixture(scope="module")
def tenth():
    return load_model(PD14, overrides=["scale=0.1"])


def counts(model):
    table = [[0] * 8 for _ in range(8)]
    for proj in model.projections:
        table[proj.target][proj.source] += proj.total_number
    return table


def test_psc_over_psp_factor():
    assert psc_over_psp(250.0, 10.0, 0.5) == pytest.approx(585.3899568614, rel=1e-12)


def test_psc_over_psp_limit_at_equal_time_constants():
    limit = psc_over_psp(250.0, 10.0, 10.0)
    assert limit == pytest.approx(250.0 * math.e / 10.0, rel=1e-12)
    assert psc_over_psp(250.0, 10.0, 10.0 * (1 + 1e-5)) == pytest.approx(limit, rel=1e-4)


def test_full_scale_sizes_and_offsets(full):
    assert [p.name for p in full.populations] == NAMES
    assert [p.size for p in full.populations] == FULL_SIZES
    assert [p.offset for p in full.populations] == [sum(FULL_SIZES[:i]) for i in range(8)]
    assert full.num_neurons == 77169


def test_full_scale_synapse_counts(full):
    assert len(full.projections) == 64
    assert counts(full) == FULL_COUNTS
    assert sum(p.total_number for p in full.projections) == 298_880_968


def test_full_scale_weights_and_inputs(full):
    exc, inh, doubled = full.projections[0].weight, full.projections[1].weight, \
        full.projections[2].weight
    assert exc.mean == pytest.approx(87.8084935292, rel=1e-12)
    assert exc.std == pytest.approx(8.78084935292, rel=1e-12)
    assert (exc.min, exc.max) == (0.0, math.inf)
    assert inh.mean == pytest.approx(-351.2339741168, rel=1e-12)
    assert (inh.min, inh.max) == (-math.inf, 0.0)
    assert doubled.mean == pytest.approx(175.6169870584, rel=1e-12)
    delays = {(p.delay.mean, p.delay.std, p.delay.min) for p in full.projections}
    assert delays == {(1.5, 0.75, 0.05), (0.75, 0.375, 0.05)}
    assert [i.rate for i in full.poisson_inputs] == [8.0 * k for k in K_EXT]
    assert all(i.weight == pytest.approx(87.8084935292, rel=1e-12) for i in full.poisson_inputs)
    assert all(i.delay == 1.5 for i in full.poisson_inputs)
    assert all(p.params["I_e"] == 0.0 for p in full.populations)


def test_full_scale_neurons(full):
    pop = full.population("L23E")
    assert pop.model == "iaf_psc_exp"
    expected = {"C_m": 250.0, "tau_m": 10.0, "E_L": -65.0, "V_th": -50.0, "V_reset": -65.0,
                "t_ref": 2.0, "tau_syn_ex": 0.5, "tau_syn_in": 0.5, "I_e": 0.0}
    assert {k: pop.params[k] for k in expected} == expected
    means = [p.initial["V_m"].mean for p in full.populations]
    assert means == [-68.28, -63.16, -63.33, -63.45, -63.11, -61.66, -66.72, -61.43]
    assert full.simulation.dt == 0.1 and full.simulation.t_sim == 1500.0
    assert full.simulation.warmup == 500.0 and full.simulation.seed == 55
    assert full.recording.spikes == tuple(NAMES)


def test_tenth_scale_sizes_and_synapses(tenth):
    assert [p.size for p in tenth.populations] == [2068, 583, 2192, 548, 485, 106, 1440, 295]
    assert sum(p.total_number for p in tenth.projections) == 2_988_807
    assert (tenth.scale, tenth.indegree_scale) == (0.1, 0.1)


def test_tenth_scale_compensation(tenth):
    dc = [p.params["I_e"] for p in tenth.populations]
    assert dc == pytest.approx([29.035009, 112.371198, 112.969722, 114.990349, 125.418277,
                                151.684466, 43.846890, 153.709720], abs=2e-6)
    assert tenth.projections[0].weight.mean == pytest.approx(277.6748374605, rel=1e-12)
    assert tenth.projections[1].weight.mean == pytest.approx(-1110.6993498418, rel=1e-12)
    assert tenth.projections[2].weight.mean == pytest.approx(555.3496749209, rel=1e-12)
    assert tenth.projections[0].weight.std == pytest.approx(27.76748374605, rel=1e-12)
    assert all(i.weight == pytest.approx(277.6748374605, rel=1e-12)
               for i in tenth.poisson_inputs)
    assert [i.rate for i in tenth.poisson_inputs] == [8.0 * k / 10 for k in K_EXT]


def test_scale_0_3_matches_nest_synapse_count():
    model = load_model(PD14, os.path.join(CONFIGS, "workstation.yaml"))
    # NEST num_connections 26,945,582 minus 2 device connections per neuron
    assert sum(p.total_number for p in model.projections) == 26_945_582 - 2 * 23_150
    assert model.num_neurons == 23_150


def test_document_holds_evaluated_expressions(full):
    doc = full.document
    assert doc["parameters"]["PSP_inh"] == pytest.approx(-0.6)
    assert doc["projections"][1]["synapse"]["weight"]["mean"] == pytest.approx(-0.6)
    assert doc["inputs"][3]["rate"] == 8.0 and doc["inputs"][3]["indegree"] == 1900


def test_g_override_changes_inhibitory_weights_only():
    model = load_model(PD14, overrides=["parameters.g=-5"])
    assert model.projections[1].weight.mean == pytest.approx(-5 * 0.15 * 585.3899568614)
    assert model.projections[0].weight.mean == pytest.approx(87.8084935292)


def test_override_of_an_anchored_value_changes_one_projection():
    model = load_model(PD14, overrides=["projections[4].synapse.delay.mean=2.0"])
    assert model.projections[4].delay.mean == 2.0
    assert model.projections[0].delay.mean == 1.5  # same anchor (*exc) in the file


@pytest.mark.parametrize("config", ["laptop", "workstation", "cluster"])
def test_configs_resolve(config):
    """Each run config's scale, t_sim and run settings reach the resolved model."""
    with open(os.path.join(CONFIGS, f"{config}.yaml")) as handle:
        settings = yaml.safe_load(handle)
    for path, full_sizes in ((PD14, FULL_SIZES), (BRUNEL, [10000, 2500])):
        model = load_model(path, os.path.join(CONFIGS, f"{config}.yaml"))
        assert model.scale == settings["scale"]
        assert [p.size for p in model.populations] == \
            [max(1, round(n * settings["scale"])) for n in full_sizes]
        assert model.simulation.t_sim == settings["simulation"]["t_sim"]
        assert model.document["run"] == settings["run"]


def test_laptop_config(tenth):
    model = load_model(PD14, os.path.join(CONFIGS, "laptop.yaml"))
    assert model.scale == 0.1
    assert model.document["run"] == {"ranks": 2}
    assert [p.params["I_e"] for p in model.populations] == \
        [p.params["I_e"] for p in tenth.populations]
    assert model.model_hash == tenth.model_hash  # output dir and run settings do not count


def test_brunel():
    model = load_model(BRUNEL)
    assert [p.size for p in model.populations] == [10000, 2500]
    assert all(p.model == "iaf_psc_delta" for p in model.populations)
    e = model.population("E")
    assert (e.params["C_m"], e.params["tau_m"], e.params["V_th"], e.params["V_reset"],
            e.params["E_L"], e.params["t_ref"]) == (1.0, 20.0, 20.0, 10.0, 0.0, 2.0)
    assert e.initial["V_m"].value == 0.0
    assert [(p.rule, p.indegree, p.weight.value, p.delay.value) for p in model.projections] == [
        ("fixed_indegree", 1000, 0.2, 1.5), ("fixed_indegree", 1000, 0.2, 1.5),
        ("fixed_indegree", 250, -1.0, 1.5), ("fixed_indegree", 250, -1.0, 1.5)]
    # NEST: p_rate = 1000 * eta * nu_th * C_E = 10 kHz per neuron at J = 0.2 mV
    assert [i.rate for i in model.poisson_inputs] == pytest.approx([10000.0, 10000.0])
    assert model.simulation.t_sim == 1000.0 and model.simulation.dt == 0.1
    # 15,625,000 recurrent synapses (NEST's count minus the device connections)
    assert sum(p.indegree * model.populations[p.target].size for p in model.projections) \
        == 15_625_000


def test_brunel_scaled_keeps_indegrees():
    model = load_model(BRUNEL, overrides=["scale=0.1"])
    assert [p.size for p in model.populations] == [1000, 250]
    assert [p.indegree for p in model.projections] == [1000, 1000, 250, 250]


def test_neuron_model_registry():
    exp = NEURON_MODELS["iaf_psc_exp"]
    assert exp.defaults["C_m"] == 250.0 and exp.defaults["tau_syn_ex"] == 2.0
    assert exp.defaults["V_th"] == -55.0 and exp.weight_unit == "pA"
    delta = NEURON_MODELS["iaf_psc_delta"]
    assert delta.defaults["V_min"] == -math.inf and delta.weight_unit == "mV"
    assert list(delta.state_variables) == ["V_m"]
