"""The neuron model catalogue (docs/architecture.md §11): every declared model has a NumPy
twin run against its kernel, a NEST 3.10 reference case and a docs section whose tables
are generated from it; its kernel's column and argument names are the declaration's;
declarations and the registry refuse what contradicts itself; a model declared at run
time, from data, runs like the built-in it copies."""
from __future__ import annotations

import dataclasses
import glob
import inspect
import json
import os
import re
import subprocess
import sys
import types

import numpy as np
import pytest
import yaml

from cli_runner import REPO
from brainsim.catalogue.neurons import (NEURON_MODELS, DeclarationError, NeuronModel,
                                        Parameter, ReceptorPort, StateVariable, docs_tables,
                                        neuron_models)
from brainsim.catalogue.neurons.declaration import INT32
from brainsim.engine.comm import SerialComm
from brainsim.engine.simulation import Engine
from brainsim.network.build import build_local_network
from brainsim.network.estimate import neuron_state_bytes
from brainsim.network.inputs import dc_table, poisson_table
from brainsim.network.neurons import KernelMismatch, NeuronGroup, bind_kernel
from brainsim.network.partition import make_partition
from brainsim.spec import load_model
from brainsim.spec.errors import Sources
from brainsim.spec.resolve import resolve
from brainsim.spec.yaml_loader import read_yaml
from cython_kernels import iaf_psc_exp
from cython_kernels.columns import columns_in_order

KERNEL_TESTS = os.path.join(REPO, "tests", "kernels")
sys.path.insert(0, KERNEL_TESTS)
from model_twins import NEURON_TWINS  # noqa: E402

DOCS = os.path.join(REPO, "docs", "neuron-models.md")
IAF = NEURON_MODELS["iaf_psc_exp"]


def read(path: str) -> str:
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def reference_cases() -> dict[str, list[str]]:
    """model -> ["file: case", ...] over the NEST reference files a scientific test reads."""
    scientific = "".join(read(p) for p in glob.glob(os.path.join(REPO, "tests", "scientific",
                                                                 "*.py")))
    cases: dict[str, list[str]] = {}
    for path in sorted(glob.glob(os.path.join(REPO, "tests", "reference",
                                              "nest_reference*.json"))):
        name = os.path.basename(path)
        if name not in scientific:
            continue
        for case_name, case in json.loads(read(path))["cases"].items():
            models = ({case["model"]} if "model" in case
                      else set(case.get("models", {}).values()))
            for model in models:
                cases.setdefault(model, []).append(f"{name}: {case_name}")
    return cases


def _kernel_module_name(model: NeuronModel) -> str:
    kernel = model.kernel if isinstance(model.kernel, str) else model.kernel.__name__
    return kernel.rsplit(".", 1)[-1]


def missing_companions(models, twins: dict, references: dict, docs: str) -> list[str]:
    """What each model lacks of its twin, its NEST reference case and its docs section."""
    problems = []
    for model in models:
        twin = twins.get(model.name)
        if twin is None:
            problems.append(f"{model.name}: no twin in tests/kernels/model_twins.NEURON_TWINS")
        else:
            test = read(os.path.join(KERNEL_TESTS, twin.test_module))
            if twin.called_as not in test or _kernel_module_name(model) not in test:
                problems.append(f"{model.name}: {twin.test_module} does not run "
                                f"{twin.called_as} against its kernel")
        if model.name not in references:
            problems.append(f"{model.name}: no NEST reference case in a "
                            "tests/reference/nest_reference*.json read by tests/scientific")
        if not re.search(rf"^## .*\b{re.escape(model.name)}\b", docs, re.M):
            problems.append(f"{model.name}: no section in docs/neuron-models.md")
        if docs_tables.models_without_tables(docs, [model]):
            problems.append(f"{model.name}: no generated tables in docs/neuron-models.md")
    return problems


def test_every_model_has_a_twin_a_nest_reference_case_and_a_docs_section():
    assert set(NEURON_TWINS) == set(NEURON_MODELS)
    assert missing_companions(NEURON_MODELS.values(), NEURON_TWINS, reference_cases(),
                              read(DOCS)) == []


