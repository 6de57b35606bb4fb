# cython: language_level=3
"""Delivery of exchanged spikes into the ring buffers of this rank's targets.

For each spike key (lag << 32) | gid, in the given (canonical, sorted by (lag, gid)) order,
and for each synapse of that source gid in CSR row order:
    slot = (epoch_first_step + lag + delay_steps) % ring_len
    ring[slot, target, 1 if weight < 0 else 0] += weight
(NEST: weight >= 0 is excitatory). Fixed orders make each ring entry's sum bit-identical
on any number of ranks (docs/architecture.md §2.5).

A network with a receptor-addressed model (iaf_psc_exp_multisynapse: a connection names
its receptor) has a ring of C >= 2 channels, and its static synapses carry the channel in
the target itself: target = local index * C + channel, fixed at build (the named port's
channel, or the sign's for the sign-chosen models of that network). ``deliver_addressed``
then adds each weight at ring[slot].flat[target]: no extra byte per synapse and no branch,
and ``deliver`` (every other network) stays as it is.
"""
from libc.stdint cimport int64_t, uint16_t, uint32_t, uint64_t


cdef extern from *:
    """
    #if defined(__GNUC__) || defined(__clang__)
    #define BRAINSIM_PREFETCH_WRITE(p) __builtin_prefetch((p), 1, 1)
    #else
    #define BRAINSIM_PREFETCH_WRITE(p) ((void)(p))
    #endif
    """
    void BRAINSIM_PREFETCH_WRITE(const void* p) noexcept nogil


cdef enum:
    # synapses ahead whose ring entry is prefetched: each add misses the cache (a random
    # line of a buffer of tens of MB), and the hardware prefetcher cannot guess the next
    # one; 64 ahead keeps enough misses in flight (PD14 0.3 replay: 10.7 -> 4.5 ns/event,
    # 32: 5.9, 128: 4.3-4.7; docs/performance.md)
    PREFETCH_DISTANCE = 64


cdef int64_t deliver_core(const uint64_t[::1] spike_keys,   # IN sorted (lag, gid) keys
                          int64_t n_spikes,
                          int64_t epoch_first_step,
                          const int64_t[::1] row_ptr,       # IN CSR by source gid
                          const uint32_t[::1] targets,      # IN local index per synapse
                          const double[::1] weights,        # IN pA or mV per synapse
                          const uint16_t[::1] delay_steps,  # IN steps per synapse
                          double[:, :, ::1] ring) noexcept nogil:  # IN/OUT (ring_len, n_local, 2)
    """Returns -1 on success, else the position of the first key whose gid has no CSR row."""
    cdef int64_t ring_len = ring.shape[0]
    cdef int64_t n_local = ring.shape[1]
    cdef int64_t n_rows = row_ptr.shape[0] - 1
    cdef int64_t k, syn, base, gid, slot, end, ahead
    cdef double* data = &ring[0, 0, 0] if n_local > 0 else NULL   # no rows when no targets
    cdef double w
    for k in range(n_spikes):
        gid = <int64_t>(spike_keys[k] & 0xffffffffULL)
        if gid >= n_rows:
            return k
        # one modulo per spike, not per synapse: delay_steps < ring_len
        base = (epoch_first_step + <int64_t>(spike_keys[k] >> 32)) % ring_len
        end = row_ptr[gid + 1]
        for syn in range(row_ptr[gid], end):
            ahead = syn + PREFETCH_DISTANCE
            if ahead < end:
                slot = base + delay_steps[ahead]
                if slot >= ring_len:
                    slot -= ring_len
                BRAINSIM_PREFETCH_WRITE(data + (slot * n_local + targets[ahead]) * 2)
            w = weights[syn]
            slot = base + delay_steps[syn]
            if slot >= ring_len:
                slot -= ring_len
            data[(slot * n_local + targets[syn]) * 2 + (1 if w < 0.0 else 0)] += w
    return -1


def deliver(const uint64_t[::1] spike_keys not None, int64_t n_spikes, int64_t epoch_first_step,
            const int64_t[::1] row_ptr not None, const uint32_t[::1] targets not None,
            const double[::1] weights not None, const uint16_t[::1] delay_steps not None,
            double[:, :, ::1] ring not None):
    """Add the weights of every synapse of each spiking source to the ring buffer.

    spike_keys[:n_spikes]: (lag << 32) | gid, lag in steps after ``epoch_first_step``.
    row_ptr (n_sources + 1), targets / weights / delay_steps: CSR by source gid.
    ring: (ring_len, n_local, 2), channel 0 for weight >= 0, 1 for weight < 0.
    The caller guarantees ring_len > max delay + epoch length and valid target indices
    (checked at build time, not per call).
    """
    cdef int64_t n_syn
    if n_spikes < 0 or n_spikes > spike_keys.shape[0]:
        raise ValueError(f"n_spikes must be in [0, {spike_keys.shape[0]}], got {n_spikes}")
    if row_ptr.shape[0] < 1:
        raise ValueError("row_ptr needs n_sources + 1 >= 1 entries")
    n_syn = row_ptr[row_ptr.shape[0] - 1]
    if not (targets.shape[0] >= n_syn and weights.shape[0] >= n_syn
            and delay_steps.shape[0] >= n_syn):
        raise ValueError(f"targets, weights, delay_steps need row_ptr[-1] = {n_syn} entries")
    if ring.shape[0] < 1 or ring.shape[2] != 2:
        raise ValueError(f"ring must have shape (ring_len >= 1, n_local, 2), got "
                         f"({ring.shape[0]}, {ring.shape[1]}, {ring.shape[2]})")
    cdef int64_t bad
    with nogil:
        bad = deliver_core(spike_keys, n_spikes, epoch_first_step, row_ptr, targets, weights,
                           delay_steps, ring)
    if bad >= 0:
        raise ValueError(f"spike {bad}: source gid {spike_keys[bad] & 0xffffffff} has no CSR "
                         f"row (row_ptr covers gids [0, {row_ptr.shape[0] - 1}))")


