"""YAML reading, run-config merging and --set overrides of brainsim.spec."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from brainsim.spec import SpecError, load_model
from brainsim.spec.merge import parse_override

BASE = """\
name: tiny
parameters: {J: 0.5, g: 4.0}
simulation: {dt: 0.1, t_sim: 100.0, seed: 3}
populations:
  - name: A
    size: 10
    model: iaf_psc_exp
  - name: B
    size: 10
    model: iaf_psc_exp
projections:
  - source: A
    target: B
    rule: {name: fixed_indegree, indegree: 2}
    synapse: &syn {weight: J, delay: 1.0}
  - {source: B, target: A, rule: one_to_one, synapse: *syn}
"""


def write(tmp_path, text, name="model.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def refused(*args, **kwargs) -> str:
    with pytest.raises(SpecError) as info:
        load_model(*args, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_minimal_model_with_defaults(tmp_path):
    model = load_model(write(tmp_path, BASE))
    a = model.population("A")
    assert a.params["V_th"] == -55.0 and a.params["tau_syn_ex"] == 2.0  # NEST defaults
    assert a.initial["V_m"].kind == "constant" and a.initial["V_m"].value == -70.0  # E_L
    assert model.projections[1].rule == "one_to_one"
    assert model.projections[0].synapse_model == "static_synapse"
    assert model.recording.spikes == ("A", "B")
    assert model.output_dir == ""


def test_duplicate_key_names_line(tmp_path):
    path = write(tmp_path, BASE.replace("    size: 10\n", "    size: 10\n    size: 11\n", 1))
    message = refused(path)
    assert f"{path}:7:" in message and "duplicate key 'size'" in message


def test_merge_keys_and_anchors_are_allowed(tmp_path):
    text = BASE + textwrap.dedent("""\
        inputs:
          - &in {type: poisson, target: A, rate: 5.0, weight: 1.0}
          - {<<: *in, target: B, rate: 7.0}
        """)
    model = load_model(write(tmp_path, text))
    assert [(i.target, i.rate) for i in model.poisson_inputs] == [(0, 5.0), (1, 7.0)]


def test_syntax_error_names_line(tmp_path):
    path = write(tmp_path, BASE.replace("seed: 3}", "seed: 3"))
    message = refused(path)
    assert message.startswith(f"{path}:") and "invalid YAML" in message


def test_missing_file():
    message = refused("/nonexistent/model.yaml")
    assert message.startswith("/nonexistent/model.yaml: cannot read file")


def test_error_names_line_and_path(tmp_path):
    path = write(tmp_path, BASE.replace("indegree: 2}", "indegree: -2}"))
    message = refused(path)
    assert message.startswith(f"{path}:14: projections[0].rule.indegree: -2; expected >= 0")


def test_config_deep_merge(tmp_path):
    model_path = write(tmp_path, BASE)
    config = write(tmp_path, """\
        scale: 0.5
        simulation: {t_sim: 200.0}
        parameters: {J: 1.5}
        output: {directory: out/x}
        run: {ranks: 3}
        """, "config.yaml")
    model = load_model(model_path, config)
    assert model.simulation.t_sim == 200.0 and model.simulation.seed == 3  # merged
    assert model.projections[0].weight.value == 1.5
    assert [p.size for p in model.populations] == [5, 5]
    assert model.output_dir == "out/x" and model.document["run"] == {"ranks": 3}


def test_config_errors_name_the_config(tmp_path):
    model_path = write(tmp_path, BASE)
    config = write(tmp_path, "simulation: {t_sim: 100.05}\n", "config.yaml")
    message = refused(model_path, config)
    assert message.startswith(f"{config}:1: simulation.t_sim:")
    config = write(tmp_path, "parameters: {JJ: 1.0}\n", "config2.yaml")
    assert "unknown parameter 'JJ' (did you mean 'J'?)" in refused(model_path, config)
    config = write(tmp_path, "projections: []\n", "config3.yaml")
    assert "not allowed in a run config" in refused(model_path, config)


def test_override_values_are_yaml_scalars(tmp_path):
    path = write(tmp_path, BASE)
    model = load_model(path, overrides=["simulation.seed=99", "simulation.dt=0.05",
                                        "projections[0].rule.allow_autapses=false",
                                        "populations[1].params.V_th=-50",
                                        "recording.spikes=[B]"])
    assert model.simulation.seed == 99 and model.simulation.dt == 0.05
    assert model.projections[0].allow_autapses is False
    assert model.population("B").params["V_th"] == -50.0
    assert model.recording.spikes == ("B",)


def test_override_of_absent_optional_key(tmp_path):
    path = write(tmp_path, BASE)
    model = load_model(path, overrides=["scaling.indegree_scale=0.5", "run.ranks=2"])
    assert model.indegree_scale == 0.5 and model.projections[0].indegree == 1
    assert model.document["run"] == {"ranks": 2}


def test_override_parameter_and_expression(tmp_path):
    path = write(tmp_path, BASE)
    model = load_model(path, overrides=["parameters.J=2", "projections[1].synapse.weight=-g*J"])
    assert model.projections[0].weight.value == 2.0
    assert model.projections[1].weight.value == -8.0


def test_override_errors(tmp_path):
    path = write(tmp_path, BASE)
    message = refused(path, overrides=["simulation.sede=4"])
    assert message.startswith("--set: simulation.sede: unknown key 'sede' (did you mean 'seed'?)")
    assert "did you mean 'dt'" in refused(path, overrides=["simulation.dtt=4"])
    assert "no list 'populaitons' to index (did you mean 'populations'?)" in \
        refused(path, overrides=["populaitons[0].size=3"])
    assert "unknown parameter 'Jx'" in refused(path, overrides=["parameters.Jx=1"])
    assert "index 2 is out of range" in refused(path, overrides=["populations[2].size=3"])
    assert "has no key" in refused(path, overrides=["simulation.dt.x=3"])
    assert "has no '='" in refused(path, overrides=["simulation.dt"])
    message = refused(path, overrides=["populations[0].size=0"])
    assert message.startswith("--set: populations[0].size: 0; expected")


def test_parse_override_paths():
    assert parse_override("projections[3].delay.mean=1.5") == \
        (("projections", 3, "delay", "mean"), 1.5)
    assert parse_override("a[1][2].b=x") == (("a", 1, 2, "b"), "x")
    assert parse_override("a.b=") == (("a", "b"), None)
    with pytest.raises(SpecError):
        parse_override("a..b=1")


def test_unknown_key_suggestion(tmp_path):
    path = write(tmp_path, BASE.replace("    model: iaf_psc_exp\n", "    modle: iaf_psc_exp\n", 1))
    message = refused(path)
    assert "populations[0].modle: unknown key 'modle' (did you mean 'model'?)" in message


def test_spec_does_not_import_mpi_h5py_or_kernels():
    code = ("import sys, brainsim.spec\n"
            "bad = [m for m in ('mpi4py', 'h5py', 'cython_kernels') if m in sys.modules]\n"
            "assert not bad, bad\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_spec_error_attributes():
    err = SpecError("0.04 ms; expected >= dt/2 = 0.05 ms", file="m.yaml",
                    path=("projections", 3, "synapse", "delay"), line=12)
    assert str(err) == "m.yaml:12: projections[3].synapse.delay: 0.04 ms; expected >= dt/2 = 0.05 ms"
    assert err.path == ("projections", 3, "synapse", "delay") and err.line == 12
    assert str(SpecError("a\nb", file="x")) == "x: a b"


def test_example_in_the_format_docs_loads(tmp_path):
    import os
    import re
    docs = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "model-format.md")
    with open(docs, encoding="utf-8") as handle:
        block = re.search(r"## Example\n\n```yaml\n(.*?)```", handle.read(), re.S).group(1)
    model = load_model(write(tmp_path, block))
    assert model.num_neurons == 1000 and model.recording.spikes == ("E",)
