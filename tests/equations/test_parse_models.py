from pathlib import Path

import pytest

from brainsim.equations.ir import Parameter, Receptor, StateVariable, Threshold
from equation_yaml import parse_text

NEURONS = Path(__file__).resolve().parents[2] / "models" / "neurons"
EXAMPLE = """
neuron_models:
  my_adaptive_lif:
    parameters: {C_m: 250 pF, tau_m: 10 ms, E_L: -70 mV, V_th: -55 mV, V_reset: -70 mV,
                 t_ref: 2 ms, tau_w: 0.1 s, b: 0.02 nA, tau_syn_ex: 2 ms, tau_syn_in: 2 ms}
    state: {V_m: E_L, w: 0 pA}
    equations: |
      dV_m/dt = -(V_m - E_L)/tau_m + (I_ex + I_in - w + I_e)/C_m
      dw/dt = -w/tau_w
    receptors: {ex: {kernel: exp, tau: tau_syn_ex, current: I_ex},
                in: {kernel: exp, tau: tau_syn_in, current: I_in}}
    threshold: V_m >= V_th
    reset: {V_m: V_reset, w: w + b}
    refractory: {duration: t_ref, clamp: [V_m]}
"""


def test_example_parses_to_expected_ir():
    model = parse_text(EXAMPLE)
    assert model.name == "my_adaptive_lif"
    params = {p.name: p for p in model.parameters}
    assert params["I_e"] == Parameter("I_e", "pA", 0.0)
    assert params["C_m"] == Parameter("C_m", "pF", 250.0)
    assert params["tau_w"] == Parameter("tau_w", "ms", 100.0)
    assert params["b"].unit == "pA" and params["b"].default == pytest.approx(20.0)
    assert model.state == (StateVariable("V_m", "mV", "E_L"), StateVariable("w", "pA", "0.0"))
    assert model.rhs("w") == "-w / tau_w"
    assert model.rhs("V_m") == "-(V_m - E_L) / tau_m + (I_ex + I_in - w + I_e) / C_m"
    assert model.receptors[0] == Receptor(
        "ex", "exp", "current", ("tau_syn_ex",), "I_ex", "I_ex", "I_ex", jump="I_ex",
        jump_factor="1.0", weight_unit="pA", state=(("I_ex", "pA"),),
        equations=(("I_ex", "-I_ex / tau_syn_ex"),))
    assert model.threshold == Threshold("V_m", ">=", "V_th")
    assert model.reset == (("V_m", "V_reset"), ("w", "w + b"))
    assert model.refractory_duration == "t_ref" and model.clamped == ("V_m",)
    assert model.recordables == ("V_m", "w", "I_ex", "I_in")


@pytest.mark.parametrize("name", sorted(p.stem for p in NEURONS.glob("*.yaml")))
def test_shipped_models_parse(name):
    model = parse_text((NEURONS / f"{name}.yaml").read_text(), f"{name}.yaml")
    assert model.name == name
    assert {p.name for p in model.parameters} >= {"I_e"}


def test_conductance_receptor_defines_its_current():
    model = parse_text((NEURONS / "iaf_cond_exp.yaml").read_text())
    ex = model.receptors[0]
    assert (ex.kind, ex.symbol, ex.current_symbol) == ("conductance", "g_ex", "I_syn_ex")
    assert ex.current == "g_ex * (E_ex - V_m)"
    assert model.recordables == ("V_m", "g_ex", "g_in", "V")
    assert {p.name: p.default for p in model.parameters}["g_L"] == pytest.approx(16.6667)


def test_alpha_beta_and_delta_kernels():
    text = EXAMPLE.replace("tau_syn_in: 2 ms}", "tau_syn_in: 2 ms, tau_r: 0.5 ms}").replace(
        "in: {kernel: exp, tau: tau_syn_in, current: I_in}",
        "in: {kernel: beta, tau_rise: tau_r, tau_decay: tau_syn_in, current: I_in}, "
        "al: {kernel: alpha, tau: tau_syn_ex, current: I_al}, "
        "de: {kernel: delta, jump: V_m}")
    model = parse_text(text)
    kinds = {r.name: (r.kernel, r.time_constants, r.jump, r.jump_factor, r.weight_unit)
             for r in model.receptors}
    assert kinds["in"] == ("beta", ("tau_r", "tau_syn_in"), "dI_in",
                           "beta_normalization_factor(tau_r, tau_syn_in)", "pA")
    assert kinds["al"] == ("alpha", ("tau_syn_ex",), "dI_al", "2.718281828459045 / tau_syn_ex",
                           "pA")
    assert kinds["de"] == ("delta", (), "V_m", "1.0", "mV")
    beta = {r.name: r for r in model.receptors}["in"]
    assert beta.state == (("I_in", "pA"), ("dI_in", "pA/ms"))
    assert beta.equations == (("dI_in", "-dI_in / tau_syn_in"), ("I_in", "dI_in - I_in / tau_r"))
