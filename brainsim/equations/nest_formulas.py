"""NEST 3.10's propagator formulas in its floating-point order (libnestutil/
propagator_stability.cpp, iaf_psc_exp/alpha::pre_run_hook), so that an equation model
with their structure gets the built-in kernels' bits: cython_kernels.iaf_psc_exp
`propagators` and iaf_psc_alpha `segment_constants` compute the same values. Python's
math.exp/expm1 are the C library's, and Python floats are IEEE doubles, so the same
operations in the same order give the same result. Units: h, tau in ms, C_m in pF."""
from __future__ import annotations

import math

SINGULAR_WINDOW = 0.1   # ms: |tau_m - tau_syn| below which NEST tests the singular form
EPSILON = 2.220446049250313e-16   # std::numeric_limits<double>::epsilon()
E = 2.718281828459045


def propagator_32(tau_syn: float, tau_m: float, c_m: float, h: float) -> float:
    """PropagatorExp::evaluate: effect of an exp-PSC current (pA) on V over h (mV/pA)."""
    alpha = 1 / (c_m * tau_m * tau_m) * (tau_syn - tau_m)
    beta = tau_syn * tau_m / (tau_m - tau_syn) if tau_m != tau_syn else math.inf
    gamma = beta / c_m
    p32 = gamma * math.exp(-h / tau_syn) * math.expm1(-h / tau_m + h / tau_syn) \
        if tau_m != tau_syn else math.nan
    if abs(tau_m - tau_syn) < SINGULAR_WINDOW:
        singular = h / c_m * math.exp(-h / tau_m)
        if tau_m == tau_syn:
            return singular
        linear = alpha * h * h * math.exp(-h / tau_m) / 2.
        if abs(p32 - singular) > 2 * abs(linear):
            return singular
    return p32


def propagators_alpha(tau_syn: float, tau_m: float, c_m: float, h: float) -> tuple:
    """PropagatorAlpha::evaluate: (P31, P32), the effect of dI (pA/ms) and I (pA) of an
    alpha PSC on V over h (mV per unit)."""
    alpha = 1 / (c_m * tau_m * tau_m) * (tau_syn - tau_m)
    beta = tau_syn * tau_m / (tau_m - tau_syn) if tau_m != tau_syn else math.inf
    gamma = beta / c_m
    exp_h_tau_syn = math.exp(-h / tau_syn)
    expm1_h_tau = math.expm1(-h / tau_m + h / tau_syn)
    if tau_m != tau_syn:
        p31 = gamma * exp_h_tau_syn * (beta * expm1_h_tau - h)
        p32 = gamma * exp_h_tau_syn * expm1_h_tau
    if abs(tau_m - tau_syn) < SINGULAR_WINDOW:
        exp_h_tau = math.exp(-h / tau_m)
        p31_singular = h * h / 2 / c_m * exp_h_tau
        p32_singular = h / c_m * exp_h_tau
        if tau_m == tau_syn:
            return p31_singular, p32_singular
        if abs(p31 - p31_singular) > 2 * abs(alpha * h * h * h * exp_h_tau / 3.):
            p31 = p31_singular
        if abs(p32 - p32_singular) > 2 * abs(alpha * h * h * exp_h_tau / 2.):
            p32 = p32_singular
    return p31, p32


def beta_normalization_factor(tau_rise: float, tau_decay: float) -> float:
    """NEST's beta_normalization_factor (1/ms): the jump of dg per unit weight that makes
    the beta conductance peak at the weight; the alpha factor e/tau_decay when the time
    constants are (numerically) equal."""
    tau_difference = tau_decay - tau_rise
    peak_value = 0.0
    if abs(tau_difference) > EPSILON:
        t_peak = tau_decay * tau_rise * math.log(tau_decay / tau_rise) / tau_difference
        peak_value = math.exp(-t_peak / tau_decay) - math.exp(-t_peak / tau_rise)
    if abs(peak_value) < EPSILON:
        return E / tau_decay
    return (1. / tau_rise - 1. / tau_decay) / peak_value


def _decay(h, tau):
    return math.exp(-h / tau)


# form name -> (function of (h, *arguments), what it is); Propagator.form and .arguments.
FORMS = {
    "nest_decay": (lambda h, tau: _decay(h, tau), "exp(-h/tau)"),
    "nest_expm1": (lambda h, tau: math.expm1(-h / tau), "expm1(-h/tau_m), used as "
                   "expm1*V + V (iaf_psc_alpha)"),
    "nest_psc_exp": (lambda h, tau_syn, tau_m, c_m: propagator_32(tau_syn, tau_m, c_m, h),
                     "propagator_32"),
    "nest_psc_alpha_dI": (lambda h, tau_syn, tau_m, c_m:
                          propagators_alpha(tau_syn, tau_m, c_m, h)[0], "P31"),
    "nest_psc_alpha_I": (lambda h, tau_syn, tau_m, c_m:
                         propagators_alpha(tau_syn, tau_m, c_m, h)[1], "P32"),
    "nest_alpha_21": (lambda h, tau: h * _decay(h, tau), "h*exp(-h/tau)"),
    "nest_p20": (lambda h, tau_m, c_m: tau_m / c_m * (1.0 - _decay(h, tau_m)),
                 "tau_m/C_m*(1 - exp(-h/tau_m))"),
    "nest_p30": (lambda h, tau_m, c_m: -tau_m / c_m * math.expm1(-h / tau_m),
                 "-tau_m/C_m*expm1(-h/tau_m)"),
}
