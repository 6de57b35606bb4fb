"""NEST 3.10 tsodyks2_synapse (models/tsodyks2_synapse.h): x and u advanced over the
interval since the previous spike, then weight * x u delivered; the first spike sends the
initial x u (kernel cython_kernels/short_term.deliver_tsodyks, variant 2)."""
from __future__ import annotations

from brainsim.catalogue.synapses.declaration import (INT64, PerSourceState, SynapseModel,
                                                     SynapseParameter)


def deliver_tsodyks2(kernel, engine, proj, received, scratch) -> None:
    """One epoch's spikes through one tsodyks2_synapse projection: x, u, t_last of the
    spiking sources updated, weight * x u added to the ring per synapse (variant 2 never
    reads y: x stands in for it)."""
    state, c = proj.per_source_state, proj.kernel_constants
    kernel(received, received.shape[0], engine.step, proj.row_ptr, proj.target, proj.weight,
           proj.delay_steps, proj.source_offset, state["x"], state["x"], state["u"],
           state["t_last"], c["variant"], c["U"], c["tau_psc"], c["tau_fac"], c["tau_rec"],
           engine.dt, engine.ring, proj.unit_events)


def _kernel_constants(p) -> dict:
    """tau_psc is not a tsodyks2_synapse parameter; variant 2 does not read it."""
    return {"variant": 2, "U": p["U"], "tau_psc": 1.0, "tau_fac": p["tau_fac"],
            "tau_rec": p["tau_rec"]}


TSODYKS2_SYNAPSE = SynapseModel(
    name="tsodyks2_synapse",
    kernel="cython_kernels.short_term",
    kernel_function="deliver_tsodyks",
    parameters=(
        SynapseParameter("U", "", 0.5, minimum=0.0, maximum=1.0,
                         note="utilisation increment per spike"),
        SynapseParameter("u", "", 0.5, minimum=0.0, maximum=1.0,
                         note="initial utilisation (NEST's default is not tied to U)"),
        SynapseParameter("x", "", 1.0, minimum=0.0, note="initial recovered fraction"),
        SynapseParameter("tau_rec", "ms", 800.0, above=0.0, note="recovery"),
        SynapseParameter("tau_fac", "ms", 0.0, minimum=0.0, note="facilitation; 0: off")),
    per_source=(
        PerSourceState("t_last", "steps", 0, INT64,
                       note="stamp step of the source's last spike (0: none yet)"),
        PerSourceState("x", "", "x", note="recovered fraction"),
        PerSourceState("u", "", "u", note="utilisation")),
    delivery=deliver_tsodyks2,
    kernel_constants=_kernel_constants,
)
