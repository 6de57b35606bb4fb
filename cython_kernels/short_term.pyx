# cython: language_level=3
"""NEST's tsodyks_synapse and tsodyks2_synapse (short-term plasticity, Tsodyks-Markram)
for one projection: per-source state, constant weights scaled per spike.

Delivery in the canonical (lag, gid) order and each row's fixed order, so ring sums are
bit-identical on any number of ranks (docs/architecture.md §2.5).
"""
from libc.math cimport exp
from libc.stdint cimport int64_t, uint16_t, uint32_t, uint64_t


def deliver_tsodyks(const uint64_t[::1] spike_keys, int64_t n_spikes, int64_t epoch_first_step,
                    const int64_t[::1] row_ptr, const uint32_t[::1] targets,
                    const double[::1] weights, const uint16_t[::1] delay_steps,
                    int64_t source_offset, double[::1] x, double[::1] y, double[::1] u,
                    int64_t[::1] t_last, int variant, double U, double tau_psc,
                    double tau_fac, double tau_rec, double dt, double[:, :, ::1] ring,
                    int unit_events=0):
    """NEST's tsodyks_synapse (variant 1) / tsodyks2_synapse (variant 2): the state x, y, u,
    t_last depends only on the source's spike train (every synapse of the projection starts
    from the same values), so it is kept once per source and updated once per key: a spike
    of multiplicity n (n equal keys) updates it n times and delivers n times, as NEST
    unrolls the multiplicity for plastic synapses; each synapse delivers weight * factor
    (tsodyks: u x after the jump; tsodyks2: x u after the update). The weights are not
    changed. unit_events=1: the targets ignore weights (NEST's parrot_neuron), each spike
    adds 1.0."""
    cdef int64_t ring_len = ring.shape[0]
    cdef int64_t n_src = x.shape[0]
    cdef int64_t k, syn, gid, s, t, lag, base, slot
    cdef double h, Puu, Pyy, Pzz, Pxy, Pxz, z, factor = 0.0, w, x_decay, u_decay
    with nogil:
        for k in range(n_spikes):
            gid = <int64_t>(spike_keys[k] & 0xffffffffULL)
            s = gid - source_offset
            if s < 0 or s >= n_src:
                continue
            lag = <int64_t>(spike_keys[k] >> 32)
            t = epoch_first_step + lag + 1
            # every key is one event: a spike of multiplicity n comes as n equal keys and
            # updates the state n times (h = 0 after the first), as NEST unrolls it
            h = <double>t * dt - <double>t_last[s] * dt
            if variant == 1:
                Puu = 0.0 if tau_fac == 0.0 else exp(-h / tau_fac)
                Pyy = exp(-h / tau_psc)
                Pzz = exp(-h / tau_rec)
                Pxy = ((Pzz - 1.0) * tau_rec - (Pyy - 1.0) * tau_psc) / (tau_psc - tau_rec)
                Pxz = 1.0 - Pzz
                z = 1.0 - x[s] - y[s]
                u[s] *= Puu
                x[s] += Pxy * y[s] + Pxz * z
                y[s] *= Pyy
                u[s] += U * (1.0 - u[s])
                factor = u[s] * x[s]
                x[s] -= factor
                y[s] += factor
            else:
                if t_last[s] > 0:
                    # NEST 3.10: the first spike sends with the initial x, u; each later
                    # one first advances x, u over the interval since the last
                    x_decay = exp(-h / tau_rec)
                    u_decay = 0.0 if tau_fac == 0.0 else exp(-h / tau_fac)
                    x[s] = 1. + (x[s] - x[s] * u[s] - 1.) * x_decay
                    u[s] = U + u[s] * (1. - U) * u_decay
                factor = x[s] * u[s]
            t_last[s] = t
            base = (epoch_first_step + lag) % ring_len     # delay_steps < ring_len
            for syn in range(row_ptr[gid], row_ptr[gid + 1]):
                if variant == 1:
                    w = factor * weights[syn]
                else:
                    w = weights[syn] * factor
                if unit_events:
                    w = 1.0     # a target that ignores weights (parrot_neuron): one event
                slot = base + delay_steps[syn]
                if slot >= ring_len:
                    slot -= ring_len
                ring[slot, targets[syn], w < 0.0] += w
