"""Exact propagators: NEST's forms equal the built-in kernels' constants bit for bit
(tau_m == tau_syn and the singular window included); general ones equal an independent
matrix exponential (Taylor series with scaling and squaring, in mpmath at 50 digits)."""
import math

import mpmath
import pytest

from cython_kernels import iaf_psc_alpha, iaf_psc_exp
from brainsim.equations.ir import DRIVE
from brainsim.equations.nest_formulas import beta_normalization_factor
from brainsim.equations.numeric import evaluate, is_degenerate
from shipped import defaults, shipped_ir, text_ir
from test_parse_models import EXAMPLE

TAU_SYN = [2.0, 10.0, 9.95, 10.05, 10.0 + 1e-9, 0.5]   # tau_m = 10 ms
STEPS = [0.1, 0.25, 1.0]


@pytest.mark.parametrize("tau_syn", TAU_SYN)
@pytest.mark.parametrize("h", STEPS)
def test_iaf_psc_exp_propagators_are_the_built_ins_bit_for_bit(tau_syn, h):
    ir = shipped_ir("iaf_psc_exp")
    values = {**defaults(ir), "tau_syn_ex": tau_syn, "tau_syn_in": 3.0}
    got = evaluate(ir.linear, values, h)
    p11, p21, p22, p20 = iaf_psc_exp.propagators(h, values["tau_m"], tau_syn, values["C_m"])
    assert (got["P_I_syn_ex__I_syn_ex"], got["P_V_m__I_syn_ex"], got["P_V_m__V_m"],
            got["Q_V_m__V_m"]) == (p11, p21, p22, p20)
    assert got["P_V_m__I_syn_in"] == iaf_psc_exp.propagators(h, 10.0, 3.0, 250.0)[1]


@pytest.mark.parametrize("tau_syn", TAU_SYN)
@pytest.mark.parametrize("h", STEPS)
def test_iaf_psc_alpha_propagators_are_the_built_ins_bit_for_bit(tau_syn, h):
    ir = shipped_ir("iaf_psc_alpha")
    values = {**defaults(ir), "tau_syn_ex": tau_syn, "tau_syn_in": 3.0}
    got = evaluate(ir.linear, values, h)
    c = iaf_psc_alpha.segment_constants(h, values["tau_m"], values["C_m"], tau_syn, 3.0,
                                        0.0, 15.0, 0.0, -math.inf, 20)
    for name, column in [("P_I_syn_ex__I_syn_ex", "P11ex"), ("P_dI_syn_ex__dI_syn_ex", "P11ex"),
                         ("P_I_syn_ex__dI_syn_ex", "P21ex"), ("P_V_m__dI_syn_ex", "P31ex"),
                         ("P_V_m__I_syn_ex", "P32ex"), ("P_V_m__dI_syn_in", "P31in"),
                         ("P_V_m__I_syn_in", "P32in"), ("P_V_m__V_m", "expm1_tau_m"),
                         ("Q_V_m__V_m", "P30")]:
        assert got[name] == c[column], name
    jumps = {r.name: r.jump_factor for r in ir.receptors}
    assert eval(jumps["ex"], {"tau_syn_ex": tau_syn}) == c["epsc_init"]   # e/tau, same bits


def taylor_expm(matrix, h):
    """exp(matrix*h) by scaling and squaring a 30-term Taylor series, 50 digits."""
    with mpmath.workdps(50):
        a = mpmath.matrix(matrix) * h
        norm = max(sum(abs(a[i, j]) for j in range(a.cols)) for i in range(a.rows))
        squarings = max(0, int(mpmath.ceil(mpmath.log(norm + 1, 2))) + 2)
        a = a / 2 ** squarings
        term, total = mpmath.eye(a.rows), mpmath.eye(a.rows)
        for k in range(1, 30):
            term = term * a / k
            total += term
        for _ in range(squarings):
            total = total * total
        return total


def expected_propagators(system, values, h):
    """P and Q entries by name from the augmented matrix [[A, 1], [0, 0]]."""
    n = len(system.variables)
    numeric = [[float(system.matrix[i, j].subs(
        {s: values[s.name] for s in system.matrix[i, j].free_symbols})) for j in range(n)]
        for i in range(n)]
    big = [[0.0] * (2 * n) for _ in range(2 * n)]
    for i in range(n):
        big[i][:n] = numeric[i]
        big[i][n + i] = 1.0
    e = taylor_expm(big, h)
    out = {}
    for p in system.propagators:
        i = system.variables.index(p.target)
        j = (n + system.variables.index(p.name.split("__", 1)[1]) if p.source == DRIVE
             else system.variables.index(p.source))
        out[p.name] = float(e[i, j])
    return out


@pytest.mark.parametrize("tau_syn_ex, degenerate", [(2.0, False), (10.0, True),
                                                     (10.0 + 1e-7, True), (9.0, False)])
def test_general_propagators_equal_the_matrix_exponential(tau_syn_ex, degenerate):
    ir = text_ir(EXAMPLE)      # V_m, w, I_ex, I_in: general forms, offsets V_m - E_L
    values = {**defaults(ir), "tau_syn_ex": tau_syn_ex}
    assert is_degenerate(ir.linear, values) is degenerate
    got = evaluate(ir.linear, values, 0.1)
    want = expected_propagators(ir.linear, values, 0.1)
    assert set(got) == set(want)
    for name in want:
        assert got[name] == pytest.approx(want[name], rel=1e-15, abs=1e-300), name


def test_alpha_chain_general_form_when_no_template_fits():
    text = EXAMPLE.replace("ex: {kernel: exp", "ex: {kernel: alpha")
    ir = text_ir(text)
    assert [s.name for s in ir.state][2:4] == ["I_ex", "dI_ex"]
    values = defaults(ir)    # tau_syn_ex == tau_syn_in: the alpha chain is a Jordan block
    got = evaluate(ir.linear, values, 0.1)
    want = expected_propagators(ir.linear, values, 0.1)
    for name in want:
        assert got[name] == pytest.approx(want[name], rel=1e-15, abs=1e-300), name
    assert got["P_I_ex__dI_ex"] == pytest.approx(0.1 * math.exp(-0.1 / 2.0), rel=1e-15)


@pytest.mark.parametrize("tau_rise, tau_decay", [(0.2, 2.0), (0.5, 0.5), (1.0, 3.0)])
def test_beta_normalisation_gives_a_peak_of_one(tau_rise, tau_decay):
    g0 = beta_normalization_factor(tau_rise, tau_decay)
    if tau_rise == tau_decay:
        assert g0 == 2.718281828459045 / tau_decay
        return
    a, b = 1 / tau_rise, 1 / tau_decay
    t_peak = math.log(a / b) / (a - b)
    # dg(0) = g0, dg' = -dg/tau_decay, g' = dg - g/tau_rise  =>  g(t) below
    peak = g0 / (a - b) * (math.exp(-b * t_peak) - math.exp(-a * t_peak))
    assert peak == pytest.approx(1.0, rel=1e-12)
