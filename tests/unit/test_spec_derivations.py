"""Derivations of the model format (docs/model-format.md): scaling of sizes and rules,
PSP -> PSC, DC compensation, delays, expressions, the model hash."""
from __future__ import annotations

import math
import random
import textwrap

import pytest

from brainsim.spec import SpecError, load_model, psc_over_psp
from brainsim.spec.expressions import ExpressionError, evaluate

BASE = """\
name: net
parameters: {{w: 0.2}}
scale: {scale}
scaling: {scaling}
simulation: {{dt: 0.1, t_sim: 100.0}}
populations:
  - {{name: A, size: {size_a}, model: iaf_psc_exp, params: {{tau_syn_ex: 0.5, tau_syn_in: 1.0}}}}
  - {{name: B, size: 40, model: iaf_psc_delta, params: {{C_m: 2.0}}}}
projections:
{projections}
inputs:
{inputs}
"""


def build(tmp_path, projections="  []", inputs="  []", scale=1.0, scaling="{}",
          size_a=100, overrides=()):
    text = BASE.format(scale=scale, scaling=scaling, size_a=size_a,
                       projections=textwrap.indent(textwrap.dedent(projections), "  "),
                       inputs=textwrap.indent(textwrap.dedent(inputs), "  "))
    path = tmp_path / "net.yaml"
    path.write_text(text.replace("projections:\n  []", "projections: []")
                    .replace("inputs:\n  []", "inputs: []"))
    return load_model(str(path), overrides=list(overrides))


PROJ = "- {{source: {src}, target: {tgt}, rule: {rule}, synapse: {{weight: {w}, delay: 1.0}}}}\n"


def proj(src="A", tgt="A", rule="all_to_all", w="1.0"):
    return PROJ.format(src=src, tgt=tgt, rule=rule, w=w)


# -- sizes ----------------------------------------------------------------------------
@pytest.mark.parametrize("size, scale, expected", [(1065, 0.1, 106), (21915, 0.1, 2192),
                                                   (14395, 0.1, 1440), (3, 0.1, 1),
                                                   (100, 2.5, 250)])
def test_sizes_round_half_even_min_one(tmp_path, size, scale, expected):
    model = build(tmp_path, size_a=size, scale=scale)
    assert model.populations[0].size == expected
    assert model.populations[1].offset == expected


# -- rules ----------------------------------------------------------------------------
def test_fixed_total_number_from_probability(tmp_path):
    model = build(tmp_path, proj(tgt="B", rule="{name: fixed_total_number, "
                                               "connection_probability: 0.1}"), scale=0.5)
    k_full = math.log(1 - 0.1) / math.log(1 - 1 / (100 * 40))
    assert model.projections[0].total_number == round(k_full * 0.5 * 0.5)


def test_fixed_total_number_from_total(tmp_path):
    rule = "{name: fixed_total_number, total_number: 1000}"
    assert build(tmp_path, proj(rule=rule)).projections[0].total_number == 1000
    model = build(tmp_path, proj(rule=rule), scale=0.5, scaling="{indegree_scale: 0.25}")
    assert model.projections[0].total_number == 125


def test_fixed_total_number_zero_probability(tmp_path):
    rule = "{name: fixed_total_number, connection_probability: 0.0}"
    assert build(tmp_path, proj(rule=rule)).projections[0].total_number == 0


def test_fixed_indegree_scaling_rounds_half_even(tmp_path):
    model = build(tmp_path, proj(rule="{name: fixed_indegree, indegree: 25}"),
                  scaling="{indegree_scale: 0.1}")
    assert model.projections[0].indegree == 2  # 2.5 -> 2
    assert model.populations[0].size == 100  # sizes follow `scale` only


def test_pairwise_bernoulli_scaling(tmp_path):
    rule = "{name: pairwise_bernoulli, probability: 0.4}"
    model = build(tmp_path, proj(rule=rule), scale=0.5, scaling="{indegree_scale: 1.0}")
    assert model.projections[0].probability == pytest.approx(0.8)
    with pytest.raises(SpecError, match=r"projections\[0\]\.rule\.probability: .*<= 1 after"):
        build(tmp_path, proj(rule=rule), scale=0.25, scaling="{indegree_scale: 1.0}")


def test_one_to_one_and_all_to_all(tmp_path):
    model = build(tmp_path, proj(rule="one_to_one") + proj(tgt="B"), size_a=40)
    assert [p.rule for p in model.projections] == ["one_to_one", "all_to_all"]


def test_multapse_limits(tmp_path):
    rule = "{name: fixed_total_number, total_number: 9901, allow_multapses: false, " \
           "allow_autapses: false}"
    with pytest.raises(SpecError, match="9900 distinct pairs"):
        build(tmp_path, proj(rule=rule))
    rule = "{name: fixed_indegree, indegree: 100, allow_multapses: false, allow_autapses: false}"
    with pytest.raises(SpecError, match="<= 99 without multapses"):
        build(tmp_path, proj(rule=rule))


