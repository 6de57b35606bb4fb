"""Equation models (`neuron_models:`) run like built-ins.

- The built-ins written as equation models (models/neurons/*.yaml, used through
  `{file: ..., model: ...}` under another name) give the built-ins' spikes and V_m bit for
  bit in a recurrent network with every input type (Poisson, dc, noise_generator,
  spike_generator): iaf_psc_exp and iaf_psc_alpha (exact propagators), iaf_cond_exp and
  aeif_cond_exp (RKF45, the equations written in NEST's order of operations), izhikevich
  (`update:`, NEST's own Euler step).
- A model file's own model runs on 1 and 2 ranks with identical output, and resumes from
  a checkpoint on another number of ranks bit for bit.
- A population may name a shipped equation model (aeif_psc_exp) directly.
"""
from __future__ import annotations

import os

import numpy as np
import pytest
import yaml

from brainsim.engine.comm import SerialComm
from brainsim.engine.simulation import Engine
from brainsim.equations.declare import compile_in_parallel
from brainsim.network.build import build_local_network
from brainsim.network.partition import make_partition
from brainsim.spec import load_model
from cli_runner import MODELS, run_brainsim

DT = 0.1
NEURONS = os.path.join(MODELS, "neurons")
# model: (excitatory weight, inhibitory weight (native unit), Poisson rate Hz, dc pA)
TWINS = {
    "iaf_psc_exp": (40.0, -160.0, 8000.0, 200.0),
    "iaf_psc_alpha": (30.0, -120.0, 8000.0, 200.0),
    "iaf_cond_exp": (2.0, -8.0, 8000.0, 200.0),
    "aeif_cond_exp": (2.0, -8.0, 8000.0, 800.0),
    "izhikevich": (2.0, -6.0, 3000.0, 3.0),
}


def network(model: str, weights) -> dict:
    """E (40) and I (10) of one model, recurrent, with every input type."""
    w_ex, w_in, rate, dc = weights
    rule = lambda k: {"name": "fixed_indegree", "indegree": k}   # noqa: E731
    return {
        "name": "twin", "simulation": {"dt": DT, "t_sim": 300.0, "seed": 7},
        "populations": [{"name": "E", "size": 40, "model": model},
                        {"name": "I", "size": 10, "model": model}],
        "projections": [
            {"source": "E", "target": "E", "rule": rule(8), "synapse": {"weight": w_ex, "delay": 1.5}},
            {"source": "E", "target": "I", "rule": rule(8), "synapse": {"weight": w_ex, "delay": 1.0}},
            {"source": "I", "target": "E", "rule": rule(4), "synapse": {"weight": w_in, "delay": 0.8}}],
        "inputs": [
            {"type": "poisson", "target": "E", "rate": rate, "weight": w_ex},
            {"type": "poisson", "target": "I", "rate": rate, "weight": w_ex},
            {"type": "dc", "target": "E", "amplitude": dc, "start": 20.0},
            {"type": "noise_generator", "target": "I", "mean": dc / 2, "std": dc / 4},
            {"type": "spike_generator", "target": "E", "spike_times": [50.0, 50.0, 120.3],
             "weight": 3 * w_ex}]}


def twin_network(model: str) -> dict:
    doc = network("eq_" + model, TWINS[model])
    doc["neuron_models"] = {"eq_" + model: {"file": os.path.join(NEURONS, f"{model}.yaml"),
                                            "model": model}}
    return doc


def loaded(doc: dict, folder) -> object:
    path = os.path.join(folder, doc["populations"][0]["model"] + ".yaml")
    with open(path, "w") as handle:
        yaml.safe_dump(doc, handle, sort_keys=False)
    return load_model(path)


def simulate(model) -> tuple[list, np.ndarray]:
    """(sorted (step, gid) spikes, V_m in mV absolute after every 10 ms), in-process."""
    network_ = build_local_network(model, make_partition(model, 1), 0)
    spikes = []

    class Collect:
        def record(self, keys, first_step):
            spikes.extend((first_step + (int(k) >> 32), int(k) & 0xFFFFFFFF) for k in keys)

    engine = Engine(network_, SerialComm(), model.simulation.seed, DT, recorder=Collect())
    declaration = model.neuron_model_of(model.populations[0])
    offset = declaration.stored_offset("V_m", dict(model.populations[0].params))
    traces = []
    for step in range(100, 3001, 100):
        engine.run_until(step)
        traces.append(network_.state["V_m"] + offset)
    return sorted(spikes), np.array(traces)


