"""NEST tsodyks_synapse (models/tsodyks_synapse.h): short-term depression and facilitation
with x, y, u propagated exactly between spikes; each spike delivers weight * u x, the
weights stay constant (kernel cython_kernels/short_term.deliver_tsodyks, variant 1)."""
from __future__ import annotations

from brainsim.catalogue.synapses.declaration import (INT64, PerSourceState, SynapseModel,
                                                     SynapseParameter)


def deliver_tsodyks(kernel, engine, proj, received, scratch) -> None:
    """One epoch's spikes through one tsodyks_synapse projection: x, y, u, t_last of the
    spiking sources updated, weight * u x added to the ring per synapse."""
    state, c = proj.per_source_state, proj.kernel_constants
    kernel(received, received.shape[0], engine.step, proj.row_ptr, proj.target, proj.weight,
           proj.delay_steps, proj.source_offset, state["x"], state["y"], state["u"],
           state["t_last"], c["variant"], c["U"], c["tau_psc"], c["tau_fac"], c["tau_rec"],
           engine.dt, engine.ring, proj.unit_events)


def _x_plus_y_at_most_one(p):
    if p["x"] + p["y"] > 1.0:
        return [(None, f"x + y = {p['x'] + p['y']}", "x + y <= 1 (NEST)")]
    return []


def _kernel_constants(p) -> dict:
    return {"variant": 1, "U": p["U"], "tau_psc": p["tau_psc"], "tau_fac": p["tau_fac"],
            "tau_rec": p["tau_rec"]}


TSODYKS_SYNAPSE = SynapseModel(
    name="tsodyks_synapse",
    kernel="cython_kernels.short_term",
    kernel_function="deliver_tsodyks",
    parameters=(
        SynapseParameter("U", "", 0.5, minimum=0.0, maximum=1.0,
                         note="utilisation increment per spike"),
        SynapseParameter("tau_psc", "ms", 3.0, above=0.0,
                         note="should equal the target's synaptic time constant"),
        SynapseParameter("tau_fac", "ms", 0.0, minimum=0.0, note="facilitation; 0: off"),
        SynapseParameter("tau_rec", "ms", 800.0, above=0.0, note="recovery"),
        SynapseParameter("x", "", 1.0, minimum=0.0, note="initial recovered fraction"),
        SynapseParameter("y", "", 0.0, minimum=0.0,
                         note="initial active fraction; x + y <= 1"),
        SynapseParameter("u", "", 0.0, minimum=0.0, note="initial utilisation")),
    per_source=(
        PerSourceState("t_last", "steps", 0, INT64,
                       note="stamp step of the source's last spike (0: none yet)"),
        PerSourceState("x", "", "x", note="recovered fraction"),
        PerSourceState("y", "", "y", note="active fraction"),
        PerSourceState("u", "", "u", note="utilisation")),
    checks=(_x_plus_y_at_most_one,),
    delivery=deliver_tsodyks,
    kernel_constants=_kernel_constants,
)
