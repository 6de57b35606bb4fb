"""NEST stdp_pl_synapse_hom (models/stdp_pl_synapse_hom.h): the power-law rule of the
hpc_benchmark, same timing and traces as stdp_synapse, parameters common to the projection
(kernel cython_kernels/stdp.deliver_stdp, power_law=1)."""
from __future__ import annotations

from brainsim.catalogue.synapses.declaration import SynapseModel, SynapseParameter
from brainsim.catalogue.synapses.stdp_synapse import (STDP_PER_SOURCE, delivery_cache,
                                                      deliver_stdp)
from brainsim.catalogue.synapses.weights import NonNegativeWeights


def _kernel_constants(p) -> dict:
    """mu goes in as mu_plus; the kernel's power-law branch reads neither mu_minus nor
    wmax (given 1.0, as NEST has neither)."""
    return {"tau_plus": p["tau_plus"], "lam": p["lambda"], "alpha": p["alpha"],
            "mu_plus": p["mu"], "mu_minus": 1.0, "wmax": 1.0, "power_law": 1}


STDP_PL_SYNAPSE_HOM = SynapseModel(
    name="stdp_pl_synapse_hom",
    kernel="cython_kernels.stdp",
    kernel_function="deliver_stdp",
    parameters=(
        SynapseParameter("tau_plus", "ms", 20.0, above=0.0, note="presynaptic trace"),
        SynapseParameter("lambda", "", 0.1, minimum=0.0, note="learning rate"),
        SynapseParameter("alpha", "", 1.0, minimum=0.0, note="depression / facilitation"),
        SynapseParameter("mu", "", 0.4, minimum=0.0, note="facilitation exponent (w ** mu)")),
    per_source=STDP_PER_SOURCE,
    uses_post_trace=True,
    weight_rules=(NonNegativeWeights("stdp_pl_synapse_hom", reason="w ** mu"),),
    delivery=deliver_stdp,
    kernel_constants=_kernel_constants,
    scratch=delivery_cache,
)
