"""Inputs onto node_ids (dc, poisson, noise_generator, spike_generator) and the shaped
current generators step_current and ac (NEST step_current_generator, ac_generator):
a subset input equals the full input on its neurons and nothing elsewhere; step_current
and ac give the currents of NEST's update loops step for step; bad inputs are one line."""
from __future__ import annotations

import copy
import math

import numpy as np
import pytest

from brainsim.engine.comm import SerialComm
from brainsim.engine.simulation import Engine
from brainsim.network.build import build_local_network
from brainsim.network.partition import make_partition
from brainsim.spec.errors import Sources, SpecError
from brainsim.spec.resolve import resolve

STEPS = 600


def document(inputs, size=5, model="iaf_psc_exp"):
    return {"name": "currents", "simulation": {"t_sim": STEPS * 0.1, "dt": 0.1, "seed": 5},
            "populations": [{"name": "A", "size": size, "model": model}],
            "inputs": inputs}


def resolved(doc):
    return resolve(copy.deepcopy(doc), Sources("<dict>", {}), "<dict>")


def traces(doc, ranks=1):
    """V_m of every neuron after every step [STEPS, size] and the sorted spike keys."""
    model = resolved(doc)
    partition = make_partition(model, ranks)
    size = model.populations[0].size
    v_m = np.zeros((STEPS, size))
    keys = []

    class Collect:
        def record(self, spikes, first_step):
            keys.extend((first_step, int(k)) for k in np.asarray(spikes))

    for rank in range(ranks):
        network = build_local_network(model, partition, rank)
        engine = Engine(network, SerialComm(), model.simulation.seed, model.simulation.dt,
                        recorder=Collect())
        for step in range(STEPS):
            engine.run_until(step + 1)
            v_m[step, network.local_gids] = network.state["V_m"]
    return v_m, sorted(keys)


SUBSET = [1, 3]
OTHERS = [0, 2, 4]


@pytest.mark.parametrize("inp", [
    {"type": "dc", "target": "A", "amplitude": 400.0, "start": 5.0, "stop": 40.0},
    {"type": "noise_generator", "target": "A", "mean": 300.0, "std": 200.0, "dt": 0.5},
    {"type": "poisson", "target": "A", "rate": 20000.0, "weight": 30.0},
    {"type": "spike_generator", "target": "A", "spike_times": [3.0, 3.0, 9.0],
     "weight": 800.0},
    {"type": "step_current", "target": "A", "amplitude_times": [2.0, 10.0, 30.5],
     "amplitude_values": [500.0, -100.0, 350.0]},
    {"type": "ac", "target": "A", "amplitude": 300.0, "offset": 200.0, "frequency": 90.0,
     "phase": 30.0, "stop": 50.0},
])
def test_a_subset_input_reaches_its_neurons_only(inp):
    everyone, _ = traces(document([inp]))
    nobody, _ = traces(document([]))
    subset, _ = traces(document([dict(inp, node_ids=SUBSET)]))
    assert not np.array_equal(everyone[:, SUBSET], nobody[:, SUBSET])
    np.testing.assert_array_equal(subset[:, SUBSET], everyone[:, SUBSET])
    np.testing.assert_array_equal(subset[:, OTHERS], nobody[:, OTHERS])
    assert traces(document([dict(inp, node_ids=SUBSET)]), ranks=2)[0].tolist() == \
        subset.tolist()


def test_step_current_equals_dc_switched_on_at_its_time():
    """A step of A at t (on the grid) is NEST's dc_generator with start = t: both send
    from generator step t/dt - 1 on."""
    step, _ = traces(document([{"type": "step_current", "target": "A",
                                "amplitude_times": [12.3], "amplitude_values": [420.0],
                                "delay": 0.7}]))
    dc, _ = traces(document([{"type": "dc", "target": "A", "amplitude": 420.0,
                              "start": 12.3, "delay": 0.7}]))
    np.testing.assert_array_equal(step, dc)


def test_ac_at_zero_frequency_and_90_degrees_is_a_dc():
    ac, _ = traces(document([{"type": "ac", "target": "A", "amplitude": 380.0,
                              "phase": 90.0, "start": 4.0, "stop": 30.0}]))
    dc, _ = traces(document([{"type": "dc", "target": "A", "amplitude": 380.0,
                              "start": 4.0, "stop": 30.0}]))
    np.testing.assert_array_equal(ac, dc)


def nest_step_current(stamps, values, t_first, t_last, n):
    """NEST's step_current_generator::update over generator steps 0..n-1."""
    out, idx, amp = [], 0, 0.0
    for t in range(n):
        if idx < len(stamps) and t + 1 == stamps[idx]:
            amp, idx = values[idx], idx + 1
        out.append(amp if t_first <= t <= t_last else 0.0)
    return out


