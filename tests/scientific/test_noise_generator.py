"""noise_generator as NEST applies it, run in-process through the engine.

- With std = 0 a noise_generator is a dc_generator of amplitude `mean` with the same start,
  stop and delay, bit for bit, on every neuron model (NEST 3.10 gives identical V_m traces
  for the two: both go through the neuron's one current buffer with the same timing).
- Subthreshold iaf_psc_exp driven by noise redrawn every step: the population's V_m mean is
  that of the DC mean, its variance the analytic one of the AR(1) process
  y' = P22 y + P20 (mean + std z), var = (P20 std)^2 / (1 - P22^2); and since the draws are
  keyed, doubling std doubles every neuron's deviation from the DC trajectory.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import yaml

from brainsim.engine.comm import SerialComm
from brainsim.engine.simulation import Engine
from brainsim.network.build import build_local_network
from brainsim.network.partition import make_partition
from brainsim.spec import load_model

DT = 0.1


def simulate(tmp_path, populations, inputs, t_sim, snapshots, seed=5):
    """Run the model in-process; returns ({population: sorted spike steps}, {step: V_m
    copy}) with V_m (mV, kernel convention) taken after the given steps."""
    doc = {"name": "noise", "simulation": {"dt": DT, "t_sim": t_sim, "seed": seed},
           "populations": populations, "inputs": inputs}
    path = tmp_path / "noise.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    model = load_model(str(path))
    network = build_local_network(model, make_partition(model, 1), 0)
    stamps = {p.name: [] for p in model.populations}
    offsets = [(p.offset, p.offset + p.size, p.name) for p in model.populations]

    class Collect:
        def record(self, keys, first_step):
            for key in keys:
                gid = int(key) & 0xFFFFFFFF
                name = next(n for lo, hi, n in offsets if lo <= gid < hi)
                stamps[name].append((first_step + (int(key) >> 32), gid))

    engine = Engine(network, SerialComm(), model.simulation.seed, DT, recorder=Collect())
    traces = {}
    for step in snapshots:
        engine.run_until(step)
        traces[step] = network.state["V_m"].copy()
    return {k: sorted(v) for k, v in stamps.items()}, traces, model


CASES = {   # model: (params, amplitude pA)
    "iaf_psc_exp": ({"I_e": 30.0}, 450.0),
    "iaf_psc_delta": ({"I_e": 30.0}, 450.0),
    "iaf_psc_alpha": ({"I_e": 30.0}, 450.0),
    "iaf_cond_exp": ({"I_e": 30.0}, 450.0),
    "iaf_cond_alpha": ({"I_e": 30.0}, 450.0),
    "aeif_cond_exp": ({"I_e": 30.0}, 800.0),
    "izhikevich": ({"I_e": 1.0}, 12.0),
}


@pytest.mark.parametrize("neuron", sorted(CASES))
def test_noise_with_zero_std_is_a_dc_generator(neuron, tmp_path):
    params, amplitude = CASES[neuron]
    size = 3
    window = {"start": 2.0, "stop": 61.3, "delay": 1.5}
    pops = [{"name": name, "size": size, "model": neuron, "params": params}
            for name in ("NOISE", "DC")]
    inputs = [{"type": "dc", "target": "DC", "amplitude": amplitude, **window},
              {"type": "noise_generator", "target": "NOISE", "mean": amplitude, "std": 0.0,
               "dt": 0.5, **window}]
    snapshots = list(range(7, 1000, 37)) + [1000]
    stamps, traces, _ = simulate(tmp_path, pops, inputs, 100.0, snapshots)
    noise_steps = [s for s, _ in stamps["NOISE"]]
    assert noise_steps == [s for s, _ in stamps["DC"]] and noise_steps
    assert max(noise_steps) < 640          # nothing after the current stops (+ delay)
    for step, v in traces.items():
        np.testing.assert_array_equal(v[:size], v[size:], err_msg=f"V_m after step {step}")


def run_subthreshold(tmp_path, std, n=2000):
    params = {"V_th": 1000.0, "I_e": 0.0, "tau_m": 10.0, "C_m": 250.0}
    pops = [{"name": "A", "size": n, "model": "iaf_psc_exp", "params": params,
             "initial": {"V_m": -62.0}}]                 # E_L + tau_m / C_m * mean
    inputs = [{"type": "noise_generator", "target": "A", "mean": 200.0, "std": std,
               "dt": DT, "delay": 0.1}]
    snapshots = [600, 700, 800, 900, 1000]
    _, traces, model = simulate(tmp_path, pops, inputs, 100.0, snapshots)
    return np.array([traces[s] for s in snapshots])


def test_subthreshold_statistics_match_the_analytic_values(tmp_path):
    zero = run_subthreshold(tmp_path, 0.0)
    one = run_subthreshold(tmp_path, 600.0)
    two = run_subthreshold(tmp_path, 1200.0)
    P22 = math.exp(-DT / 10.0)
    P20 = 10.0 / 250.0 * (1.0 - P22)
    mean_v = 200.0 * 10.0 / 250.0                      # tau_m / C_m * mean, mV above E_L
    np.testing.assert_allclose(zero, mean_v, atol=1e-3)  # the two steps before onset decay
    sd_v = P20 * 600.0 / math.sqrt(1.0 - P22 * P22)
    assert abs(one.mean() - zero.mean()) < 5 * sd_v / math.sqrt(one.size)
    assert one.std() == pytest.approx(sd_v, rel=0.04)
    # keyed draws: twice the std is twice each neuron's deviation from the DC trajectory
    np.testing.assert_allclose(two - zero, 2.0 * (one - zero), atol=1e-9)
