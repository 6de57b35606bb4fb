"""The two NEST models with spike conditions beyond `V_m >= V_th` and a reset:
hh_psc_alpha (spike when V_m >= 0 mV and falling: prev(V_m) > V_m; RKF45; refractoriness
without a clamp) and mat2_psc_exp (exact, a threshold of two decaying components that
jump on a spike, V_m never reset; refractoriness only disables the threshold); the
threshold constructs `and` and prev(X)."""
import math

import pytest

from brainsim.codegen.kernel_spec import ExactUpdate, Rkf45Update
from brainsim.equations.ir import Rkf45Control, Threshold
from brainsim.equations.lower import lower
from brainsim.spec.expressions import evaluate
from equation_yaml import parse_text
from shipped import NEURONS, defaults, shipped_ir, text_ir
from test_parse_models import EXAMPLE


def nest_steady_state(v):
    """NEST's State_ constructor of hh_psc_alpha at y_[0] = v: (m, h, n)."""
    alpha_n = (0.01 * (v + 55.)) / (1. - math.exp(-(v + 55.) / 10.))
    beta_n = 0.125 * math.exp(-(v + 65.) / 80.)
    alpha_m = (0.1 * (v + 40.)) / (1. - math.exp(-(v + 40.) / 10.))
    beta_m = 4. * math.exp(-(v + 65.) / 18.)
    alpha_h = 0.07 * math.exp(-(v + 65.) / 20.)
    beta_h = 1. / (1. + math.exp(-(v + 35.) / 10.))
    return (alpha_m / (alpha_m + beta_m), alpha_h / (alpha_h + beta_h),
            alpha_n / (alpha_n + beta_n))


def test_hh_psc_alpha_parses_with_nest_defaults_and_initial_state():
    model = parse_text((NEURONS / "hh_psc_alpha.yaml").read_text(), "hh_psc_alpha.yaml")
    p = {q.name: q.default for q in model.parameters}
    assert p == {"I_e": 0.0, "C_m": 100.0, "g_Na": 12000.0, "g_K": 3600.0, "g_L": 30.0,
                 "E_Na": 50.0, "E_K": -77.0, "E_L": -54.402, "tau_syn_ex": 0.2,
                 "tau_syn_in": 2.0, "t_ref": 2.0}
    initial = {s.name: evaluate(s.initial, p) for s in model.state}
    m, h, n = nest_steady_state(-65.0)
    assert initial == {"V_m": -65.0, "Act_m": m, "Inact_h": h, "Act_n": n}   # bit for bit
    assert model.threshold == Threshold("V_m", ">=", "0 * mV", more=(("prev(V_m)", ">", "V_m"),),
                                        previous=("V_m",))
    assert model.threshold.text == "V_m >= 0 * mV and prev(V_m) > V_m"
    assert model.reset == () and model.clamped == () and model.refractory_duration == "t_ref"
    assert model.rkf45 == Rkf45Control(eps_abs=1e-3, eps_rel=0.0, a_y=1.0, a_dydt=0.0,
                                       spike_within_step=False)


def test_hh_psc_alpha_lowers_to_rkf45_with_a_start_of_step_copy_of_V_m():
    ir = shipped_ir("hh_psc_alpha")
    assert ir.scheme == "rkf45" and ir.previous == ("V_m",)
    assert [s.name for s in ir.state] == ["V_m", "Act_m", "Inact_h", "Act_n", "I_syn_ex",
                                          "dI_syn_ex", "I_syn_in", "dI_syn_in"]
    spec = lower(ir).spec
    assert isinstance(spec.update, Rkf45Update) and spec.update.spike_within_step is False
    assert (spec.update.eps_abs, spec.update.eps_rel, spec.update.a_y,
            spec.update.a_dydt) == ("0.001", "0.0", "1.0", "0.0")
    assert spec.previous == (("prev_V_m", "V_m"),)
    assert spec.threshold == "V_m >= 0.0 * 1.0 and prev_V_m > V_m"
    assert spec.reset == () and spec.update.held == ()
    assert spec.refractory_steps == "refractory_counts"      # counted after the step
    derivatives = dict(spec.update.derivatives)
    assert derivatives["V_m"] == "(-(I_Na + I_K + I_L) + I_stim + I_e + I_syn_ex + I_syn_in) / C_m"
    assert not any("is_refractory" in text for text in derivatives.values())
    # weights < 0 go to the inhibitory alpha current with their sign (factor e/tau_syn_in)
    assert [(r.channel, r.target, r.factor) for r in spec.receptors] == [
        (0, "dI_syn_ex", "jump_ex"), (1, "dI_syn_in", "jump_in")]
    got = lower(ir).segment_constants(defaults(ir), 0.1)
    assert got["jump_in"] == 1.0 * math.e / 2.0 and got["refractory_counts"] == 20


