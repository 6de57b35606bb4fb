"""Classification and kernel texts of the shipped equation models and the worked example."""
import pytest

from shipped import shipped_ir, text_ir
from test_parse_models import EXAMPLE


@pytest.mark.parametrize("name, scheme, affine", [
    ("iaf_psc_exp", "exact", ("V_m", "I_syn_ex", "I_syn_in")),
    ("iaf_psc_alpha", "exact", ("V_m", "I_syn_ex", "dI_syn_ex", "I_syn_in", "dI_syn_in")),
    ("iaf_cond_exp", "rkf45", ("g_ex", "g_in")),          # g*(E - V_m) is not linear
    ("aeif_cond_exp", "rkf45", ("g_ex", "g_in")),         # w reads min(V_m, V_peak)
    ("aeif_psc_exp", "rkf45", ("I_syn_ex", "I_syn_in")),  # w reads min(V_m, V_peak)
    ("aeif_cond_alpha", "rkf45", ("g_ex", "dg_ex", "g_in", "dg_in")),
    ("iaf_cond_beta", "rkf45", ("g_ex", "dg_ex", "g_in", "dg_in")),
    ("iaf_psc_exp_multisynapse", "exact", ("V_m", "I_syn_1", "I_syn_2", "I_syn_3"))])
def test_shipped_models_are_classified(name, scheme, affine):
    ir = shipped_ir(name)
    assert ir.scheme == scheme and ir.affine == affine
    assert (ir.linear is None) == (scheme == "rkf45")
    assert (ir.nonlinear is None) == (scheme == "exact")


def test_example_is_exact_with_the_membrane_stored_relative_to_E_L():
    ir = text_ir(EXAMPLE)
    assert ir.scheme == "exact"
    assert [s.name for s in ir.state] == ["V_m", "w", "I_ex", "I_in"]
    assert [s.receptor for s in ir.state] == [None, None, "ex", "in"]
    assert ir.linear.offsets == (("V_m", "E_L"),)
    # -w/C_m does not fit NEST's membrane pattern: every propagator is the general one,
    # but the lone decays exp(-h/tau) of a parameter, which are NEST's std::exp(-h/tau)
    forms = {p.name: (p.form, p.arguments) for p in ir.linear.propagators}
    assert {name: args for name, (form, args) in forms.items() if form != "general"} == {
        "P_V_m__V_m": ("tau_m",), "P_w__w": ("tau_w",), "P_I_ex__I_ex": ("tau_syn_ex",),
        "P_I_in__I_in": ("tau_syn_in",)}
    assert {form for form, _ in forms.values()} == {"general", "nest_decay"}
    updates = dict(ir.linear.updates)
    assert updates["w"] == "P_w__w * w"
    assert updates["V_m"].startswith("P_V_m__V_m * V_m + P_V_m__w * w + P_V_m__I_ex * I_ex")
    assert ir.reset == (("V_m", "V_reset"), ("w", "w + b"))
    assert ir.threshold == "V_m >= V_th"


def test_update_order_writes_readers_before_what_they_read():
    ir = shipped_ir("iaf_psc_alpha")
    order = [v for v, _ in ir.linear.updates]
    assert order.index("V_m") < order.index("I_syn_ex") < order.index("dI_syn_ex")


def test_nest_update_texts_keep_the_built_ins_grouping():
    exp_updates = dict(shipped_ir("iaf_psc_exp").linear.updates)
    assert exp_updates["V_m"] == ("V_m * P_V_m__V_m + I_syn_ex * P_V_m__I_syn_ex + I_syn_in * "
                                  "P_V_m__I_syn_in + (I_e + I_stim) * Q_V_m__V_m")
    alpha = dict(shipped_ir("iaf_psc_alpha").linear.updates)
    assert alpha["V_m"].startswith("Q_V_m__V_m * (I_stim + I_e) + P_V_m__dI_syn_ex * dI_syn_ex")
    assert alpha["V_m"].endswith("P_V_m__V_m * V_m + V_m")
    assert alpha["I_syn_ex"] == "P_I_syn_ex__dI_syn_ex * dI_syn_ex + P_I_syn_ex__I_syn_ex * I_syn_ex"


