"""PyNN's standard cell types on brainsim's neuron models, translated as pyNN.nest does.

Each class names the brainsim model (`brainsim_model`, a built-in or a shipped equation
model of models/neurons) and PyNN -> NEST translations (PyNN nF, nA, uS; NEST pF, pA, nS).
Spike sources are parrot_neuron populations fed by inputs, as pyNN.nest uses parrots.
"""
from __future__ import annotations

from pyNN import errors

from brainsim.pynn.unsupported import NotSupportedByBrainsim
from pyNN.standardmodels import build_translations, cells

_IF_CURR = (
    ('v_rest', 'E_L'), ('v_reset', 'V_reset'), ('cm', 'C_m', 1000.0),
    ('tau_m', 'tau_m'), ('tau_refrac', 't_ref'), ('tau_syn_E', 'tau_syn_ex'),
    ('tau_syn_I', 'tau_syn_in'), ('v_thresh', 'V_th'), ('i_offset', 'I_e', 1000.0))
_IF_COND = (
    ('v_rest', 'E_L'), ('v_reset', 'V_reset'), ('cm', 'C_m', 1000.0),
    ('tau_m', 'g_L', "cm/tau_m*1000.0", "C_m/g_L"), ('tau_refrac', 't_ref'),
    ('tau_syn_E', 'tau_syn_ex'), ('tau_syn_I', 'tau_syn_in'), ('v_thresh', 'V_th'),
    ('i_offset', 'I_e', 1000.0), ('e_rev_E', 'E_ex'), ('e_rev_I', 'E_in'))
_EIF = (
    ('cm', 'C_m', 1000.0), ('tau_refrac', 't_ref'), ('v_spike', 'V_peak'),
    ('v_reset', 'V_reset'), ('v_rest', 'E_L'), ('tau_m', 'g_L', "cm/tau_m*1000.0", "C_m/g_L"),
    ('i_offset', 'I_e', 1000.0), ('a', 'a'), ('b', 'b', 1000.0), ('delta_T', 'Delta_T'),
    ('tau_w', 'tau_w'), ('v_thresh', 'V_th'), ('e_rev_E', 'E_ex'),
    ('tau_syn_E', 'tau_syn_ex'), ('e_rev_I', 'E_in'), ('tau_syn_I', 'tau_syn_in'))
_COND_VARIABLES = {'v': 'V_m', 'gsyn_exc': 'g_ex', 'gsyn_inh': 'g_in'}
_COND_SCALES = {'v': 1, 'gsyn_exc': 0.001, 'gsyn_inh': 0.001}


class IF_curr_exp(cells.IF_curr_exp):
    __doc__ = cells.IF_curr_exp.__doc__
    translations = build_translations(*_IF_CURR)
    variable_map = {'v': 'V_m', 'isyn_exc': 'i_syn_ex', 'isyn_inh': 'i_syn_in'}
    scale_factors = {'v': 1, 'isyn_exc': 0.001, 'isyn_inh': 0.001}
    brainsim_model = "iaf_psc_exp"


class IF_curr_alpha(cells.IF_curr_alpha):
    __doc__ = cells.IF_curr_alpha.__doc__
    translations = build_translations(*_IF_CURR)
    variable_map = {'v': 'V_m'}
    scale_factors = {'v': 1}
    brainsim_model = "iaf_psc_alpha"


class IF_curr_delta(cells.IF_curr_delta):
    __doc__ = cells.IF_curr_delta.__doc__
    translations = build_translations(*[t for t in _IF_CURR if not t[0].startswith('tau_syn')])
    variable_map = {'v': 'V_m'}
    scale_factors = {'v': 1}
    brainsim_model = "iaf_psc_delta"
    receptor_scale = 1e-3      # weights are PSP jumps in mV: undo the nA -> pA factor


class IF_cond_exp(cells.IF_cond_exp):
    __doc__ = cells.IF_cond_exp.__doc__
    translations = build_translations(*_IF_COND)
    variable_map = _COND_VARIABLES
    scale_factors = _COND_SCALES
    brainsim_model = "iaf_cond_exp"