def test_mat2_psc_exp_is_exact_with_the_threshold_components_in_the_linear_system():
    ir = shipped_ir("mat2_psc_exp")
    assert ir.scheme == "exact"
    assert ir.linear.offsets == (("V_m", "E_L"),)      # the threshold components: none
    forms = {p.name: (p.form, p.arguments) for p in ir.linear.propagators}
    assert forms["P_V_th_alpha_1__V_th_alpha_1"] == ("nest_decay", ("tau_1",))
    assert forms["P_V_th_alpha_2__V_th_alpha_2"] == ("nest_decay", ("tau_2",))
    updates = dict(ir.linear.updates)
    assert updates["V_th_alpha_1"] == "P_V_th_alpha_1__V_th_alpha_1 * V_th_alpha_1"
    lowered = lower(ir)
    spec = lowered.spec
    assert isinstance(spec.update, ExactUpdate)
    assert spec.update.clamped == () and spec.update.test_while_refractory is False
    # NEST: V_m >= omega_ + V_th_2_ + V_th_1_ with omega_ = omega - E_L
    assert spec.threshold == "V_m >= threshold_V_m + V_th_alpha_2 + V_th_alpha_1"
    assert spec.reset == (("V_th_alpha_1", "V_th_alpha_1 + alpha_1"),
                          ("V_th_alpha_2", "V_th_alpha_2 + alpha_2"))
    p = {**defaults(ir), "E_L": -65.5, "omega": -48.25}
    got = lowered.segment_constants(p, 0.1)
    assert got["threshold_V_m"] == -48.25 - -65.5
    assert got["P_V_th_alpha_1__V_th_alpha_1"] == math.exp(-0.1 / 10.0)
    assert got["refractory_counts"] == 20
    assert defaults(ir)["omega"] == -51.0 and defaults(ir)["alpha_1"] == 37.0
    assert ("V_th", "mV", "omega + V_th_alpha_1 + V_th_alpha_2") in ir.recordables


def test_a_threshold_over_clamped_variables_is_tested_as_nest_iaf_psc():
    for name in ("iaf_psc_exp", "iaf_psc_alpha"):
        assert lower(shipped_ir(name)).spec.update.test_while_refractory is True


def test_prev_of_an_offset_variable_reads_the_stored_copy_shifted():
    ir = text_ir(EXAMPLE.replace("threshold: V_m >= V_th",
                                 "threshold: V_m >= V_th and prev(V_m) < V_th"))
    spec = lower(ir).spec
    assert spec.threshold == "V_m >= threshold_V_m and prev_V_m + offset_V_m < V_th"
    assert spec.previous == (("prev_V_m", "V_m"),)
    assert spec.update.test_while_refractory is True        # V_m is clamped


def test_prev_name_avoids_the_models_names():
    ir = text_ir(EXAMPLE.replace("tau_syn_in: 2 ms}", "tau_syn_in: 2 ms, prev_w: 1 pA}")
                 .replace("threshold: V_m >= V_th", "threshold: prev(w) > prev_w"))
    spec = lower(ir).spec
    assert spec.previous == (("prev_w_", "w"),)
    assert spec.threshold == "prev_w_ > prev_w"
    assert spec.update.test_while_refractory is False       # w is not clamped


def test_prev_of_a_receptor_variable():
    ir = text_ir(EXAMPLE.replace("threshold: V_m >= V_th",
                                 "threshold: V_m >= V_th and prev(I_ex) > I_ex"))
    assert ir.previous == ("I_ex",)
    assert lower(ir).spec.previous == (("prev_I_ex", "I_ex"),)


@pytest.mark.parametrize("threshold", ["V_m >= V_th and w > b",
                                       "V_m >= V_th and w > b and prev(V_m) < V_m"])
def test_conjunctions_keep_every_comparison(threshold):
    model = parse_text(EXAMPLE.replace("threshold: V_m >= V_th", f"threshold: {threshold}"))
    assert model.threshold.text == threshold
    assert len(model.threshold.comparisons) == threshold.count(" and ") + 1


def test_parameter_parts_with_calls_stay_in_the_kernel():
    """Only call-free parameter expressions become per-segment columns (the spec
    evaluator computes them); max(V_th, E_L) or min(V_reset, V_th) are computed per step."""
    ir = text_ir(EXAMPLE.replace("threshold: V_m >= V_th",
                                 "threshold: V_m >= max(V_th, E_L) + w*GOhm")
                 .replace("reset: {V_m: V_reset,", "reset: {V_m: 'min(V_reset, V_th)',"))
    lowered = lower(ir)
    assert lowered.spec.threshold == ("V_m + offset_V_m >= fmax(V_th, E_L) + w * 1.0")
    assert dict(lowered.spec.reset)["V_m"] == "(fmin(V_reset, V_th)) - offset_V_m"
    assert lowered.segment_constants(defaults(ir), 0.1)["offset_V_m"] == -70.0
