"""NEST iaf_cond_exp: conductance-based leaky integrate-and-fire with exponential
conductances, integrated by RKF45 (kernel cython_kernels/iaf_cond_exp.pyx). The kernel
takes absolute potentials; the state V_m is stored relative to E_L like the iaf models."""
from __future__ import annotations

import math

from brainsim.catalogue.neurons.checks import not_negative, positive, reset_below_threshold
from brainsim.catalogue.neurons.declaration import (INT32, NeuronModel, Parameter,
                                                    StateVariable, sign_chosen_ports)
from brainsim.timesteps import steps_rounded_up

# shared with iaf_cond_alpha (NEST's defaults are the same)
CONDUCTANCE_PARAMETERS = (
    Parameter("C_m", "pF", 250.0), Parameter("g_L", "nS", 16.6667),
    Parameter("E_L", "mV", -70.0), Parameter("E_ex", "mV", 0.0),
    Parameter("E_in", "mV", -85.0), Parameter("V_th", "mV", -55.0),
    Parameter("V_reset", "mV", -60.0), Parameter("t_ref", "ms", 2.0),
    Parameter("tau_syn_ex", "ms", 0.2), Parameter("tau_syn_in", "ms", 2.0),
    Parameter("I_e", "pA", 0.0))
CONDUCTANCE_CHECKS = (reset_below_threshold, positive("C_m", "tau_syn_ex", "tau_syn_in"),
                      not_negative("t_ref"))
CONDUCTANCE_PORTS = sign_chosen_ports(time_constants=("tau_syn_ex", "tau_syn_in"),
                                      reversals=("E_ex", "E_in"))


def segment_constants(p, dt: float, kernel) -> dict:
    """Potentials absolute (mV), g_L nS, C_m pF, time constants ms, I_e pA, t_ref in steps
    rounded up, h = dt (ms)."""
    return {"V_th": p["V_th"], "V_reset": p["V_reset"], "E_ex": p["E_ex"], "E_in": p["E_in"],
            "E_L": p["E_L"], "g_L": p["g_L"], "C_m": p["C_m"], "tau_syn_ex": p["tau_syn_ex"],
            "tau_syn_in": p["tau_syn_in"], "I_e": p["I_e"],
            "refractory_counts": float(steps_rounded_up(p["t_ref"], dt)), "h": dt}


def conductance_charge(alpha: bool):
    """Charge per nS of weight at rest (V = E_L): tau_syn (E_rev - E_L), times e for alpha
    conductances (whose integral is e * tau_syn per nS of peak). Weights of inhibitory
    synapses are negative, so the sign of the charge follows E_in - E_L."""
    factor = math.e if alpha else 1.0

    def charge(p, port):
        scale = factor if port.weight_sign > 0 else -factor
        return scale * p[port.time_constant] * (p[port.reversal] - p["E_L"])
    return charge


IAF_COND_EXP = NeuronModel(
    name="iaf_cond_exp",
    parameters=CONDUCTANCE_PARAMETERS,
    state=(
        StateVariable("V_m", "mV", initial="E_L", init_stream_item=0, recordable=True,
                      relative_to="E_L"),
        StateVariable("g_ex", "nS", initial=0.0, init_stream_item=5, recordable=True),
        StateVariable("g_in", "nS", initial=0.0, init_stream_item=6, recordable=True),
        StateVariable("i_0", "pA", init_stream_item=3),
        StateVariable("refractory", "steps", dtype=INT32),
        StateVariable("ode_h", "ms")),
    weight_unit="nS",
    kernel="cython_kernels.iaf_cond_exp",
    segment_constants=segment_constants,
    charge=conductance_charge(alpha=False),
    receptors=CONDUCTANCE_PORTS,
    checks=CONDUCTANCE_CHECKS,
)
