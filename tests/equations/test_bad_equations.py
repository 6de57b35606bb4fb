"""Each bad input is one SpecError at the exact YAML path, naming what was expected."""
import pytest

from brainsim.spec.errors import SpecError, format_path
from test_parse_models import EXAMPLE
from equation_yaml import parse_text

M = "neuron_models.my_adaptive_lif."


@pytest.mark.parametrize("old, new, path, message", [
    ("- w + I_e)/C_m", "- w + I_x)/C_m", "equations[0]", "unknown symbol 'I_x'"),
    ("dw/dt = -w/tau_w", "dw/dt = -w", "equations[1]",
     "dimension mismatch: dw/dt is in pA; expected pA/ms (unit of w per ms)"),
    ("(V_m - E_L)/tau_m +", "(V_m - w)/tau_m +", "equations[0]",
     "dimension mismatch in 'V_m - w': mV and pA"),
    ("      dw/dt = -w/tau_w\n", "", "equations", "state variable 'w' without equation"),
    ("dw/dt = -w/tau_w", "dw/dt = -w/tau_w\n      du/dt = 0", "equations[2]",
     "equation for unknown variable 'u'"),
    ("dw/dt = -w/tau_w", "dw/dt = -w/tau_w\n      dw/dt = 0/tau_w", "equations[2]",
     "duplicate equation for 'w'"),
    ("dw/dt = -w/tau_w", "dw/dt = -w/tau_w if w else w", "equations[1]",
     "unsupported construct"),
    ("dw/dt = -w/tau_w", "dw/dt = -w/tau_w**b", "equations[1]", "unsupported construct"),
    ("dw/dt = -w/tau_w", "dw/dt = -w/tau_w*exp(w)", "equations[1]",
     "dimension mismatch: exp() of pA"),
    ("dw/dt = -w/tau_w", "dw/dt = -w/tau_w*erf(w)", "equations[1]",
     "unsupported construct 'erf(w)'"),
    ("dw/dt = -w/tau_w", "dw/dt = -w/tau_w*sin(w)", "equations[1]",
     "dimension mismatch: sin() of pA"),
    ("dw/dt = -w/tau_w", "w = 0", "equations[1]", "'w = 0' is not an equation"),
    ("kernel: exp, tau: tau_syn_ex", "kernel: gauss, tau: tau_syn_ex", "receptors.ex.kernel",
     "'gauss'"),
    ("kernel: exp, tau: tau_syn_ex,", "kernel: exp,", "receptors.ex", "missing key 'tau'"),
    ("tau: tau_syn_in,", "tau: V_th,", "receptors.in.tau", "dimension mismatch: 'V_th' is in mV"),
    ("threshold: V_m >= V_th", "threshold: V_m - V_th", "threshold", "is not a comparison"),
    ("threshold: V_m >= V_th", "threshold: V_m >= b", "threshold",
     "dimension mismatch: mV compared with pA"),
    ("reset: {V_m: V_reset,", "reset: {V_m: b,", "reset.V_m",
     "dimension mismatch: V_m reset to pA"),
    ("reset: {V_m: V_reset,", "reset: {U: V_reset,", "reset.U", "unknown key 'U'"),
    ("clamp: [V_m]", "clamp: [V_m, U]", "refractory.clamp[1]", "clamp of unknown variable 'U'"),
    ("state: {V_m: E_L,", "state: {V_m: E_L, b: 0 pA,", "state.b",
     "state variable 'b' clashes with parameter 'b'"),
    ("current: I_ex}", "current: tau_m}", "receptors.ex",
     "receptor symbol 'tau_m' clashes with a parameter"),
    ("C_m: 250 pF", "C_m: 250 pF, I_stim: 1 pA", "parameters.I_stim",
     "parameter 'I_stim' clashes"),
    ("dw/dt = -w/tau_w", "dw/dt = -w/tau_w + __import__('os').getpid()", "equations[1]",
     "unsupported construct"),
    ("C_m: 250 pF", "C_m: 250 furlong", "parameters.C_m", "unknown unit 'furlong'"),
    ("duration: t_ref", "duration: V_th", "refractory.duration",
     "dimension mismatch: duration in mV"),
    ("state: {V_m: E_L, w: 0 pA}", "state: {V_m: E_L, w: 0 pA, I_ex: 0 pA}", "receptors.ex",
     "receptor symbol 'I_ex' clashes"),
    ("dw/dt = -w/tau_w", "dw/dt = -w/tau_w\n      dI_ex/dt = -I_ex/tau_syn_ex", "equations[2]",
     "equation for unknown variable 'I_ex'"),
    ("    equations: |", "    expressions: {x: V_m + q}\n    equations: |", "expressions.x",
     "unknown symbol 'q'"),
    ("    equations: |", "    expressions: {w: V_m}\n    equations: |", "expressions.w",
     "expression name 'w' clashes"),
    ("    equations: |", "    rkf45: {tolerance: 1e-3}\n    equations: |", "rkf45.tolerance",
     "unknown key 'tolerance'"),
    ("    equations: |", "    rkf45: {eps_abs: 0, eps_rel: 0}\n    equations: |", "rkf45",
     "eps_abs = eps_rel = 0"),
    ("threshold: V_m >= V_th", "threshold: V_m >= V_th or w > b", "threshold",
     "is not a comparison"),
    ("threshold: V_m >= V_th", "threshold: V_m >= V_th and w", "threshold",
     "is not a comparison"),
    ("threshold: V_m >= V_th", "threshold: E_L < V_m >= V_th", "threshold",
     "is not a comparison"),
    ("threshold: V_m >= V_th", "threshold: V_m >= V_th and prev(q) < V_th", "threshold",
     "prev() of 'q', not a state variable; expected one of the state variables V_m, w, "
     "I_ex, I_in"),
    ("threshold: V_m >= V_th", "threshold: V_m >= V_th and prev(E_L) < V_th", "threshold",
     "prev() of 'E_L', not a state variable"),
    ("threshold: V_m >= V_th", "threshold: prev(V_m + E_L) >= V_th", "threshold",
     "'prev(V_m + E_L)'; expected prev(<state variable>)"),
    ("threshold: V_m >= V_th", "threshold: prev() >= V_th", "threshold",
     "'prev()'; expected prev(<state variable>)"),
    ("threshold: V_m >= V_th", "threshold: prev(V_m, w) >= V_th", "threshold",
     "'prev(V_m, w)'; expected prev(<state variable>)"),
    ("threshold: V_m >= V_th", "threshold: V_m >= V_th and prev(w) > b*V_m", "threshold",
     "dimension mismatch: pA compared with mV pA"),
    ("dw/dt = -w/tau_w", "dw/dt = -(w - prev(w))/tau_w", "equations[1]",
     "'prev(w)' outside the threshold; expected prev() only in `threshold`"),
    ("w: w + b}", "w: prev(w) + b}", "reset.w", "'prev(w)' outside the threshold"),
    ("    equations: |", "    expressions: {x: prev(V_m)}\n    equations: |",
     "expressions.x", "'prev(V_m)' outside the threshold"),
    ("duration: t_ref", "duration: prev(t_ref)", "refractory.duration",
     "'prev(t_ref)' outside the threshold"),
    ("w: w + b}", "w: w + b*V_m}", "reset.w",
     "dimension mismatch in 'w + b * V_m': pA and mV pA"),
])
def test_bad_input_is_one_line_error_at_its_path(old, new, path, message):
    assert old in EXAMPLE
    with pytest.raises(SpecError) as caught:
        parse_text(EXAMPLE.replace(old, new))
    err = caught.value
    assert err.file == "model.yaml" and "\n" not in str(err)
    assert format_path(err.path) == M + path, str(err)
    assert f": {M + path}: " in str(err)
    assert message in err.message, str(err)


