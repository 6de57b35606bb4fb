"""The neuron models brainsim knows: NEST names, parameter defaults (NEST 3.10), units,
state variables and NEST's parameter checks.

Used by the spec layer to fill defaults and validate, and by the network layer:
`NEURON_MODELS[name].defaults`, `.state_variables`, `.weight_unit`.
"""
from __future__ import annotations

import math
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
    """
    name: str
    weight_unit: str
    defaults: Mapping[str, float]
    units: Mapping[str, str]
    state_variables: Mapping[str, str]
    flags: frozenset = frozenset()
    may_be_minus_inf: frozenset = frozenset()
    checks: tuple = field(default=(), repr=False)

    def check(self, params: Mapping[str, float]) -> list:
        """NEST's consistency checks: [(param or (params involved), found, expected), ...],
        empty if valid."""
        problems = []
        for check in self.checks:
            problems.extend(check(params))
        return problems

    def initial_defaults(self, params: Mapping[str, float]) -> dict:
        """State variable -> default initial value (NEST: V_m = E_L)."""
        return {"V_m": params["E_L"]} if "V_m" in self.state_variables else {}


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


IAF_PSC_EXP = NeuronModel(
    name="iaf_psc_exp",
    weight_unit="pA",
    defaults={"C_m": 250.0, "tau_m": 10.0, "tau_syn_ex": 2.0, "tau_syn_in": 2.0,
              "t_ref": 2.0, "E_L": -70.0, "V_reset": -70.0, "V_th": -55.0, "I_e": 0.0,
              "rho": 0.01, "delta": 0.0},
    units={"C_m": "pF", "tau_m": "ms", "tau_syn_ex": "ms", "tau_syn_in": "ms", "t_ref": "ms",
           "E_L": "mV", "V_reset": "mV", "V_th": "mV", "I_e": "pA", "rho": "1/s",
           "delta": "mV"},
    state_variables={"V_m": "mV"},
    checks=(_reset_below_threshold, _positive("C_m", "tau_m", "tau_syn_ex", "tau_syn_in"),
            _not_negative("t_ref"), _not_negative("rho", unit="1/s"), _no_escape_noise),
)

IAF_PSC_DELTA = NeuronModel(
    name="iaf_psc_delta",
    weight_unit="mV",
    defaults={"C_m": 250.0, "tau_m": 10.0, "t_ref": 2.0, "E_L": -70.0, "V_reset": -70.0,
              "V_th": -55.0, "V_min": -math.inf, "I_e": 0.0, "refractory_input": False},
    units={"C_m": "pF", "tau_m": "ms", "t_ref": "ms", "E_L": "mV", "V_reset": "mV",
           "V_th": "mV", "V_min": "mV", "I_e": "pA", "refractory_input": ""},
    state_variables={"V_m": "mV"},
    flags=frozenset({"refractory_input"}),
    may_be_minus_inf=frozenset({"V_min"}),
    checks=(_reset_below_threshold, _positive("C_m", "tau_m"), _not_negative("t_ref")),
)

NEURON_MODELS: dict[str, NeuronModel] = {m.name: m for m in (IAF_PSC_EXP, IAF_PSC_DELTA)}


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


def receptor_time_constant(model: NeuronModel, params: Mapping[str, float],
                           weight: float) -> float:
    """tau_syn (ms) of the receptor a weight of this sign reaches (>= 0: ex, < 0: in)."""
    return params["tau_syn_ex"] if weight >= 0 else params["tau_syn_in"]


def charge_per_unit_weight(model: NeuronModel, params: Mapping[str, float],
                           weight: float) -> float:
    """Charge (fC = pA*ms) one spike delivers per unit of native weight.

    iaf_psc_exp: a PSC of amplitude w pA decaying with tau_syn carries w * tau_syn fC.
    iaf_psc_delta: a jump of w mV on C_m pF is a charge of w * C_m fC.
    """
    if model.weight_unit == "mV":
        return params["C_m"]
    return receptor_time_constant(model, params, weight)