def test_a_model_added_without_them_is_named():
    dummy = dataclasses.replace(IAF, name="dummy_lif")
    problems = missing_companions([*NEURON_MODELS.values(), dummy], NEURON_TWINS,
                                  reference_cases(), read(DOCS))
    assert problems == [
        "dummy_lif: no twin in tests/kernels/model_twins.NEURON_TWINS",
        "dummy_lif: no NEST reference case in a tests/reference/nest_reference*.json read "
        "by tests/scientific",
        "dummy_lif: no section in docs/neuron-models.md",
        "dummy_lif: no generated tables in docs/neuron-models.md"]


def test_a_twin_that_no_test_runs_is_named():
    twins = dict(NEURON_TWINS, izhikevich=dataclasses.replace(
        NEURON_TWINS["izhikevich"], called_as="mt.izhikevich_step_unused"))
    assert missing_companions([NEURON_MODELS["izhikevich"]], twins, reference_cases(),
                              read(DOCS)) == [
        "izhikevich: test_new_models.py does not run mt.izhikevich_step_unused against "
        "its kernel"]


def test_committed_docs_tables_are_those_of_the_declarations():
    text = read(DOCS)
    assert docs_tables.with_tables(text, NEURON_MODELS.values()) == text, \
        "run: python -m brainsim.catalogue.neurons.docs_tables"
    changed = dataclasses.replace(IAF, parameters=tuple(
        dataclasses.replace(p, default=12.5) if p.name == "tau_m" else p
        for p in IAF.parameters))
    assert docs_tables.with_tables(text, [changed]) != text


@pytest.mark.parametrize("name", sorted(NEURON_MODELS))
def test_the_kernel_names_what_the_declaration_packs_and_passes(name):
    model = NEURON_MODELS[name]
    bound = bind_kernel(model)
    kernel = bound.kernel
    arguments = tuple(inspect.signature(kernel.update).parameters)
    assert arguments[3:3 + len(bound.update_state)] == kernel.STATE_ARGUMENTS \
        == bound.update_state
    assert arguments[3 + len(bound.update_state)] == "ring"
    assert set(kernel.STATE_ARGUMENTS) == set(model.state_arrays)
    assert bound.columns == kernel.SEGMENT_COLUMNS
    row = bound.segment_params(dict(model.defaults), 0.1)
    assert len(row) == len(kernel.SEGMENT_COLUMNS)