def test_rkf45_texts_define_conductance_currents_and_keep_the_written_grouping():
    ir = shipped_ir("aeif_cond_exp")
    system = ir.nonlinear
    assert system.variables == ("V_m", "w", "g_ex", "g_in")
    assert system.definitions == (("I_syn_ex", "g_ex * (E_ex - V_m)"),
                                  ("I_syn_in", "g_in * (E_in - V_m)"),
                                  ("V", "fmin(V_m, V_peak)"))
    derivatives = dict(system.derivatives)
    assert derivatives["w"] == "(a * (V - E_L) - w) / tau_w"
    assert derivatives["g_ex"] == "-g_ex / tau_syn_ex"
    assert ir.reset == (("V_m", "V_reset"), ("w", "w + b"))
    assert ("I_syn_ex", "pA", "g_ex * (E_ex - V_m)") in ir.recordables


IZHIKEVICH_ODE = """
neuron_models:
  izh:
    parameters: {a: 0.02 1/ms, b: 0.2 1/ms, c: -65 mV, d: 8 mV/ms, V_th: 30 mV}
    state: {V_m: -65 mV, U_m: -13 mV/ms}
    equations: |
      dV_m/dt = 0.04/(mV*ms)*V_m**2 + 5/ms*V_m + 140*mV/ms - U_m + (I_e + I_stim)/pF
      dU_m/dt = a*(b*V_m - U_m)
    receptors: {ex: {kernel: delta, jump: V_m}}
    threshold: V_m >= V_th
    reset: {V_m: c, U_m: U_m + d}
"""


def test_powers_units_and_builtins_become_kernel_functions():
    ir = text_ir(IZHIKEVICH_ODE)
    assert ir.scheme == "rkf45" and ir.affine == ("U_m",)             # V_m**2
    derivatives = dict(ir.nonlinear.derivatives)
    assert "pow(V_m, 2.0)" in derivatives["V_m"] and "**" not in derivatives["V_m"]


def test_update_model_is_explicit_with_NESTs_izhikevich_step():
    ir = shipped_ir("izhikevich")
    assert ir.scheme == "explicit" and ir.linear is None and ir.nonlinear is None
    updates = dict(ir.explicit)
    assert updates["U_m"] == "U_m + dt * a * (b * V_m - U_m)"
    assert updates["V_m"].startswith("V_m + dt * (0.04 / (1.0 * 1.0) * V_m * V_m")


def test_auxiliary_expressions_are_definitions_inlined_in_threshold_and_recordable():
    text = EXAMPLE.replace("    equations: |", "    expressions: {V_rel: V_m - E_L}\n"
                           "    equations: |").replace("threshold: V_m >= V_th",
                                                      "threshold: V_rel >= V_th - E_L")
    ir = text_ir(text)
    assert ir.threshold == "V_m - E_L >= V_th - E_L"
    assert ("V_rel", "mV", "V_m - E_L") in ir.recordables
    assert ir.scheme == "exact"


def test_a_nonlinear_auxiliary_makes_the_model_rkf45():
    text = EXAMPLE.replace("    equations: |", "    expressions: {leak: (V_m - E_L)**2/mV}\n"
                           "    equations: |").replace("-(V_m - E_L)/tau_m", "-leak/tau_m")
    ir = text_ir(text)
    assert ir.scheme == "rkf45" and "V_m" not in ir.affine
    assert ("leak", "pow(V_m - E_L, 2.0) / 1.0") in ir.nonlinear.definitions


def test_three_exp_ports_still_get_nest_propagators():
    ir = shipped_ir("iaf_psc_exp_multisynapse")
    forms = {p.name: p.form for p in ir.linear.propagators}
    assert forms["P_V_m__I_syn_3"] == "nest_psc_exp" and forms["Q_V_m__V_m"] == "nest_p20"
    assert dict(ir.linear.updates)["V_m"].endswith("I_syn_3 * P_V_m__I_syn_3 + (I_e + I_stim)"
                                                   " * Q_V_m__V_m")
