"""NEST iaf_psc_exp: leaky integrate-and-fire with exponential current synapses
(kernel cython_kernels/iaf_psc_exp.pyx; potentials stored relative to E_L, as NEST)."""
from __future__ import annotations

from brainsim.catalogue.neurons.checks import not_negative, positive, reset_below_threshold
from brainsim.catalogue.neurons.declaration import (INT32, NeuronModel, Parameter,
                                                    StateVariable, sign_chosen_ports)
from brainsim.catalogue.neurons.psp import psc_over_psp
from brainsim.timesteps import steps_rounded_up


def _no_escape_noise(p):
    if p["delta"] != 0:
        return [("delta", f"delta = {p['delta']:g} mV",
                 "0 (stochastic threshold / escape noise is not supported)")]
    return []


def segment_constants(p, dt: float, kernel) -> dict:
    """Propagators of both receptors for one step dt (ms), I_e (pA), theta = V_th - E_L and
    V_reset - E_L (mV), t_ref in steps rounded up; as NEST's pre_run_hook."""
    P11ex, P21ex, P22, P20 = kernel.propagators(dt, p["tau_m"], p["tau_syn_ex"], p["C_m"])
    P11in, P21in, _, _ = kernel.propagators(dt, p["tau_m"], p["tau_syn_in"], p["C_m"])
    return {"P22": P22, "P21ex": P21ex, "P21in": P21in, "P20": P20, "P11ex": P11ex,
            "P11in": P11in, "I_e": p["I_e"], "theta": p["V_th"] - p["E_L"],
            "V_reset": p["V_reset"] - p["E_L"],
            "refractory_counts": float(steps_rounded_up(p["t_ref"], dt))}


def _psp_conversion(p, port) -> float:
    return psc_over_psp(p["C_m"], p["tau_m"], p[port.time_constant])


def _charge(p, port) -> float:
    """A PSC of amplitude w pA decaying with tau_syn carries w * tau_syn fC."""
    return p[port.time_constant]


IAF_PSC_EXP = NeuronModel(
    name="iaf_psc_exp",
    parameters=(
        Parameter("C_m", "pF", 250.0), Parameter("tau_m", "ms", 10.0),
        Parameter("tau_syn_ex", "ms", 2.0), Parameter("tau_syn_in", "ms", 2.0),
        Parameter("t_ref", "ms", 2.0), Parameter("E_L", "mV", -70.0),
        Parameter("V_reset", "mV", -70.0), Parameter("V_th", "mV", -55.0),
        Parameter("I_e", "pA", 0.0),
        Parameter("rho", "1/s", 0.01, note="escape noise rate (unused while delta = 0)"),
        Parameter("delta", "mV", 0.0, note="escape noise width; must stay 0 (not supported)"),
        Parameter("tau_minus", "ms", 20.0, note="postsynaptic STDP trace")),
    state=(
        StateVariable("V_m", "mV", initial="E_L", init_stream_item=0, recordable=True,
                      relative_to="E_L"),
        StateVariable("i_syn_ex", "pA", init_stream_item=1, recordable=True),
        StateVariable("i_syn_in", "pA", init_stream_item=2, recordable=True),
        StateVariable("i_0", "pA", init_stream_item=3, recordable=True),
        StateVariable("refractory", "steps", dtype=INT32)),
    weight_unit="pA",
    kernel="cython_kernels.iaf_psc_exp",
    segment_constants=segment_constants,
    charge=_charge,
    receptors=sign_chosen_ports(time_constants=("tau_syn_ex", "tau_syn_in")),
    checks=(reset_below_threshold,
            positive("C_m", "tau_m", "tau_syn_ex", "tau_syn_in", "tau_minus"),
            not_negative("t_ref"), not_negative("rho", unit="1/s"), _no_escape_noise),
    psp_conversion=_psp_conversion,
    archives_spikes=True,
)
