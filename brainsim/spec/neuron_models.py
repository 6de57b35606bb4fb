"""The neuron models as the spec layer sees them: the declarations of
brainsim.catalogue.neurons (the one place each model is defined), re-exported under the
names the spec modules import."""
from brainsim.catalogue.neurons import (NEURON_MODELS, DeclarationError, NeuronModel,
                                        alpha_psp, charge_per_unit_weight, neuron_models,
                                        psc_over_psp, psc_over_psp_alpha, psp_to_native)

__all__ = ["NEURON_MODELS", "NeuronModel", "DeclarationError", "neuron_models",
           "psp_to_native", "charge_per_unit_weight", "psc_over_psp", "psc_over_psp_alpha",
           "alpha_psp"]
