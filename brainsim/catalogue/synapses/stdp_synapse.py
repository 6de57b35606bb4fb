"""NEST stdp_synapse (models/stdp_synapse.h): the pair-based rule, facilitation by the
postsynaptic spikes since the previous presynaptic one, depression by K_minus at t - d
(kernel cython_kernels/stdp.deliver_stdp, power_law=0)."""
from __future__ import annotations

from brainsim.catalogue.synapses.declaration import (INT64, PerSourceState, SynapseModel,
                                                     SynapseParameter)
from brainsim.catalogue.synapses.weights import SameSignAs

# The traces shared by both STDP models: t_last first (every plastic model's), then Kplus.
STDP_PER_SOURCE = (
    PerSourceState("t_last", "steps", 0, INT64,
                   note="stamp step of the source's last spike (0: none yet)"),
    PerSourceState("kplus", "", 0.0, note="presynaptic trace K_plus after the last spike"))


def deliver_stdp(kernel, engine, proj, received, scratch) -> None:
    """One epoch's spikes through one STDP projection: weights (in place), K_plus and t_last
    updated, each new weight added to the ring; the targets' post histories are read."""
    history = engine.network.post_history
    state, c = proj.per_source_state, proj.kernel_constants
    # positional in the kernel's order (keywords cost ~0.7 us per call, every epoch)
    kernel(received, received.shape[0], engine.step, proj.row_ptr, proj.target, proj.weight,
           proj.delay_steps, proj.source_offset, state["kplus"], state["t_last"],
           history.step, history.k, history.head, history.count, history.tau_minus,
           engine.dt, c["tau_plus"], c["lam"], c["alpha"], c["mu_plus"], c["mu_minus"],
           c["wmax"], engine.ring, scratch, c["power_law"], proj.unit_events)


def delivery_cache(kernel, num_local: int):
    """The kernel's memo of terms shared by synapses (stdp.DeliveryCache), one per rank."""
    return kernel.DeliveryCache(num_local)


def _nonzero_wmax(p):
    if p["Wmax"] == 0.0:
        return [("Wmax", "Wmax = 0", "a nonzero Wmax (same sign as the weight)")]
    return []


def _kernel_constants(p) -> dict:
    return {"tau_plus": p["tau_plus"], "lam": p["lambda"], "alpha": p["alpha"],
            "mu_plus": p["mu_plus"], "mu_minus": p["mu_minus"], "wmax": p["Wmax"],
            "power_law": 0}


STDP_SYNAPSE = SynapseModel(
    name="stdp_synapse",
    kernel="cython_kernels.stdp",
    kernel_function="deliver_stdp",
    parameters=(
        SynapseParameter("tau_plus", "ms", 20.0, above=0.0, note="presynaptic trace"),
        SynapseParameter("lambda", "", 0.01, minimum=0.0, note="learning rate"),
        SynapseParameter("alpha", "", 1.0, minimum=0.0, note="depression / facilitation"),
        SynapseParameter("mu_plus", "", 1.0, minimum=0.0, note="facilitation exponent"),
        SynapseParameter("mu_minus", "", 1.0, minimum=0.0, note="depression exponent"),
        SynapseParameter("Wmax", "", 100.0,
                         note="largest weight, in the weight's unit; nonzero, the sign of "
                              "the weights")),
    per_source=STDP_PER_SOURCE,
    uses_post_trace=True,
    checks=(_nonzero_wmax,),
    weight_rules=(SameSignAs("stdp_synapse", "Wmax"),),
    delivery=deliver_stdp,
    kernel_constants=_kernel_constants,
    scratch=delivery_cache,
)