class IF_cond_alpha(cells.IF_cond_alpha):
    __doc__ = cells.IF_cond_alpha.__doc__
    translations = build_translations(*_IF_COND)
    variable_map = _COND_VARIABLES
    scale_factors = _COND_SCALES
    brainsim_model = "iaf_cond_alpha"


class EIF_cond_exp_isfa_ista(cells.EIF_cond_exp_isfa_ista):
    __doc__ = cells.EIF_cond_exp_isfa_ista.__doc__
    translations = build_translations(*_EIF)
    variable_map = {**_COND_VARIABLES, 'w': 'w'}
    scale_factors = {**_COND_SCALES, 'w': 0.001}
    brainsim_model = "aeif_cond_exp"


class EIF_cond_alpha_isfa_ista(cells.EIF_cond_alpha_isfa_ista):
    __doc__ = cells.EIF_cond_alpha_isfa_ista.__doc__
    translations = build_translations(*_EIF)
    variable_map = {**_COND_VARIABLES, 'w': 'w'}
    scale_factors = {**_COND_SCALES, 'w': 0.001}
    brainsim_model = "aeif_cond_alpha"      # the equation model models/neurons/aeif_cond_alpha.yaml


class Izhikevich(cells.Izhikevich):
    __doc__ = cells.Izhikevich.__doc__
    translations = build_translations(
        ('a', 'a'), ('b', 'b'), ('c', 'c'), ('d', 'd'), ('i_offset', 'I_e', 1000.0))
    variable_map = {'v': 'V_m', 'u': 'U_m'}
    scale_factors = {'v': 1, 'u': 1}
    brainsim_model = "izhikevich"
    receptor_scale = 1e-3      # weights are jumps of V_m in mV


class HH_cond_exp(cells.HH_cond_exp):
    __doc__ = cells.HH_cond_exp.__doc__
    translations = build_translations(
        ('gbar_Na', 'g_Na', 1000.0), ('gbar_K', 'g_K', 1000.0), ('g_leak', 'g_L', 1000.0),
        ('cm', 'C_m', 1000.0), ('v_offset', 'V_T'), ('e_rev_Na', 'E_Na'), ('e_rev_K', 'E_K'),
        ('e_rev_leak', 'E_L'), ('e_rev_E', 'E_ex'), ('e_rev_I', 'E_in'),
        ('tau_syn_E', 'tau_syn_ex'), ('tau_syn_I', 'tau_syn_in'), ('i_offset', 'I_e', 1000.0))
    variable_map = {**_COND_VARIABLES, 'm': 'Act_m', 'n': 'Act_n', 'h': 'Inact_h'}
    scale_factors = {**_COND_SCALES, 'm': 1, 'n': 1, 'h': 1}
    brainsim_model = "hh_cond_exp_traub"

    def __init__(self, **parameters):
        raise NotSupportedByBrainsim(
            "HH_cond_exp needs NEST's hh_cond_exp_traub, which brainsim does not have yet "
            "(neither built in nor as an equation model in models/neurons)")


class SpikeSourcePoisson(cells.SpikeSourcePoisson):
    """Parrot neurons, each fed by its own Poisson train (NEST poisson_generator)."""
    __doc__ = cells.SpikeSourcePoisson.__doc__
    translations = build_translations(
        ('rate', 'rate'), ('start', 'start'),
        ('duration', 'stop', "start+duration", "stop-start"))
    brainsim_model = "parrot_neuron"
    variable_map = {}
    scale_factors = {}


class SpikeSourceArray(cells.SpikeSourceArray):
    """Parrot neurons fed by a spike_generator; the parrot re-emits a spike one
    min_delay after the generator's time, so times are shifted back by min_delay (as
    pyNN.nest does) and the parrot spikes at the requested times."""
    __doc__ = cells.SpikeSourceArray.__doc__
    translations = build_translations(('spike_times', 'spike_times'))
    brainsim_model = "parrot_neuron"
    variable_map = {}
    scale_factors = {}


STANDARD_CELLS = (IF_curr_exp, IF_curr_alpha, IF_curr_delta, IF_cond_exp, IF_cond_alpha,
                  EIF_cond_exp_isfa_ista, EIF_cond_alpha_isfa_ista, Izhikevich, HH_cond_exp,
                  SpikeSourcePoisson, SpikeSourceArray)
