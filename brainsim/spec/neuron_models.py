"""The neuron models brainsim knows: NEST names, parameter defaults (NEST 3.10), units,
state variables and NEST's parameter checks.

Used by the spec layer to fill defaults and validate, and by the network layer:
`NEURON_MODELS[name].defaults`, `.state_variables`, `.weight_unit`.
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from typing import Callable, Mapping

# -> [(param or tuple of the params involved, found, expected), ...]
Check = Callable[[Mapping[str, float]], list]


@dataclass(frozen=True)
class NeuronModel:
    """A NEST neuron model as brainsim implements it.

    defaults: parameter -> NEST default (floats; booleans for flags).
    units: parameter -> unit ('mV', 'pF', 'ms', 'pA', '1/s', '' for flags).
    flags: the boolean parameters.
    state_variables: initialisable state variable -> unit (default value: E_L for V_m).
    weight_unit: native synaptic weight unit: 'pA' (current jump) or 'mV' (voltage jump).
    may_be_minus_inf: parameters allowed to be -inf (e.g. V_min = no lower bound).
    initial_values: state variable -> default initial value: a number, or the name of the
        parameter it defaults to (NEST: V_m = E_L).
    psp_conversion: (params, weight) -> native weight per mV of peak PSP, for models whose
        weights may also be given in mV of peak PSP (None: native unit only).
    charge: (params, weight) -> charge (fC = pA*ms) one spike delivers per unit of native
        weight (for the DC compensation of down-scaled in-degrees).
    ignores_weight: every incoming spike is one event whatever the weight of its connection
        (NEST's parrot_neuron); the build stores weight 1 for the static synapses and inputs
        onto such a population, and plastic synapses onto it deliver 1 per spike while their
        weights learn as NEST's do.
    archives_spikes: the model keeps NEST's ArchivingNode history of its own spikes (with
        tau_minus, ms), so STDP synapses (stdp_synapse, stdp_pl_synapse_hom) may target it.
    """
    name: str
    weight_unit: str
    defaults: Mapping[str, float]
    units: Mapping[str, str]
    state_variables: Mapping[str, str]
    flags: frozenset = frozenset()
    may_be_minus_inf: frozenset = frozenset()
    checks: tuple = field(default=(), repr=False)
    initial_values: Mapping[str, object] = field(default_factory=lambda: {"V_m": "E_L"})
    psp_conversion: Callable | None = field(default=None, repr=False)
    charge: Callable | None = field(default=None, repr=False)
    ignores_weight: bool = False
    archives_spikes: bool = False

    @property
    def weight_units(self) -> tuple:
        """Units a weight onto this model may be given in (native first)."""
        return (self.weight_unit, "mV") if self.psp_conversion else (self.weight_unit,)

    def check(self, params: Mapping[str, float]) -> list:
        """NEST's consistency checks: [(param or (params involved), found, expected), ...],
        empty if valid."""
        problems = []
        for check in self.checks:
            problems.extend(check(params))
        return problems

    def initial_defaults(self, params: Mapping[str, float]) -> dict:
        """State variable -> default initial value, as a NEST node has it after Create:
        a value named by a parameter (V_m: "E_L") is that parameter's *default*, because
        NEST constructs the state before applying the given parameters and keeps the
        absolute V_m when E_L is changed (iaf_psc_exp with E_L = -65 still starts at
        -70 mV). Set `initial: {V_m: ...}` to start elsewhere."""
        return {var: (float(self.defaults[value]) if isinstance(value, str) else float(value))
                for var, value in self.initial_values.items() if var in self.state_variables}


def _reset_below_threshold(p):
    if p["V_reset"] >= p["V_th"]:
        return [(("V_reset", "V_th"), f"V_reset = {p['V_reset']:g} mV",
                 f"V_reset < V_th = {p['V_th']:g} mV (NEST: reset potential must be smaller "
                 "than threshold)")]
    return []


def _positive(*names, unit="ms"):
    def check(p):
        return [(n, f"{n} = {p[n]:g} {units_of(n, unit)}", "> 0")
                for n in names if not p[n] > 0]
    return check


def units_of(name, default):
    return "pF" if name == "C_m" else default


def _not_negative(*names, unit="ms"):
    def check(p):
        return [(n, f"{n} = {p[n]:g} {unit}", ">= 0") for n in names if p[n] < 0]
    return check


def _no_escape_noise(p):
    if p["delta"] != 0:
        return [("delta", f"delta = {p['delta']:g} mV",
                 "0 (stochastic threshold / escape noise is not supported)")]
    return []


def _receptor_tau(params: Mapping[str, float], weight: float) -> float:
    """tau_syn (ms) of the receptor a weight of this sign reaches (>= 0: ex, < 0: in)."""
    return params["tau_syn_ex"] if weight >= 0 else params["tau_syn_in"]


def _exp_psp_conversion(p, weight):
    return psc_over_psp(p["C_m"], p["tau_m"], _receptor_tau(p, weight))


def _alpha_psp_conversion(p, weight):
    return psc_over_psp_alpha(p["C_m"], p["tau_m"], _receptor_tau(p, weight))


def _cond_charge(alpha: bool):
    """Charge per nS of weight at rest (V = E_L): tau_syn (E_rev - E_L), times e for alpha
    conductances (whose integral is e * tau_syn per nS of peak). Weights of inhibitory
    synapses are negative, so the sign of the charge follows E_in - E_L."""
    factor = math.e if alpha else 1.0

    def charge(p, weight):
        if weight >= 0:
            return factor * p["tau_syn_ex"] * (p["E_ex"] - p["E_L"])
        return -factor * p["tau_syn_in"] * (p["E_in"] - p["E_L"])
    return charge


IAF_PSC_EXP = NeuronModel(
    name="iaf_psc_exp",
    archives_spikes=True,
    weight_unit="pA",
    defaults={"C_m": 250.0, "tau_m": 10.0, "tau_syn_ex": 2.0, "tau_syn_in": 2.0,
              "t_ref": 2.0, "E_L": -70.0, "V_reset": -70.0, "V_th": -55.0, "I_e": 0.0,
              "rho": 0.01, "delta": 0.0, "tau_minus": 20.0},
    units={"C_m": "pF", "tau_m": "ms", "tau_syn_ex": "ms", "tau_syn_in": "ms", "t_ref": "ms",
           "E_L": "mV", "V_reset": "mV", "V_th": "mV", "I_e": "pA", "rho": "1/s",
           "delta": "mV", "tau_minus": "ms"},
    state_variables={"V_m": "mV"},
    checks=(_reset_below_threshold, _positive("C_m", "tau_m", "tau_syn_ex", "tau_syn_in", "tau_minus"),
            _not_negative("t_ref"), _not_negative("rho", unit="1/s"), _no_escape_noise),
    psp_conversion=_exp_psp_conversion,
    charge=lambda p, w: _receptor_tau(p, w),
)

IAF_PSC_DELTA = NeuronModel(
    name="iaf_psc_delta",
    archives_spikes=True,
    weight_unit="mV",
    defaults={"C_m": 250.0, "tau_m": 10.0, "t_ref": 2.0, "E_L": -70.0, "V_reset": -70.0,
              "V_th": -55.0, "V_min": -math.inf, "I_e": 0.0, "refractory_input": False,
              "tau_minus": 20.0},
    units={"C_m": "pF", "tau_m": "ms", "t_ref": "ms", "E_L": "mV", "V_reset": "mV",
           "V_th": "mV", "V_min": "mV", "I_e": "pA", "refractory_input": "",
           "tau_minus": "ms"},
    state_variables={"V_m": "mV"},
    flags=frozenset({"refractory_input"}),
    may_be_minus_inf=frozenset({"V_min"}),
    checks=(_reset_below_threshold, _positive("C_m", "tau_m", "tau_minus"),
            _not_negative("t_ref")),
    charge=lambda p, w: p["C_m"],
)

IAF_PSC_ALPHA = NeuronModel(
    name="iaf_psc_alpha",
    archives_spikes=True,
    weight_unit="pA",
    defaults={"C_m": 250.0, "tau_m": 10.0, "tau_syn_ex": 2.0, "tau_syn_in": 2.0,
              "t_ref": 2.0, "E_L": -70.0, "V_reset": -70.0, "V_th": -55.0,
              "V_min": -math.inf, "I_e": 0.0, "tau_minus": 20.0},
    units={"C_m": "pF", "tau_m": "ms", "tau_syn_ex": "ms", "tau_syn_in": "ms", "t_ref": "ms",
           "E_L": "mV", "V_reset": "mV", "V_th": "mV", "V_min": "mV", "I_e": "pA",
           "tau_minus": "ms"},
    state_variables={"V_m": "mV"},
    may_be_minus_inf=frozenset({"V_min"}),
    checks=(_reset_below_threshold, _positive("C_m", "tau_m", "tau_syn_ex", "tau_syn_in",
                                              "tau_minus"),
            _not_negative("t_ref")),
    psp_conversion=_alpha_psp_conversion,
    # an alpha PSC of peak w pA, w e t/tau exp(-t/tau), carries w * e * tau_syn fC
    charge=lambda p, w: math.e * _receptor_tau(p, w),
)

_COND_DEFAULTS = {"C_m": 250.0, "g_L": 16.6667, "E_L": -70.0, "E_ex": 0.0, "E_in": -85.0,
                  "V_th": -55.0, "V_reset": -60.0, "t_ref": 2.0, "tau_syn_ex": 0.2,
                  "tau_syn_in": 2.0, "I_e": 0.0}
_COND_UNITS = {"C_m": "pF", "g_L": "nS", "E_L": "mV", "E_ex": "mV", "E_in": "mV",
               "V_th": "mV", "V_reset": "mV", "t_ref": "ms", "tau_syn_ex": "ms",
               "tau_syn_in": "ms", "I_e": "pA"}
_COND_STATE = {"V_m": "mV", "g_ex": "nS", "g_in": "nS"}
_COND_INITIAL = {"V_m": "E_L", "g_ex": 0.0, "g_in": 0.0}

IAF_COND_EXP = NeuronModel(
    name="iaf_cond_exp",
    weight_unit="nS",
    defaults=dict(_COND_DEFAULTS),
    units=dict(_COND_UNITS),
    state_variables=dict(_COND_STATE),
    initial_values=dict(_COND_INITIAL),
    checks=(_reset_below_threshold, _positive("C_m", "tau_syn_ex", "tau_syn_in"),
            _not_negative("t_ref")),
    charge=_cond_charge(alpha=False),
)

IAF_COND_ALPHA = NeuronModel(
    name="iaf_cond_alpha",
    weight_unit="nS",
    defaults=dict(_COND_DEFAULTS),
    units=dict(_COND_UNITS),
    state_variables=dict(_COND_STATE),
    initial_values=dict(_COND_INITIAL),
    checks=(_reset_below_threshold, _positive("C_m", "tau_syn_ex", "tau_syn_in"),
            _not_negative("t_ref")),
    charge=_cond_charge(alpha=True),
)


def _aeif_checks(p):
    """NEST aeif_cond_exp::Parameters_::set."""
    problems = []
    if p["V_peak"] < p["V_th"]:
        problems.append((("V_peak", "V_th"), f"V_peak = {p['V_peak']:g} mV",
                         f">= V_th = {p['V_th']:g} mV (NEST: V_peak >= V_th required)"))
    if p["Delta_T"] < 0:
        problems.append(("Delta_T", f"Delta_T = {p['Delta_T']:g} mV", ">= 0"))
    elif p["Delta_T"] > 0:
        max_exp_arg = math.log(sys.float_info.max / 1e20)
        if (p["V_peak"] - p["V_th"]) / p["Delta_T"] >= max_exp_arg:
            problems.append((("V_peak", "V_th", "Delta_T"),
                             f"(V_peak - V_th) / Delta_T = "
                             f"{(p['V_peak'] - p['V_th']) / p['Delta_T']:g}",
                             f"< {max_exp_arg:.4g} (NEST: exp() would overflow at spike "
                             "time; increase Delta_T or reduce V_peak)"))
    if p["V_reset"] >= p["V_peak"]:
        problems.append((("V_reset", "V_peak"), f"V_reset = {p['V_reset']:g} mV",
                         f"< V_peak = {p['V_peak']:g} mV"))
    if not p["gsl_error_tol"] > 0:
        problems.append(("gsl_error_tol", f"gsl_error_tol = {p['gsl_error_tol']:g}", "> 0"))
    return problems


AEIF_COND_EXP = NeuronModel(
    name="aeif_cond_exp",
    weight_unit="nS",
    defaults={"C_m": 281.0, "g_L": 30.0, "E_L": -70.6, "E_ex": 0.0, "E_in": -85.0,
              "V_th": -50.4, "V_peak": 0.0, "V_reset": -60.0, "t_ref": 0.0, "Delta_T": 2.0,
              "tau_w": 144.0, "a": 4.0, "b": 80.5, "tau_syn_ex": 0.2, "tau_syn_in": 2.0,
              "I_e": 0.0, "gsl_error_tol": 1e-6},
    units={"C_m": "pF", "g_L": "nS", "E_L": "mV", "E_ex": "mV", "E_in": "mV", "V_th": "mV",
           "V_peak": "mV", "V_reset": "mV", "t_ref": "ms", "Delta_T": "mV", "tau_w": "ms",
           "a": "nS", "b": "pA", "tau_syn_ex": "ms", "tau_syn_in": "ms", "I_e": "pA",
           "gsl_error_tol": ""},
    state_variables={"V_m": "mV", "g_ex": "nS", "g_in": "nS", "w": "pA"},
    initial_values={"V_m": "E_L", "g_ex": 0.0, "g_in": 0.0, "w": 0.0},
    checks=(_aeif_checks, _positive("C_m", "tau_syn_ex", "tau_syn_in", "tau_w"),
            _not_negative("t_ref")),
    charge=_cond_charge(alpha=False),
)

IZHIKEVICH = NeuronModel(
    name="izhikevich",
    weight_unit="mV",
    defaults={"a": 0.02, "b": 0.2, "c": -65.0, "d": 8.0, "V_th": 30.0, "V_min": -math.inf,
              "I_e": 0.0, "consistent_integration": True},
    units={"a": "1/ms", "b": "1/ms", "c": "mV", "d": "mV/ms", "V_th": "mV", "V_min": "mV",
           "I_e": "pA", "consistent_integration": ""},
    state_variables={"V_m": "mV", "U_m": "mV/ms"},
    initial_values={"V_m": -65.0, "U_m": -13.0},
    flags=frozenset({"consistent_integration"}),
    may_be_minus_inf=frozenset({"V_min"}),
    # I_e (nominally pA) enters dV/dt directly (mV/ms): a jump of w mV is w "pA*ms"
    charge=lambda p, w: 1.0,
)

PARROT_NEURON = NeuronModel(
    name="parrot_neuron",
    weight_unit="spikes",
    defaults={"tau_minus": 20.0},       # ms, for STDP onto it (NEST's ArchivingNode)
    units={"tau_minus": "ms"},
    state_variables={},
    initial_values={},
    charge=lambda p, w: 0.0,
    ignores_weight=True,
    archives_spikes=True,
)

NEURON_MODELS: dict[str, NeuronModel] = {
    m.name: m for m in (IAF_PSC_EXP, IAF_PSC_DELTA, IAF_PSC_ALPHA, IAF_COND_EXP,
                        IAF_COND_ALPHA, AEIF_COND_EXP, IZHIKEVICH, PARROT_NEURON)}


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


def receptor_time_constant(model: NeuronModel, params: Mapping[str, float],
                           weight: float) -> float:
    """tau_syn (ms) of the receptor a weight of this sign reaches (>= 0: ex, < 0: in)."""
    return _receptor_tau(params, weight)


def psp_to_native(model: NeuronModel, params: Mapping[str, float], weight: float) -> float:
    """Native weight (pA) per mV of peak PSP onto `model` (iaf_psc_exp, iaf_psc_alpha);
    the receptor is chosen by the sign of `weight`."""
    if model.psp_conversion is None:
        raise ValueError(f"{model.name} weights cannot be given in mV of peak PSP")
    return model.psp_conversion(params, weight)


def charge_per_unit_weight(model: NeuronModel, params: Mapping[str, float],
                           weight: float) -> float:
    """Charge (fC = pA*ms) one spike delivers per unit of native weight.

    iaf_psc_exp: a PSC of amplitude w pA decaying with tau_syn carries w * tau_syn fC;
    iaf_psc_alpha: w * e * tau_syn; iaf_psc_delta: a jump of w mV on C_m pF is w * C_m fC;
    conductance models: at rest, tau_syn * (E_rev - E_L) per nS (times e for alpha);
    izhikevich: 1 (input jumps enter dV/dt like I_e); parrot_neuron: 0.
    """
    return model.charge(params, weight)
