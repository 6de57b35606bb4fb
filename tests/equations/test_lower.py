"""Lowering to the code generator's KernelSpec: the columns of the equation iaf_psc_exp
and iaf_psc_alpha equal the built-ins' segment constants bit for bit; receptors, RKF45
control and refractoriness follow NEST's models."""
import math

import pytest

import cython_kernels.iaf_psc_alpha as alpha_kernel
import cython_kernels.iaf_psc_exp as exp_kernel
from brainsim.catalogue.neurons.iaf_psc_exp import segment_constants as exp_constants
from brainsim.codegen.kernel_spec import ExactUpdate, Rkf45Update
from brainsim.equations.lower import lower
from shipped import defaults, shipped_ir, text_ir
from test_parse_models import EXAMPLE

EXP_COLUMNS = {"P22": "P_V_m__V_m", "P21ex": "P_V_m__I_syn_ex", "P21in": "P_V_m__I_syn_in",
               "P20": "Q_V_m__V_m", "P11ex": "P_I_syn_ex__I_syn_ex",
               "P11in": "P_I_syn_in__I_syn_in", "I_e": "I_e", "theta": "threshold_V_m",
               "V_reset": "reset_V_m", "refractory_counts": "refractory_counts"}


@pytest.mark.parametrize("values", [{}, {"tau_syn_ex": 10.0, "E_L": -65.3, "V_th": -50.1,
                                         "V_reset": -71.7, "t_ref": 2.03, "I_e": 376.0}])
def test_iaf_psc_exp_columns_are_the_built_ins(values):
    ir = shipped_ir("iaf_psc_exp")
    p = {**defaults(ir), **values}
    lowered = lower(ir)
    got = lowered.segment_constants(p, 0.1)
    want = exp_constants(p, 0.1, exp_kernel)
    assert {ours: got[ours] for ours in EXP_COLUMNS.values()} == \
        {ours: want[theirs] for theirs, ours in EXP_COLUMNS.items()}
    assert lowered.stored_offsets == (("V_m", "E_L"),)
    assert isinstance(lowered.spec.update, ExactUpdate)
    assert lowered.spec.update.clamped == ("V_m",)
    assert lowered.spec.threshold == "V_m >= threshold_V_m"
    assert lowered.spec.state_arguments == ("V_m", "I_syn_ex", "I_syn_in", "i_0", "refractory")


def test_iaf_psc_alpha_jumps_are_the_built_ins():
    ir = shipped_ir("iaf_psc_alpha")
    p = {**defaults(ir), "tau_syn_ex": 0.7}
    got = lower(ir).segment_constants(p, 0.1)
    want = alpha_kernel.segment_constants(0.1, 10.0, 250.0, 0.7, 2.0, 0.0, 15.0, 0.0,
                                          -math.inf, 20)
    assert (got["jump_ex"], got["jump_in"]) == (want["epsc_init"], want["ipsc_init"])
    ports = lower(ir).spec.receptors
    assert [(r.channel, r.target, r.factor) for r in ports] == [
        (0, "dI_syn_ex", "jump_ex"), (1, "dI_syn_in", "jump_in")]


def test_conductance_models_lower_to_rkf45_with_nest_control():
    cond = lower(shipped_ir("iaf_cond_exp")).spec
    assert isinstance(cond.update, Rkf45Update)
    assert (cond.update.eps_abs, cond.update.eps_rel, cond.update.a_y,
            cond.update.a_dydt) == ("0.001", "0.0", "1.0", "0.0")
    assert cond.update.spike_within_step is False
    assert cond.refractory_steps == "refractory_counts"
    assert [(r.target, r.factor) for r in cond.receptors] == [("g_ex", "1.0"), ("g_in", "-1.0")]
    derivatives = dict(cond.update.derivatives)
    assert derivatives["V_m"].startswith("0.0 if is_refractory else (")
    aeif = lower(shipped_ir("aeif_cond_exp")).spec
    assert aeif.update.spike_within_step is True
    assert aeif.refractory_steps == "refractory_counts + 1 if refractory_counts > 0 else 0"
    assert aeif.state_arguments[-3:] == ("i_0", "refractory", "ode_h")