IZH_UPDATE = """
neuron_models:
  izh:
    parameters: {a: 0.02 1/ms, b: 0.2 1/ms, c: -65 mV, d: 8 mV/ms, V_th: 30 mV,
                 tau_s: 2 ms}
    state: {V_m: -65 mV, U_m: -13 mV/ms}
    update: |
      V_m = V_m + dt*(0.04/(mV*ms)*V_m*V_m + 5/ms*V_m + 140*mV/ms - U_m + I_stim/pF)
      U_m = U_m + dt*a*(b*V_m - U_m)
    receptors: {spikes: {kernel: delta, jump: V_m}}
    threshold: V_m >= V_th
    reset: {V_m: c, U_m: U_m + d}
"""


@pytest.mark.parametrize("old, new, path, message", [
    ("    update: |", "    equations: |\n      dV_m/dt = 0*mV/ms\n    update: |", "",
     "both 'equations' and 'update'"),
    ("U_m = U_m + dt*a*(b*V_m - U_m)", "U_m = U_m + a*(b*V_m - U_m)", "update[1]",
     "dimension mismatch in 'U_m + a * (b * V_m - U_m)': mV/ms and mV ms^-2"),
    ("U_m = U_m + dt*a*(b*V_m - U_m)", "U_m = dt*(b*V_m - U_m)", "update[1]",
     "dimension mismatch: the new U_m is in mV; expected mV/ms (the unit of U_m)"),
    ("U_m = U_m + dt*a*(b*V_m - U_m)", "X_m = U_m", "update[1]",
     "update of unknown variable 'X_m'"),
    ("U_m = U_m + dt*a*(b*V_m - U_m)", "V_m = V_m", "update[1]", "'V_m' updated twice"),
    ("U_m = U_m + dt*a*(b*V_m - U_m)", "dU_m/dt = a*(b*V_m - U_m)", "update[1]",
     "is not an assignment"),
    ("{spikes: {kernel: delta, jump: V_m}}", "{ex: {kernel: exp, tau: tau_s, current: I_ex}}",
     "receptors.ex.kernel", "kernel exp in a model with 'update'"),
])
def test_bad_update_is_one_line_error_at_its_path(old, new, path, message):
    assert old in IZH_UPDATE
    with pytest.raises(SpecError) as caught:
        parse_text(IZH_UPDATE.replace(old, new))
    err = caught.value
    where = "neuron_models.izh" + ("." + path if path else "")
    assert format_path(err.path) == where, str(err)
    assert message in err.message, str(err)


def test_a_model_needs_equations_or_update():
    lines = IZH_UPDATE.splitlines()
    start = lines.index("    update: |")
    text = "\n".join(lines[:start] + lines[start + 3:])
    with pytest.raises(SpecError) as caught:
        parse_text(text)
    assert format_path(caught.value.path) == "neuron_models.izh"
    assert "neither 'equations' nor 'update'" in caught.value.message
