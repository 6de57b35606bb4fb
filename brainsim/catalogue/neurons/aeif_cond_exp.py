"""NEST aeif_cond_exp (AdEx): adaptive exponential integrate-and-fire with exponential
conductances, integrated by RKF45 (kernel cython_kernels/aeif_cond_exp.pyx)."""
from __future__ import annotations

import math
import sys

from brainsim.catalogue.neurons.checks import not_negative, positive
from brainsim.catalogue.neurons.declaration import (INT32, NeuronModel, Parameter,
                                                    StateVariable)
from brainsim.catalogue.neurons.iaf_cond_exp import CONDUCTANCE_PORTS, conductance_charge
from brainsim.timesteps import steps_rounded_up


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


def segment_constants(p, dt: float, kernel) -> dict:
    """Potentials absolute (mV); spikes are detected at V_peak, or at V_th when
    Delta_T = 0 (NEST's V_.V_peak); t_ref in steps rounded up, h = dt (ms)."""
    return {"V_peak": p["V_peak"], "V_spike": p["V_peak"] if p["Delta_T"] > 0 else p["V_th"],
            "V_reset": p["V_reset"], "V_th": p["V_th"], "E_ex": p["E_ex"], "E_in": p["E_in"],
            "E_L": p["E_L"], "g_L": p["g_L"], "C_m": p["C_m"], "Delta_T": p["Delta_T"],
            "tau_w": p["tau_w"], "a": p["a"], "b": p["b"], "tau_syn_ex": p["tau_syn_ex"],
            "tau_syn_in": p["tau_syn_in"], "I_e": p["I_e"],
            "gsl_error_tol": p["gsl_error_tol"],
            "refractory_counts": float(steps_rounded_up(p["t_ref"], dt)), "h": dt}


AEIF_COND_EXP = NeuronModel(
    name="aeif_cond_exp",
    parameters=(
        Parameter("C_m", "pF", 281.0), Parameter("g_L", "nS", 30.0),
        Parameter("E_L", "mV", -70.6), Parameter("E_ex", "mV", 0.0),
        Parameter("E_in", "mV", -85.0), Parameter("V_th", "mV", -50.4),
        Parameter("V_peak", "mV", 0.0), Parameter("V_reset", "mV", -60.0),
        Parameter("t_ref", "ms", 0.0), Parameter("Delta_T", "mV", 2.0),
        Parameter("tau_w", "ms", 144.0), Parameter("a", "nS", 4.0),
        Parameter("b", "pA", 80.5), Parameter("tau_syn_ex", "ms", 0.2),
        Parameter("tau_syn_in", "ms", 2.0), Parameter("I_e", "pA", 0.0),
        Parameter("gsl_error_tol", "", 1e-6, note="RKF45 error tolerance")),
    state=(
        StateVariable("V_m", "mV", initial="E_L", init_stream_item=0, recordable=True,
                      relative_to="E_L"),
        StateVariable("g_ex", "nS", initial=0.0, init_stream_item=5, recordable=True),
        StateVariable("g_in", "nS", initial=0.0, init_stream_item=6, recordable=True),
        StateVariable("w", "pA", initial=0.0, init_stream_item=7, recordable=True),
        StateVariable("i_0", "pA", init_stream_item=3),
        StateVariable("refractory", "steps", dtype=INT32),
        StateVariable("ode_h", "ms")),
    weight_unit="nS",
    kernel="cython_kernels.aeif_cond_exp",
    segment_constants=segment_constants,
    charge=conductance_charge(alpha=False),
    receptors=CONDUCTANCE_PORTS,
    checks=(_aeif_checks, positive("C_m", "tau_syn_ex", "tau_syn_in", "tau_w"),
            not_negative("t_ref")),
)