def test_beta_receptor_jump_column_is_nest_normalisation():
    text = EXAMPLE.replace("tau_syn_in: 2 ms}", "tau_syn_in: 2 ms, tau_r: 0.5 ms}").replace(
        "in: {kernel: exp, tau: tau_syn_in, current: I_in}",
        "in: {kernel: beta, tau_rise: tau_r, tau_decay: tau_syn_in, current: I_in}")
    ir = text_ir(text)
    got = lower(ir).segment_constants(defaults(ir), 0.1)
    a, b = 1 / 0.5, 1 / 2.0
    t_peak = math.log(a / b) / (a - b)
    assert got["jump_in"] == pytest.approx((a - b) / (math.exp(-b * t_peak)
                                                       - math.exp(-a * t_peak)), rel=1e-14)


def test_non_parameter_reset_of_an_offset_variable_is_shifted():
    ir = text_ir(EXAMPLE.replace("reset: {V_m: V_reset,", "reset: {V_m: V_m - 5*mV,"))
    reset = dict(lower(ir).spec.reset)
    assert reset["V_m"] == "(V_m + offset_V_m - 5.0 * 1.0) - offset_V_m"


def test_more_receptors_than_two_are_addressed_one_channel_each():
    """Three receptors: connections name them (NEST's receptor_type), one ring channel
    each, weights of either sign (docs/model-format.md, "Receptor ports")."""
    text = EXAMPLE.replace("in: {kernel: exp, tau: tau_syn_in, current: I_in}",
                           "in: {kernel: exp, tau: tau_syn_in, current: I_in}, "
                           "nmda: {kernel: exp, tau: tau_syn_in, current: I_nmda}")
    spec = lower(text_ir(text)).spec
    assert spec.receptor_addressed
    assert [(r.name, r.channel) for r in spec.receptors] == [("ex", 0), ("in", 1),
                                                             ("nmda", 2)]
    assert not lower(text_ir(EXAMPLE)).spec.receptor_addressed


HAND_NAMES = {"I_syn_ex": "i_syn_ex", "I_syn_in": "i_syn_in", "P_V_m__V_m": "P22",
              "P_V_m__I_syn_ex": "P21ex", "P_V_m__I_syn_in": "P21in", "Q_V_m__V_m": "P20",
              "P_I_syn_ex__I_syn_ex": "P11ex", "P_I_syn_in__I_syn_in": "P11in",
              "threshold_V_m": "theta", "reset_V_m": "V_reset"}


def renamed(text: str) -> str:
    import ast

    class Rename(ast.NodeTransformer):
        def visit_Name(self, node):
            return ast.Name(HAND_NAMES.get(node.id, node.id), ast.Load())
    return ast.unparse(Rename().visit(ast.parse(text, mode="eval")))


def test_lowered_iaf_psc_exp_is_the_codegen_hand_spec_up_to_names():
    """tests/codegen runs hand_specs.IAF_PSC_EXP bit for bit against the built-in kernel;
    the lowered equation model has the same step, expression for expression."""
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "codegen"))
    from hand_specs import IAF_PSC_EXP as hand
    spec = lower(shipped_ir("iaf_psc_exp")).spec
    assert [(HAND_NAMES.get(v, v), renamed(t)) for v, t in spec.update.assignments] == \
        [(v, renamed(t)) for v, t in hand.update.assignments]
    assert spec.update.clamped == hand.update.clamped
    assert renamed(spec.threshold) == hand.threshold
    assert [(v, renamed(t)) for v, t in spec.reset] == list(hand.reset)
    assert [(r.name, r.channel, HAND_NAMES.get(r.target), r.factor) for r in spec.receptors] == \
        [(r.name, r.channel, r.target, r.factor) for r in hand.receptors]
    assert spec.refractory_steps == hand.refractory_steps