# -- weights and delays -----------------------------------------------------------------
def test_psp_weights_use_the_receptor_of_their_sign(tmp_path):
    exc = "{value: 0.5, unit: mV}"
    inh = "{distribution: normal, mean: -0.5, std_rel: 0.1, unit: mV, max: 0.0}"
    model = build(tmp_path, proj(w=exc) + proj(w=inh))
    assert model.projections[0].weight.value == pytest.approx(0.5 * psc_over_psp(250, 10, 0.5))
    inh_w = model.projections[1].weight
    factor = psc_over_psp(250, 10, 1.0)
    assert inh_w.mean == pytest.approx(-0.5 * factor)
    assert inh_w.std == pytest.approx(0.05 * factor) and inh_w.max == 0.0


def test_weights_onto_delta_neurons_are_mV(tmp_path):
    model = build(tmp_path, proj(tgt="B", w="{value: 0.3, unit: mV}") + proj(tgt="B", w="w"))
    assert [p.weight.value for p in model.projections] == [0.3, 0.2]


def test_lognormal_weight_conversion(tmp_path):
    w = "{distribution: lognormal, mu: 0.0, sigma: 0.5, unit: mV}"
    dist = build(tmp_path, proj(w=w)).projections[0].weight
    factor = psc_over_psp(250, 10, 0.5)
    assert dist.kind == "lognormal" and dist.mu == pytest.approx(math.log(factor))
    assert dist.expected() == pytest.approx(factor * math.exp(0.125))


@pytest.mark.parametrize("delay, kind, smallest", [
    ("0.05", "constant", 0.05),
    ("{distribution: uniform, low: 0.0, high: 2.0, min: 0.05}", "uniform", 0.05),
    ("{distribution: lognormal, mu: 0.0, sigma: 1.0, min: 0.1, max: 100.0}", "lognormal", 0.1)])
def test_smallest_valid_delays(tmp_path, delay, kind, smallest):
    """dt/2 (dt = 0.1 ms) is the smallest delay accepted, as a constant or a redraw bound."""
    text = "- {source: A, target: A, rule: all_to_all, synapse: {weight: 1.0, delay: %s}}" % delay
    resolved = build(tmp_path, text).projections[0].delay
    assert resolved.kind == kind
    assert (resolved.value if kind == "constant" else resolved.min) == smallest


def test_uniform_delay_below_one_step(tmp_path):
    text = "- {source: A, target: A, rule: all_to_all, synapse: {weight: 1.0, " \
           "delay: {distribution: uniform, low: 0.0, high: 2.0}}}"
    with pytest.raises(SpecError, match=r"synapse\.delay\.low: 0 ms; expected >= dt/2 = 0.05 ms"):
        build(tmp_path, text)


def test_default_delay_is_nest_default(tmp_path):
    text = "- {source: A, target: A, rule: all_to_all, synapse: {weight: 1.0}}"
    assert build(tmp_path, text).projections[0].delay.value == 1.0


# -- inputs and compensation ------------------------------------------------------------
def test_poisson_and_dc_inputs(tmp_path):
    inputs = """\
    - {type: poisson, target: A, rate: 5.0, indegree: 25, weight: {value: 0.1, unit: mV}, delay: 2.0}
    - {type: poisson, target: B, rate: 300.0, weight: 0.1, start: 10.0, stop: 50.0}
    - {type: dc, target: A, amplitude: 12.5}
    """
    model = build(tmp_path, inputs=inputs, scaling="{indegree_scale: 0.1}")
    first, second = model.poisson_inputs
    assert first.rate == 5.0 * 2  # round(2.5) = 2
    assert first.weight == pytest.approx(0.1 * psc_over_psp(250, 10, 0.5)) and first.delay == 2.0
    assert (second.rate, second.start, second.stop, second.delay) == (300.0, 10.0, 50.0, 1.0)
    dc = model.dc_inputs[0]
    assert (dc.amplitude, dc.start, dc.stop, dc.delay) == (12.5, 0.0, math.inf, 1.0)


def test_sqrt_compensation(tmp_path):
    projections = proj(src="A", tgt="A", rule="{name: fixed_indegree, indegree: 40}", w="10.0") \
        + proj(src="B", tgt="A", rule="{name: pairwise_bernoulli, probability: 0.5}", w="-20.0") \
        + proj(src="A", tgt="B", rule="{name: fixed_total_number, total_number: 800}", w="0.5")
    inputs = "- {type: poisson, target: A, rate: 2.0, indegree: 100, weight: 30.0}\n"
    scaling = "{indegree_scale: 0.25, compensation: sqrt, full_scale_rates: {A: 4.0, B: 10.0}}"
    model = build(tmp_path, projections, inputs, scaling=scaling)
    k = 0.25
    assert model.projections[0].weight.value == pytest.approx(10.0 / math.sqrt(k))
    assert model.poisson_inputs[0].weight == pytest.approx(30.0 / math.sqrt(k))
    assert model.poisson_inputs[0].rate == 2.0 * 25
    # A (iaf_psc_exp, tau_syn_ex 0.5, tau_syn_in 1.0): charge = w * tau_syn
    dc_a = 0.001 * (1 - math.sqrt(k)) * (10.0 * 40 * 0.5 * 4.0 + -20.0 * (0.5 * 40) * 1.0 * 10.0
                                         + 30.0 * 100 * 0.5 * 2.0)
    # B (iaf_psc_delta, C_m 2 pF): charge = w * C_m; in-degree 800 / 40
    dc_b = 0.001 * (1 - math.sqrt(k)) * (0.5 * (800 / 40) * 2.0 * 4.0)
    assert model.population("A").params["I_e"] == pytest.approx(dc_a)
    assert model.population("B").params["I_e"] == pytest.approx(dc_b)