def nest_ac(amplitude, offset, frequency, phase, dt, t_first, t_last, n):
    """NEST 3's ac_generator: pre_run_hook at t = 0, then update over steps 0..n-1."""
    omega = 2.0 * math.pi * frequency / 1000.0
    phi = phase * 2.0 * math.pi / 360.0
    y0, y1 = amplitude * math.cos(omega * 0.0 + phi), amplitude * math.sin(omega * 0.0 + phi)
    a00, a01, a10, a11 = (math.cos(omega * dt), -math.sin(omega * dt), math.sin(omega * dt),
                          math.cos(omega * dt))
    out = []
    for t in range(n):
        y0, y1 = a00 * y0 + a01 * y1, a10 * y0 + a11 * y1
        out.append(y1 + offset if t_first <= t <= t_last else 0.0)
    return out


def test_generator_currents_follow_nest_update_loops_step_for_step():
    """The i_ext rows the neurons get in the update of step s are what NEST's generators
    send in step s - delay_steps - 1, epoch by epoch (any epoch length)."""
    doc = document([
        {"type": "step_current", "target": "A", "amplitude_times": [0.1, 2.5, 7.0],
         "amplitude_values": [10.0, -20.0, 30.5], "start": 1.0, "stop": 40.0, "delay": 0.3},
        {"type": "ac", "target": "A", "amplitude": 7.0, "offset": 1.5, "frequency": 333.0,
         "phase": 17.0, "start": 2.0, "delay": 1.2, "node_ids": [0]}], size=2)
    model = resolved(doc)
    noise = build_local_network(model, make_partition(model, 1), 0).noise
    rows = np.zeros((STEPS, 2))
    for first in range(0, STEPS, 7):                 # epochs of 7 steps
        n = min(7, STEPS - first)
        rows[first:first + n] = noise.epoch_currents(first, n, np.zeros((n, 2)))
    step = nest_step_current([1, 25, 70], [10.0, -20.0, 30.5], 9, 398, STEPS)
    ac = nest_ac(7.0, 1.5, 333.0, 17.0, 0.1, 19, 2 ** 62, STEPS)
    expected = np.zeros((STEPS, 2))
    expected[4:, 0] = np.array(step[:STEPS - 4])             # delay 3 steps + 1
    expected[4:, 1] = np.array(step[:STEPS - 4])
    expected[13:, 0] += np.array(ac[:STEPS - 13])            # delay 12 steps + 1
    assert rows.tolist() == expected.tolist()


@pytest.mark.parametrize("inp, path, message", [
    ({"type": "dc", "target": "A", "amplitude": 1.0, "node_ids": [0, 5]},
     "inputs[0].node_ids[1]", "node id 5; expected population-local ids in [0, 5)"),
    ({"type": "dc", "target": "A", "amplitude": 1.0, "node_ids": [2, 2]},
     "inputs[0].node_ids", "a repeated node id"),
    ({"type": "poisson", "target": "A", "rate": 1.0, "weight": 1.0, "indegree": 3,
      "node_ids": [1]}, "inputs[0].node_ids", "node_ids with indegree"),
    ({"type": "step_current", "target": "A", "amplitude_times": [1.0, 1.0],
      "amplitude_values": [1.0, 2.0]}, "inputs[0].amplitude_times[1]", "strictly increasing"),
    ({"type": "step_current", "target": "A", "amplitude_times": [0.0],
      "amplitude_values": [1.0]}, "inputs[0].amplitude_times[0]", "a time > 0 ms"),
    ({"type": "step_current", "target": "A", "amplitude_times": [1.05],
      "amplitude_values": [1.0]}, "inputs[0].amplitude_times[0]", "not a multiple of dt"),
    ({"type": "step_current", "target": "A", "amplitude_times": [1.0],
      "amplitude_values": []}, "inputs[0]", "1 amplitude_times and 0 amplitude_values"),
    ({"type": "ac", "target": "A", "amplitude": 1.0, "frequency": "x"},
     "inputs[0].frequency", "x"),
])
def test_bad_inputs_are_one_line_at_their_path(inp, path, message):
    with pytest.raises(SpecError) as err:
        resolved(document([inp]))
    text = str(err.value)
    assert "\n" not in text and path in text and message in text, text


def test_models_without_node_ids_keep_their_hash():
    """An absent node_ids is left out of the hash of dc / poisson / noise inputs (their
    hash is the one from before node_ids existed); a given one is in it."""
    from brainsim.spec.resolve import _input_payload
    doc = document([{"type": "dc", "target": "A", "amplitude": 1.0}])
    with_ids = document([{"type": "dc", "target": "A", "amplitude": 1.0,
                          "node_ids": [0, 1, 2, 3, 4]}])
    assert "node_ids" not in _input_payload(resolved(doc).dc_inputs[0])
    assert resolved(doc).model_hash != resolved(with_ids).model_hash
