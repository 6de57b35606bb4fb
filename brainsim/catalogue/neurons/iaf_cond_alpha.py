"""NEST iaf_cond_alpha: conductance-based leaky integrate-and-fire with alpha-shaped
conductances, integrated by RKF45 (kernel cython_kernels/iaf_cond_alpha.pyx)."""
from __future__ import annotations

import math

from brainsim.catalogue.neurons import iaf_cond_exp
from brainsim.catalogue.neurons.declaration import INT32, NeuronModel, StateVariable


def segment_constants(p, dt: float, kernel) -> dict:
    """Those of iaf_cond_exp, and e/tau_syn_ex, e/tau_syn_in (1/ms, NEST's PSConInit_E
    and PSConInit_I)."""
    constants = iaf_cond_exp.segment_constants(p, dt, kernel)
    constants["psc_init_ex"] = 1.0 * math.e / p["tau_syn_ex"]
    constants["psc_init_in"] = 1.0 * math.e / p["tau_syn_in"]
    return constants


IAF_COND_ALPHA = NeuronModel(
    name="iaf_cond_alpha",
    parameters=iaf_cond_exp.CONDUCTANCE_PARAMETERS,
    state=(
        StateVariable("V_m", "mV", initial="E_L", init_stream_item=0, recordable=True,
                      relative_to="E_L"),
        StateVariable("g_ex", "nS", initial=0.0, init_stream_item=5, recordable=True),
        StateVariable("dg_ex", "nS/ms"),
        StateVariable("g_in", "nS", initial=0.0, init_stream_item=6, recordable=True),
        StateVariable("dg_in", "nS/ms"),
        StateVariable("i_0", "pA", init_stream_item=3),
        StateVariable("refractory", "steps", dtype=INT32),
        StateVariable("ode_h", "ms")),
    weight_unit="nS",
    kernel="cython_kernels.iaf_cond_alpha",
    segment_constants=segment_constants,
    charge=iaf_cond_exp.conductance_charge(alpha=True),
    receptors=iaf_cond_exp.CONDUCTANCE_PORTS,
    checks=iaf_cond_exp.CONDUCTANCE_CHECKS,
)
