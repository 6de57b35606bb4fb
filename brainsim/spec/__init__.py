"""Model specification: YAML model files, run configs and --set overrides -> ResolvedModel.

    from brainsim.spec import load_model, SpecError
    model = load_model("models/potjans_diesmann_2014.yaml", "configs/laptop.yaml",
                       overrides=["simulation.seed=7"])

The format is documented key by key in docs/model-format.md. This package imports neither
MPI nor h5py nor the compiled kernels.
"""
from .errors import SpecError
from .load import load_model
from .model import (DCInput, Distribution, PoissonInput, Population, Projection, Recording,
                    ResolvedModel, Simulation)
from .neuron_models import NEURON_MODELS, NeuronModel, psc_over_psp

__all__ = ["SpecError", "load_model", "ResolvedModel", "Population", "Projection",
           "PoissonInput", "DCInput", "Distribution", "Simulation", "Recording",
           "NEURON_MODELS", "NeuronModel", "psc_over_psp"]
