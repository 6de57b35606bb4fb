"""Neuron model groups: the populations of one NEST model on this rank, and their kernel.

Each group owns the local index ranges (segments) of its populations and per-segment
constants (propagators, thresholds in steps), computed once before the run as NEST does.
State lives in the LocalNetwork's flat per-variable arrays, indexed by local index, so a
checkpoint is a set of arrays keyed by gid whatever the model mix.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cython_kernels import iaf_psc_delta, iaf_psc_exp
from brainsim.network.inputs import DCTable, PoissonTable


def _exp_segment_params(p: dict, dt: float) -> list[float]:
    """iaf_psc_exp constants: P22, P21ex, P21in, P20, P11ex, P11in, I_e, theta, V_reset, t_ref steps.

    Potentials are relative to E_L (mV), as NEST stores them.
    """
    P11ex, P21ex, P22, P20 = iaf_psc_exp.propagators(dt, p["tau_m"], p["tau_syn_ex"], p["C_m"])
    P11in, P21in, _, _ = iaf_psc_exp.propagators(dt, p["tau_m"], p["tau_syn_in"], p["C_m"])
    return [P22, P21ex, P21in, P20, P11ex, P11in, p["I_e"], p["V_th"] - p["E_L"],
            p["V_reset"] - p["E_L"], float(round(p["t_ref"] / dt))]


def _delta_segment_params(p: dict, dt: float) -> list[float]:
    """iaf_psc_delta constants: P33, P30, I_e, theta, V_reset, V_min, t_ref steps,
    refractory_input, tau_m (ms) and dt (ms), which discount input arriving while
    refractory by exp(-r*dt/tau_m) exactly as NEST computes it."""
    P33 = math.exp(-dt / p["tau_m"])
    P30 = 1.0 / p["C_m"] * (1.0 - P33) * p["tau_m"]   # NEST's exact expression, bit for bit
    return [P33, P30, p["I_e"], p["V_th"] - p["E_L"], p["V_reset"] - p["E_L"],
            p["V_min"] - p["E_L"], float(round(p["t_ref"] / dt)),
            1.0 if p["refractory_input"] else 0.0, p["tau_m"], dt]


@dataclass(frozen=True)
class KernelModel:
    """How to drive one NEST neuron model: its state arrays and its compiled update."""
    name: str
    state_variables: tuple[str, ...]      # beyond V_m / i_0 / refractory, shared by all
    segment_params: object
    kernel: object


KERNEL_MODELS = {
    "iaf_psc_exp": KernelModel("iaf_psc_exp", ("i_syn_ex", "i_syn_in"),
                               _exp_segment_params, iaf_psc_exp),
    "iaf_psc_delta": KernelModel("iaf_psc_delta", ("refr_spikes_buffer",),
                                 _delta_segment_params, iaf_psc_delta),
}

# State every model has: membrane potential relative to E_L (mV), the DC current applied
# in the next update (pA), remaining refractory steps.
COMMON_STATE = ("V_m", "i_0")


@dataclass
class NeuronGroup:
    """All local neurons of one model: segments [begin, end) of local indices."""
    model: KernelModel
    populations: list[int]
    seg_begin: np.ndarray
    seg_end: np.ndarray
    seg_params: np.ndarray
    poisson: PoissonTable
    dc: DCTable

    def update(self, state: dict, ring: np.ndarray, local_gids: np.ndarray,
               first_step: int, num_steps: int, seed: int, spike_keys: np.ndarray) -> int:
        """Advance every neuron of the group num_steps steps; returns spikes written."""
        args = [self.seg_begin, self.seg_end, self.seg_params, state["V_m"]]
        if self.model.name == "iaf_psc_exp":
            args += [state["i_syn_ex"], state["i_syn_in"], state["i_0"], state["refractory"]]
        else:
            args += [state["i_0"], state["refractory"], state["refr_spikes_buffer"]]
        p, d = self.poisson, self.dc
        args += [ring, local_gids,
                 p.seg, p.item, p.weight, p.delay_steps, p.first_step, p.stop_step,
                 p.cdf, p.table_len, p.lam,
                 d.seg, d.amplitude, d.first_step, d.stop_step,
                 first_step, num_steps, seed, spike_keys]
        return self.model.kernel.update(*args)
