"""brainsim's Python API (brainsim.api): runs in this process, results in memory."""
from __future__ import annotations

import math
import os

import numpy as np
import pytest

import brainsim

HERE = os.path.dirname(os.path.abspath(__file__))
BRUNEL = os.path.join(HERE, "..", "..", "models", "brunel_2000.yaml")
SMALL = {"scale": 0.1, "simulation.seed": 7,
         "recording.state": [{"population": "E", "variables": ["V_m"],
                              "neurons": [0, 1, 2], "interval": 0.1}]}


def single_neuron(I_e: float) -> dict:
    """One iaf_psc_delta neuron driven by I_e (pA) alone."""
    return {"name": "one", "simulation": {"dt": 0.1, "t_sim": 100.0, "seed": 1},
            "populations": [{"name": "N", "size": 1, "model": "iaf_psc_delta",
                             "params": {"I_e": I_e, "C_m": 250.0, "tau_m": 10.0,
                                        "t_ref": 2.0, "E_L": -70.0, "V_reset": -70.0,
                                        "V_th": -55.0},
                             "initial": {"V_m": -70.0}}],
            "recording": {"spikes": "all"}}


def spikes_equal(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(
        np.array_equal(a[k][0], b[k][0]) and np.array_equal(a[k][1], b[k][1]) for k in a)


@pytest.fixture(scope="module")
def brunel():
    return brainsim.load(BRUNEL, SMALL)


def test_continuation_equals_one_long_run(brunel):
    split = brainsim.Simulation(brunel)
    split.run(100.0)
    split.run(50.3)                       # ends inside a 1.5 ms epoch
    split.run(7.2)
    whole = brainsim.Simulation(brunel)
    whole.run(157.5)
    assert split.t == pytest.approx(157.5) and len(split.spikes("E")[0]) > 1000
    assert spikes_equal(split.spikes(), whole.spikes())
    assert np.array_equal(split.state("V_m", "E")[1], whole.state("V_m", "E")[1])
    assert split.state("V_m", "E")[1].shape == (1575, 3)


def test_reset_reruns_identically(brunel):
    sim = brainsim.Simulation(brunel)
    sim.run(80.0)
    first = sim.spikes()
    sim.set("E", V_m=5.0)
    sim.reset()
    assert sim.t == 0.0 and len(sim.spikes("E")[0]) == 0
    sim.run(80.0)
    assert spikes_equal(first, sim.spikes())


def test_set_state_changes_the_run(brunel):
    sim = brainsim.Simulation(brunel)
    sim.run(10.0)
    sim.set("E", [0, 3], V_m=[19.9, 1.0])
    assert np.array_equal(sim.get("E", "V_m", [0, 3]), [19.9, 1.0])
    other = brainsim.Simulation(brunel)
    other.run(10.0)
    sim.run(10.0)
    other.run(10.0)
    assert not spikes_equal(sim.spikes(), other.spikes())


def test_parameter_set_is_refused_with_a_clear_error(brunel):
    sim = brainsim.Simulation(brunel)
    assert np.all(sim.get("E", "tau_m", [0, 1]) == 20.0)
    with pytest.raises(ValueError, match="tau_m is a parameter of E"):
        sim.set("E", tau_m=10.0)
    with pytest.raises(ValueError, match="no state variable w"):
        sim.set("E", w=1.0)


def test_single_neuron_rate_follows_I_e():
    """Regular firing: ISI = t_ref + tau_m ln(R I_e / (R I_e - (V_th - V_reset))) on the grid."""
    rates = {}
    for I_e in (400.0, 600.0):
        sim = brainsim.Simulation(brainsim.load(single_neuron(I_e)))
        sim.run(200.0)
        times, ids = sim.spikes("N")
        drive = 10.0 / 250.0 * I_e                     # R I_e (mV)
        isi = 2.0 + 10.0 * math.log(drive / (drive - 15.0))
        assert np.all(ids == 0)
        assert np.allclose(np.diff(times), np.diff(times)[0])
        assert abs(np.diff(times)[0] - isi) <= 0.1 + 1e-9
        rates[I_e] = sim.rates_hz()["N"]
    assert rates[600.0] > rates[400.0] > 0


def test_dict_model_and_bad_input():
    doc = single_neuron(400.0)
    model = brainsim.load(doc, {"simulation.seed": 3})
    assert model.simulation.seed == 3 and doc["simulation"]["seed"] == 1
    doc["populations"][0]["size"] = "many"
    with pytest.raises(brainsim.SpecError) as err:
        brainsim.load(doc)
    assert str(err.value).startswith("<dict>: populations[0].size")
    assert "\n" not in str(err.value)


def test_run_refuses_a_duration_off_the_grid(brunel):
    sim = brainsim.Simulation(brunel)
    with pytest.raises(ValueError, match="whole number of time steps"):
        sim.run(0.05)


def test_no_files_are_written(brunel, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    sim = brainsim.Simulation(brunel)
    sim.run(20.0)
    assert os.listdir(tmp_path) == []


def test_to_neo(brunel):
    pytest.importorskip("neo")
    sim = brainsim.Simulation(brunel)
    sim.run(30.0)
    block = sim.to_neo()
    trains = block.segments[0].spiketrains
    assert len(trains) == sum(p.size for p in brunel.populations)
    assert sum(len(t) for t in trains) == sum(len(v[0]) for v in sim.spikes().values())
    signal = block.segments[0].analogsignals[0]
    assert signal.shape == (300, 3)


def test_run_to_files_writes_the_cli_layout(tmp_path):
    model = brainsim.load(single_neuron(400.0))
    result = brainsim.run_to_files(model, tmp_path / "out")
    assert os.path.exists(tmp_path / "out" / "spikes.h5")
    sim = brainsim.Simulation(model)
    sim.run(model.simulation.t_sim)
    assert result.rates_hz["N"] == pytest.approx(sim.rates_hz()["N"])


def test_plastic_noisy_network_continues_bit_for_bit():
    """STDP weights, post histories and noise_generator currents across split runs."""
    params = {"E_L": -65.0, "V_th": -50.0, "V_reset": -65.0, "tau_syn_ex": 0.5,
              "tau_syn_in": 0.5}
    doc = {"name": "plastic", "simulation": {"dt": 0.1, "t_sim": 120.0, "seed": 2},
           "populations": [{"name": "E", "size": 40, "model": "iaf_psc_exp", "params": params},
                           {"name": "I", "size": 10, "model": "iaf_psc_exp", "params": params}],
           "projections": [
               {"source": "E", "target": "E", "rule": {"name": "fixed_indegree", "indegree": 10},
                "synapse": {"model": "stdp_synapse", "weight": 40.0, "delay": 1.3,
                            "params": {"Wmax": 200.0}}},
               {"source": "I", "target": "E", "rule": {"name": "fixed_indegree", "indegree": 5},
                "synapse": {"weight": -40.0, "delay": 0.8}}],
           "inputs": [{"type": "poisson", "target": "E", "rate": 26000.0, "weight": 30.0},
                      {"type": "poisson", "target": "I", "rate": 27000.0, "weight": 30.0},
                      {"type": "noise_generator", "target": "E", "mean": 10.0, "std": 50.0}],
           "recording": {"spikes": "all"}}
    model = brainsim.load(doc)
    split, whole = brainsim.Simulation(model), brainsim.Simulation(model)
    for duration in (33.3, 40.1, 46.6):
        split.run(duration)
    whole.run(120.0)
    assert len(split.spikes("E")[0]) > 50
    assert spikes_equal(split.spikes(), whole.spikes())
    assert np.array_equal(split.network.plastic[0].weight, whole.network.plastic[0].weight)
    assert not np.all(whole.network.plastic[0].weight == 40.0)