cdef int64_t deliver_addressed_core(
        const uint64_t[::1] spike_keys,   # IN sorted (lag, gid) keys
        int64_t n_spikes,
        int64_t epoch_first_step,
        const int64_t[::1] row_ptr,       # IN CSR by source gid
        const uint32_t[::1] targets,      # IN local index * C + channel per synapse
        const double[::1] weights,        # IN native unit per synapse, either sign
        const uint16_t[::1] delay_steps,  # IN steps per synapse
        double[:, :, ::1] ring) noexcept nogil:  # IN/OUT (ring_len, n_local, C)
    """deliver_core with the channel in the target: returns -1 on success, else the
    position of the first key whose gid has no CSR row."""
    cdef int64_t ring_len = ring.shape[0]
    cdef int64_t slot_len = ring.shape[1] * ring.shape[2]   # n_local * C doubles per slot
    cdef int64_t n_rows = row_ptr.shape[0] - 1
    cdef int64_t k, syn, base, gid, slot, end, ahead
    cdef double* data = &ring[0, 0, 0] if slot_len > 0 else NULL   # no rows when no targets
    for k in range(n_spikes):
        gid = <int64_t>(spike_keys[k] & 0xffffffffULL)
        if gid >= n_rows:
            return k
        base = (epoch_first_step + <int64_t>(spike_keys[k] >> 32)) % ring_len
        end = row_ptr[gid + 1]
        for syn in range(row_ptr[gid], end):
            ahead = syn + PREFETCH_DISTANCE
            if ahead < end:
                slot = base + delay_steps[ahead]
                if slot >= ring_len:
                    slot -= ring_len
                BRAINSIM_PREFETCH_WRITE(data + slot * slot_len + targets[ahead])
            slot = base + delay_steps[syn]
            if slot >= ring_len:
                slot -= ring_len
            data[slot * slot_len + targets[syn]] += weights[syn]
    return -1


def deliver_addressed(const uint64_t[::1] spike_keys not None, int64_t n_spikes,
                      int64_t epoch_first_step, const int64_t[::1] row_ptr not None,
                      const uint32_t[::1] targets not None, const double[::1] weights not None,
                      const uint16_t[::1] delay_steps not None,
                      double[:, :, ::1] ring not None):
    """``deliver`` for a ring of C channels whose synapses name their channel:
    targets[syn] = local index * C + channel (C = ring.shape[2] >= 2), and each weight,
    of either sign, is added at ring[slot, target // C, target % C]. The caller guarantees
    targets < n_local * C (built so, not checked per call) and ring_len as for deliver."""
    cdef int64_t n_syn
    if n_spikes < 0 or n_spikes > spike_keys.shape[0]:
        raise ValueError(f"n_spikes must be in [0, {spike_keys.shape[0]}], got {n_spikes}")
    if row_ptr.shape[0] < 1:
        raise ValueError("row_ptr needs n_sources + 1 >= 1 entries")
    n_syn = row_ptr[row_ptr.shape[0] - 1]
    if not (targets.shape[0] >= n_syn and weights.shape[0] >= n_syn
            and delay_steps.shape[0] >= n_syn):
        raise ValueError(f"targets, weights, delay_steps need row_ptr[-1] = {n_syn} entries")
    if ring.shape[0] < 1 or ring.shape[2] < 2:
        raise ValueError(f"ring must have shape (ring_len >= 1, n_local, channels >= 2), got "
                         f"({ring.shape[0]}, {ring.shape[1]}, {ring.shape[2]})")
    cdef int64_t bad
    with nogil:
        bad = deliver_addressed_core(spike_keys, n_spikes, epoch_first_step, row_ptr,
                                     targets, weights, delay_steps, ring)
    if bad >= 0:
        raise ValueError(f"spike {bad}: source gid {spike_keys[bad] & 0xffffffff} has no CSR "
                         f"row (row_ptr covers gids [0, {row_ptr.shape[0] - 1}))")