def test_compensation_needs_rates_of_sources(tmp_path):
    scaling = "{indegree_scale: 0.5, compensation: sqrt, full_scale_rates: {A: 1.0}}"
    with pytest.raises(SpecError, match="scaling.full_scale_rates: no rate for B"):
        build(tmp_path, proj(src="B", tgt="A"), scaling=scaling)


def test_no_compensation_at_full_in_degrees(tmp_path):
    scaling = "{compensation: sqrt}"
    model = build(tmp_path, proj(w="3.0"), scaling=scaling, scale=0.5,
                  overrides=["scaling.indegree_scale=1.0"])
    assert model.projections[0].weight.value == 3.0
    assert model.population("A").params["I_e"] == 0.0


# -- model hash and document -------------------------------------------------------------
def test_model_hash(tmp_path):
    base = build(tmp_path, proj()).model_hash
    assert len(base) == 64 and base == build(tmp_path, proj()).model_hash
    assert build(tmp_path, proj(), overrides=["simulation.t_sim=200"]).model_hash == base
    assert build(tmp_path, proj(), overrides=["recording.spikes=[A]"]).model_hash == base
    assert build(tmp_path, proj(), overrides=["output.directory=x"]).model_hash == base
    assert build(tmp_path, proj(), overrides=["simulation.seed=1"]).model_hash != base
    assert build(tmp_path, proj(w="1.5")).model_hash != base
    assert build(tmp_path, proj(), overrides=["parameters.w=0.3"]).model_hash == base  # unused


# -- expressions ------------------------------------------------------------------------
def test_expression_evaluator():
    names = {"g": -4.0, "J": 0.15, "x": 2.0}
    assert evaluate("g * J", names) == pytest.approx(-0.6)
    assert evaluate("-(x ** 3) / 4 + sqrt(16) - abs(g)", names) == pytest.approx(-2.0)
    assert evaluate("exp(log(x)) + min(1, x, 3) + max(x, 5)", names) == pytest.approx(8.0)
    assert evaluate("1e-3", {}) == 0.001


@pytest.mark.parametrize("text, fragment", [
    ("__import__('os')", "calls '__import__'"), ("x.real", "Attribute"),
    ("x[0]", "Subscript"), ("x if x else 1", "IfExp"), ("'a'", "contains 'a'"),
    ("y + 1", "unknown name 'y'"), ("1 / 0", "fails to evaluate"), ("log(-1)", "fails"),
    ("10.0 ** 400", "fails"), ("(-8) ** 0.5", "complex"), ("min(1)", "at least 2"),
    ("exp", "without calling"), ("1 <", "not a number nor a valid expression"),
    ("sqrt(x=1)", "calls 'sqrt'"), ("lambda: 1", "Lambda"), ("True", "contains True")])
def test_expression_refusals(text, fragment):
    with pytest.raises(ExpressionError) as info:
        evaluate(text, {"x": 1.0})
    assert fragment in str(info.value)


def test_expression_matches_python_arithmetic():
    rng = random.Random(7)
    for _ in range(500):
        names = {"a": rng.uniform(-1e6, 1e6), "b": rng.uniform(-1e3, 1e3), "c": rng.uniform(1, 9)}
        text = rng.choice(["a + b * c", "(a - b) / c", "-a * -b", "a / c ** 2", "c ** (b / 1e3)"])
        assert evaluate(text, names) == eval(text, {}, names)


def test_parameters_refer_to_earlier_ones(tmp_path):
    path = tmp_path / "p.yaml"
    text = BASE.format(scale=1.0, scaling="{}", size_a=10, projections="  []", inputs="  []")
    path.write_text(text.replace("parameters: {w: 0.2}",
                                 "parameters: {a: 2, b: a * 3, n: b * 5}")
                    .replace("size: 10,", "size: n,"))
    model = load_model(str(path))
    assert model.populations[0].size == 30 and model.document["parameters"]["b"] == 6.0
    path.write_text(text.replace("parameters: {w: 0.2}", "parameters: {b: a * 3, a: 2}"))
    with pytest.raises(SpecError, match=r"parameters\.b: 'a \* 3' uses unknown name 'a'"):
        load_model(str(path))
