"""NEST static_synapse: a fixed weight and delay. Its projections share one CSR by source
gid (network/build.Synapses) and one kernel call per epoch for all of them
(cython_kernels/delivery.deliver, called by the engine directly: no per-projection work)."""
from __future__ import annotations

from brainsim.catalogue.synapses.declaration import SynapseModel

STATIC_SYNAPSE = SynapseModel(
    name="static_synapse",
    kernel="cython_kernels.delivery",
    kernel_function="deliver",
)