@pytest.fixture(scope="module")
def twin_models(tmp_path_factory):
    """Every twin resolved, their kernels compiled at once (one compiler per core)."""
    folder = tmp_path_factory.mktemp("twins")
    models = {name: (loaded(network(name, TWINS[name]), folder),
                     loaded(twin_network(name), folder)) for name in TWINS}
    compile_in_parallel([own.neuron_models["eq_" + name].kernel
                         for name, (_, own) in models.items()])
    return models


@pytest.mark.parametrize("name", list(TWINS))
def test_equation_twin_of_a_builtin_gives_its_spikes_and_V_m_bit_for_bit(twin_models, name):
    builtin, own = twin_models[name]
    spikes, traces = simulate(builtin)
    own_spikes, own_traces = simulate(own)
    assert len(spikes) > 100          # the network is active, the comparison is not empty
    assert own_spikes == spikes
    assert np.array_equal(own_traces, traces)


def test_the_twin_is_an_equation_model_with_its_own_kernel(twin_models):
    builtin, own = twin_models["iaf_psc_exp"]
    declaration = own.neuron_models["eq_iaf_psc_exp"]
    assert type(declaration.kernel).__name__ == "GeneratedKernel"
    assert declaration.kernel.module.__name__.startswith("brainsim_kernel_eq_iaf_psc_exp_")
    assert own.model_hash != builtin.model_hash
    # the definition is written into the resolved document: a run's copy stands alone
    assert "equations" in own.document["neuron_models"]["eq_iaf_psc_exp"]


OWN_MODEL = """\
name: own_model
simulation: {t_sim: 200, dt: 0.1, seed: 3}
neuron_models:
  adaptive_lif:
    parameters: {C_m: 250 pF, tau_m: 10 ms, E_L: -70 mV, V_th: -55 mV, V_reset: -70 mV,
                 t_ref: 2 ms, tau_w: 100 ms, b: 20 pA, tau_syn_ex: 2 ms, tau_syn_in: 2 ms,
                 I_e: 0 pA}
    state: {V_m: E_L, w: 0 pA}
    expressions:
      I_net: I_ex + I_in - w    # recordable, computed from the state when sampled
    equations: |
      dV_m/dt = -(V_m - E_L)/tau_m + (I_net + I_e + I_stim)/C_m
      dw/dt = -w/tau_w
    receptors: {ex: {kernel: exp, tau: tau_syn_ex, current: I_ex},
                in: {kernel: exp, tau: tau_syn_in, current: I_in}}
    threshold: V_m >= V_th
    reset: {V_m: V_reset, w: w + b}
    refractory: {duration: t_ref, clamp: [V_m]}
populations:
  - {name: E, size: 60, model: adaptive_lif, params: {I_e: 300},
     initial: {V_m: {distribution: uniform, low: -70, high: -56}}}
  - {name: I, size: 15, model: aeif_psc_exp, params: {I_e: 650}}
projections:
  - {source: E, target: E, rule: {name: fixed_indegree, indegree: 10},
     synapse: {weight: 30, delay: 1.5}}
  - {source: E, target: I, rule: {name: fixed_indegree, indegree: 10},
     synapse: {weight: 40, delay: 1.0}}
  - {source: I, target: E, rule: {name: fixed_indegree, indegree: 5},
     synapse: {weight: -120, delay: 0.8}}
inputs:
  - {type: poisson, target: E, rate: 2000, weight: 20}
recording:
  state: [{population: E, variables: [V_m, w], count: 5, interval: 0.5}]
"""


def outputs(outdir) -> dict:
    import h5py
    result = {}
    with h5py.File(os.path.join(outdir, "spikes.h5"), "r") as f:
        for name, group in f["spikes"].items():
            order = np.lexsort((group["node_ids"][()], group["timestamps"][()]))
            result[name] = (group["timestamps"][()][order].tobytes(),
                            group["node_ids"][()][order].tobytes())
    for variable in ("V_m", "w"):
        with h5py.File(os.path.join(outdir, f"report_{variable}.h5"), "r") as f:
            result[variable] = f["report/E/data"][()].tobytes()
    return result


