"""PyNN's synapse types on brainsim's synapse models, translated as pyNN.nest does
(weights nA/uS -> pA/nS; STDP onto NEST's stdp_synapse with mu_plus / mu_minus chosen by
the weight dependence; TsodyksMarkram onto tsodyks_synapse with tau_psc copied from the
target's synaptic time constant)."""
from __future__ import annotations

from pyNN import errors

from brainsim.pynn.unsupported import NotSupportedByBrainsim
from pyNN.standardmodels import build_translations, synapses

_WEIGHT_DELAY = (('weight', 'weight', 1000.0), ('delay', 'delay'))


class _MinimumDelay:
    def _get_minimum_delay(self):
        """The default delay (ms): min_delay of setup(), as pyNN.nest."""
        from brainsim.pynn.simulator import state
        return state.min_delay


class StaticSynapse(synapses.StaticSynapse, _MinimumDelay):
    __doc__ = synapses.StaticSynapse.__doc__
    translations = build_translations(*_WEIGHT_DELAY)
    brainsim_model = "static_synapse"


class TsodyksMarkramSynapse(synapses.TsodyksMarkramSynapse, _MinimumDelay):
    __doc__ = synapses.TsodyksMarkramSynapse.__doc__
    translations = build_translations(
        *_WEIGHT_DELAY, ('U', 'U'), ('tau_rec', 'tau_rec'), ('tau_facil', 'tau_fac'))
    brainsim_model = "tsodyks_synapse"


class STDPMechanism(synapses.STDPMechanism, _MinimumDelay):
    __doc__ = synapses.STDPMechanism.__doc__
    base_translations = build_translations(
        *_WEIGHT_DELAY, ('dendritic_delay_fraction', 'dendritic_delay_fraction'))
    brainsim_model = "stdp_synapse"

    def __init__(self, timing_dependence=None, weight_dependence=None,
                 voltage_dependence=None, dendritic_delay_fraction=1.0, weight=0.0, delay=None):
        if dendritic_delay_fraction != 1:
            raise NotSupportedByBrainsim(
                "brainsim's stdp_synapse (as NEST's) treats every delay as dendritic: "
                "dendritic_delay_fraction must be 1")
        if voltage_dependence is not None:
            raise NotSupportedByBrainsim("voltage-dependent STDP is not available in brainsim")
        if not isinstance(timing_dependence, SpikePairRule):
            raise NotSupportedByBrainsim(
                f"STDP timing dependence {type(timing_dependence).__name__}: brainsim has "
                "SpikePairRule only")
        super().__init__(timing_dependence, weight_dependence, voltage_dependence,
                         dendritic_delay_fraction, weight, delay)


def _no_w_min(w_min):
    if w_min != 0:
        raise NotSupportedByBrainsim(
            "a nonzero w_min: brainsim's stdp_synapse (as NEST's) bounds weights below by 0")


class AdditiveWeightDependence(synapses.AdditiveWeightDependence):
    __doc__ = synapses.AdditiveWeightDependence.__doc__
    translations = build_translations(('w_max', 'Wmax', 1000.0), ('w_min', 'w_min'))
    extra_parameters = {'mu_plus': 0.0, 'mu_minus': 0.0}

    def __init__(self, w_min=0.0, w_max=1.0):
        _no_w_min(w_min)
        super().__init__(w_min, w_max)


class MultiplicativeWeightDependence(synapses.MultiplicativeWeightDependence):
    __doc__ = synapses.MultiplicativeWeightDependence.__doc__
    translations = build_translations(('w_max', 'Wmax', 1000.0), ('w_min', 'w_min'))
    extra_parameters = {'mu_plus': 1.0, 'mu_minus': 1.0}

    def __init__(self, w_min=0.0, w_max=1.0):
        _no_w_min(w_min)
        super().__init__(w_min, w_max)


class AdditivePotentiationMultiplicativeDepression(
        synapses.AdditivePotentiationMultiplicativeDepression):
    __doc__ = synapses.AdditivePotentiationMultiplicativeDepression.__doc__
    translations = build_translations(('w_max', 'Wmax', 1000.0), ('w_min', 'w_min'))
    extra_parameters = {'mu_plus': 0.0, 'mu_minus': 1.0}

    def __init__(self, w_min=0.0, w_max=1.0):
        _no_w_min(w_min)
        super().__init__(w_min, w_max)


class GutigWeightDependence(synapses.GutigWeightDependence):
    __doc__ = synapses.GutigWeightDependence.__doc__
    translations = build_translations(('w_max', 'Wmax', 1000.0), ('w_min', 'w_min'),
                                      ('mu_plus', 'mu_plus'), ('mu_minus', 'mu_minus'))

    def __init__(self, w_min=0.0, w_max=1.0, mu_plus=0.5, mu_minus=0.5):
        _no_w_min(w_min)
        super().__init__(w_min, w_max, mu_plus, mu_minus)


def _alpha_from_A_minus(**p):
    # NEST's depression is alpha * lambda: alpha = A_minus / A_plus (A_plus 0: kept as is)
    return p["A_minus"] if p["A_plus"] == 0 else p["A_minus"] / p["A_plus"]


def _A_minus_from_alpha(**p):
    return p["alpha"] if p["lambda"] == 0 else p["alpha"] * p["lambda"]


class SpikePairRule(synapses.SpikePairRule):
    __doc__ = synapses.SpikePairRule.__doc__
    translations = build_translations(
        ('tau_plus', 'tau_plus'), ('tau_minus', 'tau_minus'), ('A_plus', 'lambda'),
        ('A_minus', 'alpha', _alpha_from_A_minus, _A_minus_from_alpha))
