"""Peak PSPs of the current-based models: the conversions behind `unit: mV` weights
(weights given as the peak PSP they cause) onto iaf_psc_exp and iaf_psc_alpha."""
from __future__ import annotations

import math


def psc_over_psp(C_m: float, tau_m: float, tau_syn: float) -> float:
    """PSC amplitude (pA) per mV of peak PSP for iaf_psc_exp (NEST PD14 helpers).

    The PSP is the peak of the membrane response to an exponential current of unit
    amplitude; at tau_syn == tau_m the formula's limit C_m * e / tau_m is used.
    C_m in pF, tau_m and tau_syn in ms.
    """
    if abs(tau_syn - tau_m) <= 1e-8 * tau_m:
        return C_m * math.e / tau_m
    sub = 1.0 / (tau_syn - tau_m)
    pre = tau_m * tau_syn / C_m * sub
    frac = (tau_m / tau_syn) ** sub
    return 1.0 / (pre * (frac ** tau_m - frac ** tau_syn))


def alpha_psp(t: float, C_m: float, tau_m: float, tau_syn: float) -> float:
    """V(t) (mV) of a passive membrane (C_m pF, tau_m ms) from rest under the alpha current
    I(t) = e/tau_syn * t * exp(-t/tau_syn) pA of peak 1 pA (NEST iaf_psc_alpha's PSC):
    V(t) = e/(tau_syn C_m) exp(-t/tau_m) (1 - exp(-x)(1 + x)) / a^2, a = 1/tau_syn - 1/tau_m,
    x = a t (series in x near tau_syn = tau_m)."""
    a = 1.0 / tau_syn - 1.0 / tau_m
    x = a * t
    if abs(x) < 1e-3:
        integral = t * t * (0.5 - x / 3.0 + x * x / 8.0 - x ** 3 / 30.0)
    else:
        integral = (-math.expm1(-x) - x * math.exp(-x)) / (a * a)
    return math.e / (tau_syn * C_m) * math.exp(-t / tau_m) * integral


def psc_over_psp_alpha(C_m: float, tau_m: float, tau_syn: float) -> float:
    """PSC peak (pA) per mV of peak PSP for iaf_psc_alpha: 1 / max_t alpha_psp(t).

    The peak is where dV/dt = I(t)/C_m - V(t)/tau_m changes sign, found by bisection
    (to machine precision) after bracketing it. C_m in pF, tau_m and tau_syn in ms.
    """
    def slope(t):
        current = math.e / tau_syn * t * math.exp(-t / tau_syn)
        return current / C_m - alpha_psp(t, C_m, tau_m, tau_syn) / tau_m

    lo, hi = 0.0, max(tau_m, tau_syn)
    while slope(hi) > 0:
        lo, hi = hi, 2.0 * hi
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        if slope(mid) > 0:
            lo = mid
        else:
            hi = mid
    return 1.0 / alpha_psp(0.5 * (lo + hi), C_m, tau_m, tau_syn)
