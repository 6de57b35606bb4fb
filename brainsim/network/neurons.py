"""Neuron model groups: the populations of one NEST model on this rank, and their kernel.

Each group owns the local index ranges (segments) of its populations and per-segment
constants (propagators, thresholds in steps), computed once before the run as NEST does.
State lives in the LocalNetwork's flat per-variable arrays, indexed by local index, so a
checkpoint is a set of arrays keyed by gid whatever the model mix. Refractory periods are
whole steps rounded up, as NEST (brainsim.timesteps.steps_rounded_up).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from cython_kernels import (aeif_cond_exp, iaf_cond_alpha, iaf_cond_exp, iaf_psc_alpha,
                            iaf_psc_delta, iaf_psc_exp, izhikevich, parrot_neuron)
from cython_kernels.inputs import InputPlan
from brainsim.network.inputs import DCTable, PoissonTable, input_plan
from brainsim.timesteps import steps_rounded_up


def _exp_segment_params(p: dict, dt: float) -> list[float]:
    """iaf_psc_exp constants: P22, P21ex, P21in, P20, P11ex, P11in, I_e, theta, V_reset, t_ref steps.

    Potentials are relative to E_L (mV), as NEST stores them.
    """
    P11ex, P21ex, P22, P20 = iaf_psc_exp.propagators(dt, p["tau_m"], p["tau_syn_ex"], p["C_m"])
    P11in, P21in, _, _ = iaf_psc_exp.propagators(dt, p["tau_m"], p["tau_syn_in"], p["C_m"])
    return [P22, P21ex, P21in, P20, P11ex, P11in, p["I_e"], p["V_th"] - p["E_L"],
            p["V_reset"] - p["E_L"], float(steps_rounded_up(p["t_ref"], dt))]


def _delta_segment_params(p: dict, dt: float) -> list[float]:
    """iaf_psc_delta constants: P33, P30, I_e, theta, V_reset, V_min, t_ref steps,
    refractory_input, tau_m (ms) and dt (ms), which discount input arriving while
    refractory by exp(-r*dt/tau_m) exactly as NEST computes it."""
    P33 = math.exp(-dt / p["tau_m"])
    P30 = 1.0 / p["C_m"] * (1.0 - P33) * p["tau_m"]   # NEST's exact expression, bit for bit
    return [P33, P30, p["I_e"], p["V_th"] - p["E_L"], p["V_reset"] - p["E_L"],
            p["V_min"] - p["E_L"], float(steps_rounded_up(p["t_ref"], dt)),
            1.0 if p["refractory_input"] else 0.0, p["tau_m"], dt]


def _alpha_segment_params(p: dict, dt: float) -> list[float]:
    """iaf_psc_alpha constants (IafPscAlphaParam order), as NEST's pre_run_hook; potentials
    relative to E_L (mV)."""
    return iaf_psc_alpha.segment_params(
        dt, p["tau_m"], p["C_m"], p["tau_syn_ex"], p["tau_syn_in"], p["I_e"],
        p["V_th"] - p["E_L"], p["V_reset"] - p["E_L"], p["V_min"] - p["E_L"],
        steps_rounded_up(p["t_ref"], dt))


def _cond_segment_params(p: dict, dt: float) -> list[float]:
    """iaf_cond_exp constants (IafCondExpParam order); potentials absolute (mV)."""
    return [p["V_th"], p["V_reset"], p["E_ex"], p["E_in"], p["E_L"], p["g_L"], p["C_m"],
            p["tau_syn_ex"], p["tau_syn_in"], p["I_e"],
            float(steps_rounded_up(p["t_ref"], dt)), dt]


def _cond_alpha_segment_params(p: dict, dt: float) -> list[float]:
    """iaf_cond_alpha constants: those of iaf_cond_exp, then e/tau_syn_ex, e/tau_syn_in
    (1/ms, NEST's PSConInit_E / _I)."""
    return _cond_segment_params(p, dt) + [1.0 * math.e / p["tau_syn_ex"],
                                          1.0 * math.e / p["tau_syn_in"]]


def _aeif_segment_params(p: dict, dt: float) -> list[float]:
    """aeif_cond_exp constants (AeifCondExpParam order); potentials absolute (mV). Spikes
    are detected at V_peak, or at V_th when Delta_T = 0 (NEST's V_.V_peak)."""
    v_spike = p["V_peak"] if p["Delta_T"] > 0 else p["V_th"]
    return [p["V_peak"], v_spike, p["V_reset"], p["V_th"], p["E_ex"], p["E_in"], p["E_L"],
            p["g_L"], p["C_m"], p["Delta_T"], p["tau_w"], p["a"], p["b"], p["tau_syn_ex"],
            p["tau_syn_in"], p["I_e"], p["gsl_error_tol"],
            float(steps_rounded_up(p["t_ref"], dt)), dt]


def _izhikevich_segment_params(p: dict, dt: float) -> list[float]:
    """izhikevich constants: a, b, c, d, I_e, V_th, V_min, consistent_integration, h."""
    return [p["a"], p["b"], p["c"], p["d"], p["I_e"], p["V_th"], p["V_min"],
            1.0 if p["consistent_integration"] else 0.0, dt]


def _no_segment_params(p: dict, dt: float) -> list[float]:
    return []


@dataclass(frozen=True)
class KernelModel:
    """How to drive one NEST neuron model: its state arrays and its compiled update.

    ``update_state`` names the state arrays the kernel's ``update`` takes after
    ``seg_params``, in its argument order; ``state_variables`` are those of them the network
    must create as float64 arrays besides COMMON_STATE (``refractory`` is int32 and always
    present). ``kernel.update(seg_begin, seg_end, seg_params, *state arrays, ring,
    local_gids, plan, first_step, num_steps, seed, spike_keys, i_ext)``, where ``plan`` is
    the group's InputPlan (Poisson and DC inputs, scratch), ``i_ext`` [num_steps, n_local]
    (pA) is the extra current (noise_generator) of each local neuron in the update of each
    step, added where the DC enters, or 0 rows for none; it returns the number of spikes.
    """
    name: str
    state_variables: tuple[str, ...]
    update_state: tuple[str, ...]
    segment_params: object
    kernel: object


KERNEL_MODELS = {m.name: m for m in (
    KernelModel("iaf_psc_exp", ("i_syn_ex", "i_syn_in"),
                ("V_m", "i_syn_ex", "i_syn_in", "i_0", "refractory"),
                _exp_segment_params, iaf_psc_exp),
    KernelModel("iaf_psc_delta", ("refr_spikes_buffer",),
                ("V_m", "i_0", "refractory", "refr_spikes_buffer"),
                _delta_segment_params, iaf_psc_delta),
    KernelModel("iaf_psc_alpha", ("i_syn_ex", "di_syn_ex", "i_syn_in", "di_syn_in"),
                ("V_m", "i_syn_ex", "di_syn_ex", "i_syn_in", "di_syn_in", "i_0", "refractory"),
                _alpha_segment_params, iaf_psc_alpha),
    KernelModel("iaf_cond_exp", ("g_ex", "g_in", "ode_h"),
                ("V_m", "g_ex", "g_in", "i_0", "refractory", "ode_h"),
                _cond_segment_params, iaf_cond_exp),
    KernelModel("iaf_cond_alpha", ("g_ex", "dg_ex", "g_in", "dg_in", "ode_h"),
                ("V_m", "g_ex", "dg_ex", "g_in", "dg_in", "i_0", "refractory", "ode_h"),
                _cond_alpha_segment_params, iaf_cond_alpha),
    KernelModel("aeif_cond_exp", ("g_ex", "g_in", "w", "ode_h"),
                ("V_m", "g_ex", "g_in", "w", "i_0", "refractory", "ode_h"),
                _aeif_segment_params, aeif_cond_exp),
    KernelModel("izhikevich", ("U_m",), ("V_m", "U_m", "i_0"),
                _izhikevich_segment_params, izhikevich),
    KernelModel("parrot_neuron", (), (), _no_segment_params, parrot_neuron),
)}

# i_ext of a group update without noise_generator input: no rows, no per-step work.
NO_CURRENT = np.zeros((0, 0), dtype=np.float64)

# State every model has: membrane potential (mV, relative to E_L where the model has E_L),
# the DC current applied in the next update (pA), and the int32 array ``refractory``
# (remaining refractory steps); ``ode_h`` is the RKF45 step size (ms) of the
# conductance-based models, carried over between steps as NEST does.
COMMON_STATE = ("V_m", "i_0")


@dataclass
class NeuronGroup:
    """All local neurons of one model: segments [begin, end) of local indices, and the
    InputPlan of their Poisson and DC inputs (built once, with the group)."""
    model: KernelModel
    populations: list[int]
    seg_begin: np.ndarray
    seg_end: np.ndarray
    seg_params: np.ndarray
    poisson: PoissonTable
    dc: DCTable
    plan: InputPlan = field(init=False, repr=False)

    def __post_init__(self):
        # scratch for one-step epochs; the first longer epoch grows it once
        self.plan = input_plan(self.poisson, self.dc, len(self.seg_begin))

    def update(self, state: dict, ring: np.ndarray, local_gids: np.ndarray,
               first_step: int, num_steps: int, seed: int, spike_keys: np.ndarray,
               i_ext: np.ndarray = NO_CURRENT) -> int:
        """Advance every neuron of the group num_steps steps; returns the number n of spikes.

        Spike keys ((lag << 32) | gid, lag in steps after first_step) go to spike_keys; when
        n > len(spike_keys) (several spikes per neuron and step) the rest wait in the plan:
        ``with_spilled`` collects them. i_ext: [num_steps, n_local] pA, row j = the noise
        current each local neuron gets in the update of step first_step + j
        (NoiseCurrents.epoch_currents), or 0 rows: none.
        """
        return self.model.kernel.update(
            self.seg_begin, self.seg_end, self.seg_params,
            *[state[name] for name in self.model.update_state],
            ring, local_gids, self.plan, first_step, num_steps, seed, spike_keys, i_ext)

    def with_spilled(self, keys: np.ndarray, begin: int, n: int) -> np.ndarray:
        """After ``update(..., keys[begin:], ...)`` returned n > len(keys) - begin: a copy
        of keys, grown by doubling, with all n spikes of that update at [begin, begin + n)."""
        grown = np.zeros(max(2 * keys.shape[0], begin + n), dtype=np.uint64)
        grown[:keys.shape[0]] = keys
        grown[keys.shape[0]:begin + n] = self.plan.spilled_keys()
        return grown
