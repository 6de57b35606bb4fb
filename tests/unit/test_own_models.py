"""A model file's own neuron models (`neuron_models:`) as declarations: what loading one
derives (stream items, offsets, ports, charges, the model hash), without compiling."""
from __future__ import annotations

import math
import os

import pytest

from brainsim.catalogue.neurons import NEURON_MODELS, charge_per_unit_weight
from brainsim.equations.declare import FIRST_HASHED_ITEM, MAX_ITEM, init_stream_item
from brainsim.spec import SpecError, load_model
from cli_runner import MODELS

NEURONS = os.path.join(MODELS, "neurons")
TWINS = ("iaf_psc_exp", "iaf_psc_alpha", "iaf_cond_exp", "aeif_cond_exp")


def model_text(model: str, neuron_models: str = "", extra: str = "") -> str:
    return (f"name: own\nsimulation: {{t_sim: 10}}\n{neuron_models}"
            f"populations:\n  - {{name: P, size: 4, model: {model}}}\n{extra}")


def twin_entry(name: str) -> str:
    path = os.path.join(NEURONS, f"{name}.yaml")
    return f"neuron_models:\n  eq_{name}: {{file: '{path}', model: {name}}}\n"


def load_text(tmp_path, text: str, file_name: str = "model.yaml"):
    path = tmp_path / file_name
    path.write_text(text)
    return load_model(str(path))


@pytest.mark.parametrize("name", TWINS)
def test_twin_declaration_matches_the_builtin(tmp_path, name):
    model = load_text(tmp_path, model_text(f"eq_{name}", twin_entry(name)))
    own, builtin = model.neuron_models[f"eq_{name}"], NEURON_MODELS[name]
    assert own.kernel.module is None                      # loading never compiles
    assert own.weight_unit == builtin.weight_unit
    assert own.state_variable("V_m").relative_to == "E_L"
    params = dict(model.populations[0].params)
    for weight in (2.0, -3.0):
        builtin_params = dict(builtin.defaults, **{k: v for k, v in params.items()
                                                    if k in builtin.defaults})
        assert charge_per_unit_weight(own, params, weight) == pytest.approx(
            charge_per_unit_weight(builtin, builtin_params, weight), rel=1e-12)
    for variable in own.state:
        if variable.name in builtin.state_arrays and variable.init_stream_item is not None:
            assert variable.init_stream_item == builtin.state_variable(
                variable.name).init_stream_item


def test_stream_items_are_fixed_per_name_and_keep_clear_of_the_builtins():
    assert init_stream_item("V_m") == 0 and init_stream_item("w") == 7
    items = {init_stream_item(name) for name in ("I_ex", "I_in", "V_th_alpha_1", "m", "h")}
    assert len(items) == 5
    assert all(FIRST_HASHED_ITEM <= item <= MAX_ITEM for item in items)
    assert init_stream_item("I_ex") == init_stream_item("I_ex")


def test_a_reference_to_a_model_its_file_lacks_names_that_file(tmp_path):
    path = os.path.join(NEURONS, "iaf_psc_exp.yaml")
    entry = f"neuron_models:\n  lif: {{file: '{path}', model: iaf_psc_exponential}}\n"
    with pytest.raises(SpecError) as err:
        load_text(tmp_path, model_text("lif", entry))
    message = str(err.value)
    assert message.startswith(path + ":") and "no model 'iaf_psc_exponential'" in message
    assert "expected one of iaf_psc_exp" in message


def test_a_relative_reference_is_read_from_the_model_files_folder(tmp_path):
    (tmp_path / "lib").mkdir()
    source = open(os.path.join(NEURONS, "iaf_psc_exp.yaml")).read()
    (tmp_path / "lib" / "mine.yaml").write_text(source)
    entry = "neuron_models:\n  lif: {file: lib/mine.yaml, model: iaf_psc_exp}\n"
    model = load_text(tmp_path, model_text("lif", entry))
    assert model.neuron_models["lif"].name == "lif"
    # the definition is written into the document: the copy does not need lib/ any more
    assert "equations" in model.document["neuron_models"]["lif"]


def test_a_shipped_equation_model_is_found_by_its_name(tmp_path):
    model = load_text(tmp_path, model_text("aeif_psc_exp"))
    assert model.neuron_models["aeif_psc_exp"].weight_unit == "pA"
    assert "aeif_psc_exp" in model.document["neuron_models"]


def test_the_model_hash_follows_the_definition(tmp_path):
    source = open(os.path.join(NEURONS, "iaf_psc_exp.yaml")).read()
    (tmp_path / "a.yaml").write_text(source)
    (tmp_path / "b.yaml").write_text(source.replace("tau_m: 10 ms", "tau_m: 12 ms"))
    hashes = []
    for lib in ("a.yaml", "a.yaml", "b.yaml"):
        entry = f"neuron_models:\n  lif: {{file: {lib}, model: iaf_psc_exp}}\n"
        hashes.append(load_text(tmp_path, model_text("lif", entry)).model_hash)
    assert hashes[0] == hashes[1] != hashes[2]


def test_dc_compensation_onto_a_twin_equals_the_builtins(tmp_path):
    scaled = ("scale: 0.5\nscaling: {compensation: sqrt, full_scale_rates: {P: 5.0}}\n"
              "projections:\n  - {source: P, target: P, rule: {name: fixed_indegree, "
              "indegree: 2}, synapse: {weight: 40, delay: 1.0}}\n"
              "inputs:\n  - {type: poisson, target: P, rate: 8, indegree: 100, weight: 20}\n")
    builtin = load_text(tmp_path, model_text("iaf_psc_exp", extra=scaled), "builtin.yaml")
    own = load_text(tmp_path, model_text("eq_iaf_psc_exp", twin_entry("iaf_psc_exp"),
                                         scaled), "own.yaml")
    assert builtin.populations[0].params["I_e"] != 0.0
    assert own.populations[0].params["I_e"] == pytest.approx(
        builtin.populations[0].params["I_e"], rel=1e-12)


def test_compensation_onto_a_conductance_model_without_E_L_is_refused(tmp_path):
    entry = """neuron_models:
  cond:
    parameters: {C_m: 250 pF, g_L: 10 nS, E_rest: -70 mV, E_ex: 0 mV, V_th: -55 mV,
                 tau_syn: 2 ms}
    state: {V_m: E_rest}
    equations: |
      dV_m/dt = (-g_L*(V_m - E_rest) + I_syn + I_e + I_stim)/C_m
    receptors: {syn: {kernel: exp, tau: tau_syn, conductance: g_syn, E_rev: E_ex,
                      current: I_syn}}
    threshold: V_m >= V_th
    reset: {V_m: E_rest}
"""
    scaled = ("scale: 0.5\nscaling: {compensation: sqrt, full_scale_rates: {P: 5.0}}\n"
              "inputs:\n  - {type: poisson, target: P, rate: 8, indegree: 100, weight: 1}\n")
    with pytest.raises(SpecError) as err:
        load_text(tmp_path, model_text("cond", entry, scaled))
    assert "scaling.compensation" in str(err.value) and "E_L" in str(err.value)
    # without compensation the same model loads, its charge simply unknown
    model = load_text(tmp_path, model_text("cond", entry))
    declaration = model.neuron_models["cond"]
    assert math.isnan(charge_per_unit_weight(declaration, dict(model.populations[0].params),
                                             1.0))