def test_a_builtin_that_disagrees_with_its_kernel_stops_the_import():
    code = ("import dataclasses, brainsim.catalogue.neurons as catalogue\n"
            "m = catalogue.BUILTIN[0]\n"
            "catalogue.BUILTIN = (dataclasses.replace(m, state=m.state[-2::-1]),"
            " *catalogue.BUILTIN[1:])\n"
            "import brainsim.network.neurons\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode != 0
    assert "KernelMismatch: iaf_psc_exp: state arrays" in done.stderr
    assert "only in the kernel: ['refractory']" in done.stderr   # the order is free


def test_a_misnamed_segment_constant_stops_the_binding():
    def renamed(p, dt, kernel):
        constants = IAF.segment_constants(p, dt, kernel)
        constants["P_22"] = constants.pop("P22")
        return constants
    with pytest.raises(KernelMismatch, match=r"only declared: \['P_22'\].*only in the "
                                             r"kernel: \['P22'\]"):
        bind_kernel(dataclasses.replace(IAF, segment_constants=renamed))


def test_a_state_array_the_kernel_takes_but_the_declaration_lacks_stops_the_binding():
    without = tuple(v for v in IAF.state if v.name != "i_syn_in")
    with pytest.raises(KernelMismatch, match=r"state arrays.*only in the kernel: "
                                             r"\['i_syn_in'\]"):
        bind_kernel(dataclasses.replace(IAF, state=without))


def fake_kernel(state_arguments, signature_state, columns=("x",)):
    """A kernel module whose update takes signature_state and that exports the given
    STATE_ARGUMENTS; update records which arrays it got in which position."""
    module = types.ModuleType("fake_kernel")
    names = ", ".join(signature_state)
    source = (f"def update(seg_begin, seg_end, seg_params, {names}, ring, local_gids, plan, "
              f"first_step, n_steps, seed, spike_keys, i_ext=None):\n"
              f"    module.received = [{names}]\n    return 0\n")
    exec(source, {"module": module}, module.__dict__)
    module.STATE_ARGUMENTS = tuple(state_arguments)
    module.SEGMENT_COLUMNS = tuple(columns)
    return module


def two_variable_model(kernel) -> NeuronModel:
    return NeuronModel(
        name="two_variable", parameters=(Parameter("x", "mV", 1.0),),
        state=(StateVariable("V_m", "mV"), StateVariable("i_0", "pA")), weight_unit="pA",
        kernel=kernel, segment_constants=lambda p, dt, k: {"x": p["x"]},
        charge=lambda p, port: 0.0,
        receptors=(ReceptorPort("ex", 0, +1), ReceptorPort("in", 1, -1)))


def test_state_arguments_that_are_not_the_update_signature_stop_the_binding():
    with pytest.raises(KernelMismatch, match="not the state arguments"):
        bind_kernel(two_variable_model(fake_kernel(("V_m", "i_0"), ("i_0", "V_m"))))


def test_state_arrays_go_to_the_kernel_by_name_in_its_argument_order():
    kernel = fake_kernel(("i_0", "V_m"), ("i_0", "V_m"))
    bound = bind_kernel(two_variable_model(kernel))
    assert bound.update_state == ("i_0", "V_m")
    empty = {}
    group = NeuronGroup(model=bound, populations=[0], seg_begin=np.array([0]),
                        seg_end=np.array([2]), seg_params=np.array([[1.0]]),
                        poisson=poisson_table((), empty, 0.1), dc=dc_table((), empty, 0.1))
    state = {"V_m": np.zeros(2), "i_0": np.ones(2)}
    group.update(state, np.zeros((2, 2, 2)), np.arange(2), 0, 1, 1, np.zeros(2, np.uint64))
    assert kernel.received[0] is state["i_0"] and kernel.received[1] is state["V_m"]


def test_receptor_ports_the_ring_lacks_stop_the_binding():
    model = dataclasses.replace(
        two_variable_model(fake_kernel(("V_m", "i_0"), ("V_m", "i_0"))),
        receptors=(ReceptorPort("ex", 0, +1), ReceptorPort("nmda", 2, -1)))
    with pytest.raises(KernelMismatch, match="receptor ports"):
        bind_kernel(model)


def test_kernel_columns_name_every_enum_index_once():
    assert columns_in_order(3, c=2, a=0, b=1) == ("a", "b", "c")
    with pytest.raises(ValueError, match="exactly once"):
        columns_in_order(3, a=0, b=2)
    with pytest.raises(ValueError, match="exactly once"):
        columns_in_order(2, a=0, b=0)


@pytest.mark.parametrize("change, message", [
    (dict(parameters=IAF.parameters + (Parameter("C_m", "pF", 1.0),)),
     "parameter 'C_m' declared twice"),
    (dict(state=IAF.state + (StateVariable("n", "1", initial="n_0", init_stream_item=9),)),
     "starts at parameter 'n_0', which is not declared"),
    (dict(state=IAF.state + (StateVariable("n", "1", initial=0.0),)),
     "'n' is initialisable but has no init_stream_item"),
    (dict(parameters=IAF.parameters + (Parameter("noisy", "", 1.0, flag=True),)),
     "a flag needs a boolean default"),
    (dict(state=IAF.state + (StateVariable("n", "1", relative_to="E_0"),)),
     "stored relative to 'E_0', which is not an expression over parameters"),
    (dict(receptors=(ReceptorPort("ex", 0, +1, "tau_syn_ex"),
                     ReceptorPort("in", 0, -1, "tau_syn_in"))),
     "shares a channel"),
])
def test_a_declaration_that_contradicts_itself_is_refused(change, message):
    with pytest.raises(DeclarationError, match=re.escape(message)):
        dataclasses.replace(IAF, **change)


def test_a_model_files_own_models_are_merged_with_the_builtins():
    own = dataclasses.replace(IAF, name="my_lif")
    merged = neuron_models([own])
    assert merged["my_lif"] is own and set(merged) == set(NEURON_MODELS) | {"my_lif"}
    assert "my_lif" not in NEURON_MODELS and neuron_models() is NEURON_MODELS
    with pytest.raises(DeclarationError, match="'iaf_psc_exp' is a built-in model"):
        neuron_models([IAF])
    int_v = dataclasses.replace(own, state=tuple(
        dataclasses.replace(v, dtype=INT32) if v.name == "V_m" else v for v in own.state))
    with pytest.raises(DeclarationError, match="'V_m' is int32 in my_lif but float64"):
        neuron_models([int_v])
    clash = dataclasses.replace(own, state=own.state + (
        StateVariable("n", "1", initial=0.0, init_stream_item=8),))
    with pytest.raises(DeclarationError, match="INIT stream item 8 is used by both"):
        neuron_models([clash])


def test_receptors_are_chosen_by_the_weight_sign():
    cond = NEURON_MODELS["iaf_cond_exp"]
    assert cond.receptor_for(0.0).reversal == "E_ex"
    assert cond.receptor_for(-1e-300).reversal == "E_in"
    assert IAF.receptor_for(-2.0).time_constant == "tau_syn_in"


def test_neuron_state_bytes_follow_the_declared_arrays(tmp_path):
    def memory_of(model_name):
        path = tmp_path / f"{model_name}.yaml"
        path.write_text(yaml.safe_dump({"name": "m", "simulation": {"t_sim": 1.0},
                                        "populations": [{"name": "A", "size": 1,
                                                         "model": model_name}]}))
        return neuron_state_bytes(load_model(str(path)))
    # V_m, i_0 (float64), refractory (int32) in every network, gid 8 and population 2 B
    assert memory_of("parrot_neuron") == 8 + 8 + 4 + 10
    assert memory_of("iaf_psc_exp") == 8 * 4 + 4 + 10                  # + i_syn_ex, i_syn_in
    assert memory_of("aeif_cond_exp") == 8 * 6 + 4 + 10     # + g_ex, g_in, w, ode_h


NETWORK = """
name: run_time_model
simulation: {dt: 0.1, t_sim: 60.0, seed: 3}
populations:
  - {name: E, size: 20, model: MODEL, params: {I_e: 300.0}, initial:
     {V_m: {distribution: uniform, low: -70.0, high: -55.0}}}
projections:
  - {source: E, target: E, rule: {name: fixed_indegree, indegree: 5},
     synapse: {weight: 40.0, delay: 1.5}}
inputs:
  - {type: poisson, target: E, rate: 8000.0, weight: 20.0}
"""


def run_network(tmp_path, model_name: str, own=()):
    """Spike keys of every epoch and the final state of NETWORK with the given model."""
    path = tmp_path / f"{model_name}.yaml"
    path.write_text(NETWORK.replace("MODEL", model_name))
    doc, lines = read_yaml(str(path))
    model = resolve(doc, Sources(str(path), lines), str(path), own_models=own)
    network = build_local_network(model, make_partition(model, 1), 0)
    keys = []

    class Collect:
        def record(self, spikes, first_step):
            keys.append((first_step, np.array(spikes).tolist()))

    engine = Engine(network, SerialComm(), model.simulation.seed, model.simulation.dt,
                    recorder=Collect())
    engine.run_until(600)
    return keys, network.state


def test_a_model_declared_at_run_time_runs_like_the_builtin_it_copies(tmp_path):
    own = dataclasses.replace(IAF, name="my_lif", kernel=iaf_psc_exp)   # a module object
    builtin_spikes, builtin_state = run_network(tmp_path, "iaf_psc_exp")
    own_spikes, own_state = run_network(tmp_path, "my_lif", own=[own])
    assert sum(len(k) for _, k in builtin_spikes) > 20
    assert own_spikes == builtin_spikes
    assert set(own_state) == set(builtin_state)
    for name, values in builtin_state.items():
        np.testing.assert_array_equal(own_state[name], values, err_msg=name)


def test_state_reports_carry_the_declared_units(tmp_path):
    import h5py
    from brainsim.engine.run import run_model
    path = tmp_path / "units.yaml"
    path.write_text(yaml.safe_dump({
        "name": "units", "simulation": {"t_sim": 5.0},
        "populations": [{"name": "Z", "size": 2, "model": "izhikevich"},
                        {"name": "E", "size": 2, "model": "iaf_psc_exp"}],
        "recording": {"state": [{"population": "Z", "variables": ["U_m", "V_m"]},
                                {"population": "E", "variables": ["i_syn_ex", "V_m"]}]}}))
    run_model(load_model(str(path)), SerialComm(), str(tmp_path / "out"), show_progress=False)
    units = {}
    for variable in ("U_m", "i_syn_ex", "V_m"):
        with h5py.File(tmp_path / "out" / f"report_{variable}.h5", "r") as report:
            for population, group in report["report"].items():
                units[variable, population] = group["data"].attrs["units"]
    assert units == {("U_m", "Z"): "mV/ms", ("i_syn_ex", "E"): "pA", ("V_m", "Z"): "mV",
                     ("V_m", "E"): "mV"}
