"""NEST parrot_neuron: re-emits every incoming spike, with its multiplicity, ignoring the
weight (kernel cython_kernels/parrot_neuron.pyx); no state."""
from __future__ import annotations

from brainsim.catalogue.neurons.declaration import NeuronModel, Parameter, sign_chosen_ports


def segment_constants(p, dt: float, kernel) -> dict:
    return {}


def _charge(p, port) -> float:
    """A parrot takes no current: nothing to compensate."""
    return 0.0


PARROT_NEURON = NeuronModel(
    name="parrot_neuron",
    parameters=(Parameter("tau_minus", "ms", 20.0,
                          note="postsynaptic STDP trace (NEST's ArchivingNode)"),),
    state=(),
    weight_unit="spikes",
    kernel="cython_kernels.parrot_neuron",
    segment_constants=segment_constants,
    charge=_charge,
    receptors=sign_chosen_ports(),
    ignores_weight=True,
    archives_spikes=True,
)
