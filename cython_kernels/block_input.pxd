# cython: language_level=3
"""Gathering one block's synaptic input for an epoch (shared by the neuron kernels).

For the nb neurons b .. b+nb-1 of segment ``seg`` and the epoch's n_steps steps,
``gather_block`` copies the ring slots (channel 0: weights >= 0, channel 1: weights < 0)
into ws.ex / ws.inh ([j * nb + lane]), clears those slots, then adds the segment's Poisson
input entry by entry (count * weight into ex for weight >= 0, into inh otherwise).
``gather_block_summed`` (iaf_psc_delta) writes ring channel 0 + channel 1 into ws.ex and
adds the Poisson terms of both signs to it, in entry order.
``gather_block_channels`` (receptor-addressed models: iaf_psc_exp_multisynapse) copies
ring channels 0 .. n_channels-1 into ws.ex + c * ws.channel_stride (channel 0 in ws.ex,
channel 1 in ws.inh, as gather_block), clears them, then adds each Poisson entry to the
channel its input names, whatever the weight's sign.
"""
from libc.stdint cimport int64_t, uint32_t, uint64_t

from cython_kernels.inputs cimport Workspace, add_poisson_block, add_poisson_block_channels


cdef inline void add_segment_poisson(const int64_t[:] local_gids, int64_t b, int nb,
                                     int64_t first_step, int64_t n_steps, Workspace* ws,
                                     uint64_t seed, int64_t seg, double* ex,
                                     double* inh) noexcept nogil:
    cdef int64_t q0 = ws.p_ptr[seg]
    cdef int64_t q1 = ws.p_ptr[seg + 1]
    cdef int lane
    if q1 > q0:
        for lane in range(nb):
            ws.gids[lane] = <uint32_t>local_gids[b + lane]
        add_poisson_block(ws.batch, seed, ws.entries + q0, q1 - q0, first_step, n_steps, nb,
                          ws.gids, ex, inh, ws.u, ws.counts)


cdef inline void gather_block(double[:, :, ::1] ring, const int64_t[:] local_gids,
                              int64_t b, int nb, int64_t first_step, int64_t n_steps,
                              Workspace* ws, uint64_t seed, int64_t seg) noexcept nogil:
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
    add_segment_poisson(local_gids, b, nb, first_step, n_steps, ws, seed, seg, ex, inh)


cdef inline void gather_block_summed(double[:, :, ::1] ring, const int64_t[:] local_gids,
                                     int64_t b, int nb, int64_t first_step, int64_t n_steps,
                                     Workspace* ws, uint64_t seed, int64_t seg) noexcept nogil:
    cdef int64_t ring_len = ring.shape[0]
    cdef int64_t slot = first_step % ring_len
    cdef int64_t j
    cdef int lane
    cdef double* inp = ws.ex
    for j in range(n_steps):
        for lane in range(nb):
            inp[j * nb + lane] = ring[slot, b + lane, 0] + ring[slot, b + lane, 1]
            ring[slot, b + lane, 0] = 0.0
            ring[slot, b + lane, 1] = 0.0
        slot += 1
        if slot == ring_len:
            slot = 0
    add_segment_poisson(local_gids, b, nb, first_step, n_steps, ws, seed, seg, inp, inp)


cdef inline void gather_block_channels(double[:, :, ::1] ring, const int64_t[:] local_gids,
                                       int64_t b, int nb, int64_t first_step,
                                       int64_t n_steps, Workspace* ws, uint64_t seed,
                                       int64_t seg, int n_channels) noexcept nogil:
    """Channels 0 .. n_channels-1 (<= ws.n_channels, checked by the plan) of the block."""
    cdef int64_t ring_len = ring.shape[0]
    cdef int64_t slot = first_step % ring_len
    cdef int64_t stride = ws.channel_stride
    cdef int64_t j, q0, q1
    cdef int lane, c
    cdef double* inputs = ws.ex
    for j in range(n_steps):
        for lane in range(nb):
            for c in range(n_channels):
                inputs[c * stride + j * nb + lane] = ring[slot, b + lane, c]
                ring[slot, b + lane, c] = 0.0
        slot += 1
        if slot == ring_len:
            slot = 0
    q0 = ws.p_ptr[seg]
    q1 = ws.p_ptr[seg + 1]
    if q1 > q0:
        for lane in range(nb):
            ws.gids[lane] = <uint32_t>local_gids[b + lane]
        add_poisson_block_channels(ws.batch, seed, ws.entries + q0, q1 - q0, first_step,
                                   n_steps, nb, ws.gids, inputs, stride, ws.u, ws.counts)
