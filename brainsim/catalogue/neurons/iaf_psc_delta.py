"""NEST iaf_psc_delta: leaky integrate-and-fire with voltage-jump (delta) synapses
(kernel cython_kernels/iaf_psc_delta.pyx; potentials stored relative to E_L, as NEST)."""
from __future__ import annotations

import math

from brainsim.catalogue.neurons.checks import not_negative, positive, reset_below_threshold
from brainsim.catalogue.neurons.declaration import (INT32, NeuronModel, Parameter,
                                                    StateVariable, sign_chosen_ports)
from brainsim.timesteps import steps_rounded_up


def segment_constants(p, dt: float, kernel) -> dict:
    """P33, P30, I_e (pA), theta, V_reset, V_min (mV relative to E_L), t_ref in steps,
    refractory_input (0/1), tau_m (ms) and h = dt (ms), which discount input arriving while
    refractory by exp(-r*dt/tau_m) exactly as NEST computes it."""
    P33 = math.exp(-dt / p["tau_m"])
    P30 = 1.0 / p["C_m"] * (1.0 - P33) * p["tau_m"]   # NEST's exact expression, bit for bit
    return {"P33": P33, "P30": P30, "I_e": p["I_e"], "theta": p["V_th"] - p["E_L"],
            "V_reset": p["V_reset"] - p["E_L"], "V_min": p["V_min"] - p["E_L"],
            "refractory_counts": float(steps_rounded_up(p["t_ref"], dt)),
            "refractory_input": 1.0 if p["refractory_input"] else 0.0, "tau_m": p["tau_m"],
            "h": dt}


def _charge(p, port) -> float:
    """A jump of w mV on C_m pF is w * C_m fC."""
    return p["C_m"]


IAF_PSC_DELTA = NeuronModel(
    name="iaf_psc_delta",
    parameters=(
        Parameter("C_m", "pF", 250.0), Parameter("tau_m", "ms", 10.0),
        Parameter("t_ref", "ms", 2.0), Parameter("E_L", "mV", -70.0),
        Parameter("V_reset", "mV", -70.0), Parameter("V_th", "mV", -55.0),
        Parameter("V_min", "mV", -math.inf, may_be_minus_inf=True,
                  note="-inf: no lower bound"),
        Parameter("I_e", "pA", 0.0),
        Parameter("refractory_input", "", False, flag=True,
                  note="input arriving while refractory is kept (discounted) instead of lost"),
        Parameter("tau_minus", "ms", 20.0, note="postsynaptic STDP trace")),
    state=(
        StateVariable("V_m", "mV", initial="E_L", init_stream_item=0, recordable=True,
                      relative_to="E_L"),
        StateVariable("i_0", "pA", init_stream_item=3, recordable=True),
        StateVariable("refractory", "steps", dtype=INT32),
        StateVariable("refr_spikes_buffer", "mV", init_stream_item=4)),
    weight_unit="mV",
    kernel="cython_kernels.iaf_psc_delta",
    segment_constants=segment_constants,
    charge=_charge,
    receptors=sign_chosen_ports(),
    checks=(reset_below_threshold, positive("C_m", "tau_m", "tau_minus"),
            not_negative("t_ref")),
    archives_spikes=True,
)
