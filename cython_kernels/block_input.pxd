# cython: language_level=3
"""Gathering one block's synaptic input for an epoch (shared by the neuron kernels added
after iaf_psc_exp / iaf_psc_delta, which do the same inline).

For the nb neurons b .. b+nb-1 and the epoch's n_steps steps, ``gather_block`` copies the
ring slots (channel 0: weights >= 0, channel 1: weights < 0) into ex / inh
([j * nb + lane]), clears those slots, then adds the segment's Poisson input entry by entry
(count * weight into ex for weight >= 0, into inh otherwise), as iaf_psc_exp does.
"""
from libc.stdint cimport int64_t, uint32_t, uint64_t

from cython_kernels.inputs cimport (
    Workspace, PoissonEntry, add_poisson_block, poisson_batch_fn,
)


cdef inline void gather_block(double[:, :, ::1] ring, const int64_t[:] local_gids,
                              int64_t b, int nb, int64_t first_step, int64_t n_steps,
                              Workspace* ws, poisson_batch_fn batch, uint64_t seed,
                              const PoissonEntry* entries,
                              int64_t n_entries) noexcept nogil:
    cdef int64_t ring_len = ring.shape[0]
    cdef int64_t slot = first_step % ring_len
    cdef int64_t j
    cdef int lane
    cdef double* ex = ws.ex
    cdef double* inh = ws.inh
    for j in range(n_steps):
        for lane in range(nb):
            ex[j * nb + lane] = ring[slot, b + lane, 0]
            inh[j * nb + lane] = ring[slot, b + lane, 1]
            ring[slot, b + lane, 0] = 0.0
            ring[slot, b + lane, 1] = 0.0
        slot += 1
        if slot == ring_len:
            slot = 0
    if n_entries > 0:
        for lane in range(nb):
            ws.gids[lane] = <uint32_t>local_gids[b + lane]
        add_poisson_block(batch, seed, entries, n_entries, first_step, n_steps, nb, ws.gids,
                          ex, inh, ws.u, ws.counts)