@pytest.fixture(scope="module")
def own_model_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("own") / "own_model.yaml"
    path.write_text(OWN_MODEL)
    return str(path)


@pytest.fixture(scope="module")
def straight(own_model_file, tmp_path_factory):
    outdir = str(tmp_path_factory.mktemp("straight") / "out")
    done = run_brainsim(["run", own_model_file, "-o", outdir, "--no-progress"], ranks=2)
    assert done.returncode == 0, done.stdout + done.stderr
    return outputs(outdir)


def test_own_model_runs_and_its_state_is_recorded(straight):
    assert len(straight["E"][0]) > 0 and len(straight["I"][0]) > 0
    assert len(straight["w"]) > 0


def test_own_model_output_is_the_same_on_one_rank(own_model_file, straight, tmp_path):
    outdir = str(tmp_path / "out")
    done = run_brainsim(["run", own_model_file, "-o", outdir, "--no-progress"])
    assert done.returncode == 0, done.stdout + done.stderr
    assert outputs(outdir) == straight


def test_own_model_resumes_from_a_checkpoint_on_other_ranks_bit_for_bit(
        own_model_file, straight, tmp_path):
    outdir = str(tmp_path / "out")
    done = run_brainsim(["run", own_model_file, "-o", outdir, "--no-progress",
                         "--set", "simulation.t_sim=100", "--checkpoint-at-end"], ranks=1)
    assert done.returncode == 0, done.stdout + done.stderr
    done = run_brainsim(["resume", outdir, "--no-progress", "--set",
                         "simulation.t_sim=200"], ranks=3)
    assert done.returncode == 0, done.stdout + done.stderr
    assert outputs(outdir) == straight


def test_expressions_of_an_equation_model_are_recorded_from_its_state(own_model_file,
                                                                       tmp_path):
    """The expression I_net = I_ex + I_in - w is sampled like a state variable."""
    import h5py
    outdir = str(tmp_path / "out")
    recording = ("recording.state=[{population: E, variables: [I_ex, I_in, w, I_net], "
                 "count: 4, interval: 0.5}]")
    done = run_brainsim(["run", own_model_file, "-o", outdir, "--no-progress",
                         "--set", recording])
    assert done.returncode == 0, done.stdout + done.stderr
    data = {}
    for variable in ("I_ex", "I_in", "w", "I_net"):
        with h5py.File(os.path.join(outdir, f"report_{variable}.h5"), "r") as f:
            data[variable] = f["report/E/data"][()].astype(np.float64)
            assert f["report/E/data"].attrs["units"] == "pA"
    assert np.abs(data["I_in"]).max() > 0 and data["w"].max() > 0   # all three matter
    expected = data["I_ex"] + data["I_in"] - data["w"]
    assert np.allclose(data["I_net"], expected, rtol=1e-6, atol=1e-3)   # float32 frames


def test_stdp_onto_an_equation_twin_equals_stdp_onto_the_builtin(twin_models, tmp_path):
    """Equation models archive their spikes as NEST's ArchivingNode (tau_minus): STDP
    weights onto the iaf_psc_exp twin evolve bit for bit as onto the built-in."""
    def with_stdp(doc: dict) -> dict:
        doc["projections"][0]["synapse"] = {
            "model": "stdp_synapse", "weight": 40.0, "delay": 1.5,
            "params": {"tau_plus": 15.0, "lambda": 0.05, "alpha": 1.1, "Wmax": 120.0}}
        doc["populations"][0]["params"] = {"tau_minus": 25.0}
        return doc
    runs = []
    for doc in (network("iaf_psc_exp", TWINS["iaf_psc_exp"]), twin_network("iaf_psc_exp")):
        model = loaded(with_stdp(doc), tmp_path)
        network_ = build_local_network(model, make_partition(model, 1), 0)
        engine = Engine(network_, SerialComm(), model.simulation.seed, DT)
        engine.run_until(3000)
        (plastic,) = network_.plastic
        runs.append(plastic.weight.copy())
    assert not np.all(runs[0] == 40.0)            # the weights did change
    assert np.array_equal(runs[0], runs[1])
