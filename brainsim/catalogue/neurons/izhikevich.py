"""NEST izhikevich: Izhikevich (2003) neuron with NEST's own Euler update
(kernel cython_kernels/izhikevich.pyx; V_m absolute, the model has no E_L)."""
from __future__ import annotations

import math

from brainsim.catalogue.neurons.declaration import (NeuronModel, Parameter, StateVariable,
                                                    sign_chosen_ports)


def segment_constants(p, dt: float, kernel) -> dict:
    """a, b (1/ms), c, d, I_e, V_th, V_min, consistent_integration (0/1), h = dt (ms)."""
    return {"a": p["a"], "b": p["b"], "c": p["c"], "d": p["d"], "I_e": p["I_e"],
            "V_th": p["V_th"], "V_min": p["V_min"],
            "consistent_integration": 1.0 if p["consistent_integration"] else 0.0, "h": dt}


def _charge(p, port) -> float:
    """I_e (nominally pA) enters dV/dt directly (mV/ms): a jump of w mV is w "pA*ms"."""
    return 1.0


IZHIKEVICH = NeuronModel(
    name="izhikevich",
    parameters=(
        Parameter("a", "1/ms", 0.02), Parameter("b", "1/ms", 0.2),
        Parameter("c", "mV", -65.0), Parameter("d", "mV/ms", 8.0),
        Parameter("V_th", "mV", 30.0),
        Parameter("V_min", "mV", -math.inf, may_be_minus_inf=True,
                  note="-inf: no lower bound"),
        Parameter("I_e", "pA", 0.0, note="enters dV/dt as mV/ms"),
        Parameter("consistent_integration", "", True, flag=True,
                  note="false: the two half steps of Izhikevich (2003)")),
    state=(
        StateVariable("V_m", "mV", initial=-65.0, init_stream_item=0, recordable=True),
        StateVariable("U_m", "mV/ms", initial=-13.0, init_stream_item=8, recordable=True),
        StateVariable("i_0", "pA", init_stream_item=3)),
    weight_unit="mV",
    kernel="cython_kernels.izhikevich",
    segment_constants=segment_constants,
    charge=_charge,
    receptors=sign_chosen_ports(),
)
