"""NEST's parameter checks shared by several neuron models (nestkernel's
Parameters_::set of each model). Each check maps the full parameter set to a list of
(param or tuple of the params involved, found, expected); empty when valid."""
from __future__ import annotations


def reset_below_threshold(p):
    if p["V_reset"] >= p["V_th"]:
        return [(("V_reset", "V_th"), f"V_reset = {p['V_reset']:g} mV",
                 f"V_reset < V_th = {p['V_th']:g} mV (NEST: reset potential must be smaller "
                 "than threshold)")]
    return []


def positive(*names, unit="ms"):
    def check(p):
        return [(n, f"{n} = {p[n]:g} {units_of(n, unit)}", "> 0")
                for n in names if not p[n] > 0]
    return check


def units_of(name, default):
    return "pF" if name == "C_m" else default


def not_negative(*names, unit="ms"):
    def check(p):
        return [(n, f"{n} = {p[n]:g} {unit}", ">= 0") for n in names if p[n] < 0]
    return check
