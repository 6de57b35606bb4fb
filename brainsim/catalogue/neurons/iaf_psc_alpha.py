"""NEST iaf_psc_alpha: leaky integrate-and-fire with alpha-shaped current synapses
(kernel cython_kernels/iaf_psc_alpha.pyx; potentials stored relative to E_L, as NEST)."""
from __future__ import annotations

import math

from brainsim.catalogue.neurons.checks import not_negative, positive, reset_below_threshold
from brainsim.catalogue.neurons.declaration import (INT32, NeuronModel, Parameter,
                                                    StateVariable, sign_chosen_ports)
from brainsim.catalogue.neurons.psp import psc_over_psp_alpha
from brainsim.timesteps import steps_rounded_up


def segment_constants(p, dt: float, kernel) -> dict:
    """The kernel's own pre_run_hook port (propagators for step dt, ms), given potentials
    relative to E_L (mV) and t_ref in steps rounded up."""
    return kernel.segment_constants(
        dt, p["tau_m"], p["C_m"], p["tau_syn_ex"], p["tau_syn_in"], p["I_e"],
        p["V_th"] - p["E_L"], p["V_reset"] - p["E_L"], p["V_min"] - p["E_L"],
        steps_rounded_up(p["t_ref"], dt))


def _psp_conversion(p, port) -> float:
    return psc_over_psp_alpha(p["C_m"], p["tau_m"], p[port.time_constant])


def _charge(p, port) -> float:
    """An alpha PSC of peak w pA, w e t/tau exp(-t/tau), carries w * e * tau_syn fC."""
    return math.e * p[port.time_constant]


IAF_PSC_ALPHA = NeuronModel(
    name="iaf_psc_alpha",
    parameters=(
        Parameter("C_m", "pF", 250.0), Parameter("tau_m", "ms", 10.0),
        Parameter("tau_syn_ex", "ms", 2.0), Parameter("tau_syn_in", "ms", 2.0),
        Parameter("t_ref", "ms", 2.0), Parameter("E_L", "mV", -70.0),
        Parameter("V_reset", "mV", -70.0), Parameter("V_th", "mV", -55.0),
        Parameter("V_min", "mV", -math.inf, may_be_minus_inf=True,
                  note="-inf: no lower bound"),
        Parameter("I_e", "pA", 0.0),
        Parameter("tau_minus", "ms", 20.0, note="postsynaptic STDP trace")),
    state=(
        StateVariable("V_m", "mV", initial="E_L", init_stream_item=0, recordable=True,
                      relative_to="E_L"),
        StateVariable("i_syn_ex", "pA", init_stream_item=1),
        StateVariable("di_syn_ex", "pA/ms"),
        StateVariable("i_syn_in", "pA", init_stream_item=2),
        StateVariable("di_syn_in", "pA/ms"),
        StateVariable("i_0", "pA", init_stream_item=3),
        StateVariable("refractory", "steps", dtype=INT32)),
    weight_unit="pA",
    kernel="cython_kernels.iaf_psc_alpha",
    segment_constants=segment_constants,
    charge=_charge,
    receptors=sign_chosen_ports(time_constants=("tau_syn_ex", "tau_syn_in")),
    checks=(reset_below_threshold,
            positive("C_m", "tau_m", "tau_syn_ex", "tau_syn_in", "tau_minus"),
            not_negative("t_ref")),
    psp_conversion=_psp_conversion,
    archives_spikes=True,
)
