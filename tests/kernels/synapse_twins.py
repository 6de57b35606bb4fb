"""Pure-Python twins of the synapse delivery kernels (test oracles only), and SYNAPSE_TWINS,
the registry of every declared synapse model's twin (tests/unit/test_synapse_catalogue.py
requires one per model).

static_synapse: kernel_twins.deliver_twin; stdp_synapse and stdp_pl_synapse_hom: the
per-synapse reference of test_stdp_delivery.py; tsodyks_synapse and tsodyks2_synapse:
short_term_twin below, which follows cython_kernels/short_term.pyx operation by operation
(same order, same libm exp), so it agrees bit for bit.
"""
import math
from dataclasses import dataclass
from typing import Callable

from kernel_twins import M32, deliver_twin
from test_stdp_delivery import reference as stdp_reference


def _tsodyks_factor(state, s, h, U, tau_psc, tau_fac, tau_rec):
    """NEST tsodyks_synapse: propagate x, y, u of source s over h ms, jump u, return u x
    and move it from x to y."""
    x, y, u = state["x"], state["y"], state["u"]
    Puu = 0.0 if tau_fac == 0.0 else math.exp(-h / tau_fac)
    Pyy = math.exp(-h / tau_psc)
    Pzz = math.exp(-h / tau_rec)
    Pxy = ((Pzz - 1.0) * tau_rec - (Pyy - 1.0) * tau_psc) / (tau_psc - tau_rec)
    Pxz = 1.0 - Pzz
    z = 1.0 - x[s] - y[s]
    u[s] *= Puu
    x[s] += Pxy * y[s] + Pxz * z
    y[s] *= Pyy
    u[s] += U * (1.0 - u[s])
    factor = u[s] * x[s]
    x[s] -= factor
    y[s] += factor
    return factor


def _tsodyks2_factor(state, s, h, U, tau_fac, tau_rec, first):
    """NEST 3.10 tsodyks2_synapse: x, u of source s advanced over h ms (not before its
    first spike), return x u."""
    x, u = state["x"], state["u"]
    if not first:
        x_decay = math.exp(-h / tau_rec)
        u_decay = 0.0 if tau_fac == 0.0 else math.exp(-h / tau_fac)
        x[s] = 1. + (x[s] - x[s] * u[s] - 1.) * x_decay
        u[s] = U + u[s] * (1. - U) * u_decay
    return x[s] * u[s]


def short_term_twin(spike_keys, epoch_first_step, row_ptr, targets, weights, delay_steps,
                    source_offset, state, variant, U, tau_psc, tau_fac, tau_rec, dt, ring,
                    unit_events=0):
    """Per-key, per-synapse twin of short_term.deliver_tsodyks: state holds the per-source
    arrays x, y, u (float64) and t_last (int64 steps), updated in place; ring (slot, target,
    channel) receives weight * factor (1.0 per event when unit_events)."""
    ring_len = ring.shape[0]
    t_last = state["t_last"]
    for key in spike_keys:
        gid, lag = int(key) & M32, int(key) >> 32
        s = gid - source_offset
        if not 0 <= s < t_last.shape[0]:
            continue
        t = epoch_first_step + lag + 1
        h = float(t) * dt - float(t_last[s]) * dt
        if variant == 1:
            factor = _tsodyks_factor(state, s, h, U, tau_psc, tau_fac, tau_rec)
        else:
            factor = _tsodyks2_factor(state, s, h, U, tau_fac, tau_rec, t_last[s] <= 0)
        t_last[s] = t
        for syn in range(row_ptr[gid], row_ptr[gid + 1]):
            w = factor * weights[syn] if variant == 1 else weights[syn] * factor
            if unit_events:
                w = 1.0
            slot = (epoch_first_step + lag + int(delay_steps[syn])) % ring_len
            ring[slot, targets[syn], 1 if w < 0.0 else 0] += w


@dataclass(frozen=True)
class SynapseTwin:
    """The Python twin of one synapse model's delivery kernel: the twin, the name the test
    module calls it by, and the test module in tests/kernels that runs kernel and twin side
    by side."""
    twin: Callable
    called_as: str
    test_module: str


# One twin per declared synapse model (tests/unit/test_synapse_catalogue.py requires it).
SYNAPSE_TWINS = {
    "static_synapse": SynapseTwin(deliver_twin, "tw.deliver_twin", "test_delivery.py"),
    "stdp_synapse": SynapseTwin(stdp_reference, "reference(keys, net, 0)",
                                "test_stdp_delivery.py"),
    "stdp_pl_synapse_hom": SynapseTwin(stdp_reference, "reference(keys, net, 1)",
                                       "test_stdp_delivery.py"),
    "tsodyks_synapse": SynapseTwin(short_term_twin, "st.short_term_twin",
                                   "test_short_term_delivery.py"),
    "tsodyks2_synapse": SynapseTwin(short_term_twin, "st.short_term_twin",
                                    "test_short_term_delivery.py"),
}
