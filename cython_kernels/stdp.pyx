# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""NEST's stdp_synapse (pair-based STDP, models/stdp_synapse.h) for one plastic projection.

Delivery of exchanged spikes through a projection's own CSR (by source gid), in the
canonical (lag, gid) order and each row's fixed order, so weights and ring sums are
bit-identical on any number of ranks. Per presynaptic spike stamped t (steps) and per
synapse with delay d (the dendritic delay, as NEST):
  facilitation for every post spike of the target with t_last - d < t_post <= t - d,
      w <- facilitate(w, Kplus * exp((t_last - (t_post + d)) dt / tau_plus))
  depression with the target's K_minus at t - d (latest post spike strictly before),
  the spike is delivered with the new weight;
then, once per source (all synapses of a source share it: it depends only on the source's
spike train), Kplus <- Kplus exp((t_last - t) dt / tau_plus) + 1 and t_last <- t.
Post spike histories are rings per local neuron: (stamp step, K_minus after the spike).
"""
from libc.math cimport exp, pow
from libc.stdint cimport int64_t, uint8_t, uint16_t, uint32_t, uint64_t


cdef inline double facilitate(double w, double kplus, double lam, double mu_plus,
                              double wmax) noexcept nogil:
    cdef double norm_w = (w / wmax) + (lam * pow(1.0 - (w / wmax), mu_plus) * kplus)
    return norm_w * wmax if norm_w < 1.0 else wmax


cdef inline double depress(double w, double kminus, double lam, double alpha,
                           double mu_minus, double wmax) noexcept nogil:
    cdef double norm_w = (w / wmax) - (alpha * lam * pow(w / wmax, mu_minus) * kminus)
    return norm_w * wmax if norm_w > 0.0 else 0.0


cdef inline double facilitate_pl(double w, double kplus, double lam, double mu) noexcept nogil:
    return w + (lam * pow(w, mu) * kplus)


cdef inline double depress_pl(double w, double kminus, double lam, double alpha) noexcept nogil:
    cdef double new_w = w - (lam * alpha * w * kminus)
    return new_w if new_w > 0.0 else 0.0


def deliver_stdp(const uint64_t[::1] spike_keys, int64_t n_spikes, int64_t epoch_first_step,
                 const int64_t[::1] row_ptr, const uint32_t[::1] targets,
                 double[::1] weights, const uint16_t[::1] delay_steps,
                 int64_t source_offset, double[::1] kplus, int64_t[::1] t_last,
                 const int64_t[:, ::1] hist_step, const double[:, ::1] hist_k,
                 const int64_t[::1] hist_head, const int64_t[::1] hist_count,
                 const double[::1] tau_minus, double dt, double tau_plus, double lam,
                 double alpha, double mu_plus, double mu_minus, double wmax,
                 double[:, :, ::1] ring, int power_law=0):
    """power_law=1: NEST's stdp_pl_synapse_hom (w += lambda w^mu Kplus e^..; w -= lambda
    alpha w K_minus, clipped at 0; mu_plus is mu; mu_minus, wmax unused). Deliver spikes of sources [source_offset, source_offset + len(kplus)) through this
    projection, updating weights (in place), kplus and t_last. Other gids are skipped."""
    cdef int64_t ring_len = ring.shape[0]
    cdef int64_t n_src = kplus.shape[0]
    cdef int64_t cap = hist_step.shape[1]
    cdef int64_t k, syn, gid, s, t, tl, d, tgt, lag, j, first, cnt, head, idx, step
    cdef double w, kp, kminus
    with nogil:
        for k in range(n_spikes):
            gid = <int64_t>(spike_keys[k] & 0xffffffffULL)
            s = gid - source_offset
            if s < 0 or s >= n_src:
                continue
            lag = <int64_t>(spike_keys[k] >> 32)
            t = epoch_first_step + lag + 1          # stamp of the spike, steps
            kp = kplus[s]
            tl = t_last[s]
            if tl == t:
                # the same source's spike again in the same step (a parrot's multiplicity):
                # NEST sends one event of multiplicity n, with one update
                for syn in range(row_ptr[gid], row_ptr[gid + 1]):
                    w = weights[syn]
                    ring[(epoch_first_step + lag + delay_steps[syn]) % ring_len,
                         targets[syn], w < 0.0] += w
                continue
            for syn in range(row_ptr[gid], row_ptr[gid + 1]):
                tgt = targets[syn]
                d = delay_steps[syn]
                w = weights[syn]
                cnt = hist_count[tgt]
                head = hist_head[tgt]
                # newest entry with step <= t - d, then back to the first with step > tl - d
                j = cnt - 1
                while j >= 0 and hist_step[tgt, (head + j) % cap] > t - d:
                    j -= 1
                first = j
                while first >= 0 and hist_step[tgt, (head + first) % cap] > tl - d:
                    first -= 1
                for idx in range(first + 1, j + 1):
                    step = hist_step[tgt, (head + idx) % cap]
                    if power_law:
                        w = facilitate_pl(w, kp * exp(<double>(tl - (step + d)) * dt
                                                      / tau_plus), lam, mu_plus)
                    else:
                        w = facilitate(w, kp * exp(<double>(tl - (step + d)) * dt / tau_plus),
                                       lam, mu_plus, wmax)
                # K_minus at t - d: the latest post spike strictly before t - d
                j = cnt - 1
                while j >= 0 and hist_step[tgt, (head + j) % cap] >= t - d:
                    j -= 1
                if j >= 0:
                    idx = (head + j) % cap
                    kminus = hist_k[tgt, idx] * exp(<double>(hist_step[tgt, idx] - (t - d))
                                                    * dt / tau_minus[tgt])
                else:
                    kminus = 0.0
                if power_law:
                    w = depress_pl(w, kminus, lam, alpha)
                else:
                    w = depress(w, kminus, lam, alpha, mu_minus, wmax)
                weights[syn] = w
                ring[(epoch_first_step + lag + d) % ring_len, tgt, w < 0.0] += w
            kplus[s] = kp * exp(<double>(tl - t) * dt / tau_plus) + 1.0
            t_last[s] = t


def record_post(const uint64_t[::1] spike_keys, int64_t start, int64_t n_spikes,
                int64_t epoch_first_step, const int64_t[::1] local_gids,
                const uint8_t[::1] archiving, const double[::1] tau_minus, double dt,
                int64_t keep_steps, int64_t prune_bound,
                int64_t[:, ::1] hist_step, double[:, ::1] hist_k,
                int64_t[::1] hist_head, int64_t[::1] hist_count):
    """Append this rank's own spikes (keys[start:n_spikes], gid in the low bits) to the
    post histories of archiving neurons (NEST ArchivingNode::set_spiketime). An entry is
    dropped from the front when a later one is more than keep_steps (max + min delay)
    older than the new spike and it is at or before prune_bound (outside every synapse's
    window). Returns -1, or the key index at which a history was full (nothing of that
    key written: grow and call again from there)."""
    cdef int64_t cap = hist_step.shape[1]
    cdef int64_t n_local = local_gids.shape[0]
    cdef int64_t k, gid, lo, hi, mid, i, t, head, cnt, last
    cdef double klast
    cdef int64_t full = -1
    with nogil:
        for k in range(start, n_spikes):
            gid = <int64_t>(spike_keys[k] & 0xffffffffULL)
            lo = 0
            hi = n_local
            while lo < hi:
                mid = (lo + hi) >> 1
                if local_gids[mid] < gid:
                    lo = mid + 1
                else:
                    hi = mid
            if lo >= n_local or local_gids[lo] != gid or not archiving[lo]:
                continue
            i = lo
            t = epoch_first_step + <int64_t>(spike_keys[k] >> 32) + 1
            head = hist_head[i]
            cnt = hist_count[i]
            while cnt > 1 and hist_step[i, head] <= prune_bound and \
                    t - hist_step[i, (head + 1) % cap] > keep_steps:
                head = (head + 1) % cap
                cnt -= 1
            hist_head[i] = head
            hist_count[i] = cnt
            if cnt == cap:
                full = k
                break
            if cnt > 0 and hist_step[i, (head + cnt - 1) % cap] == t:
                continue    # one history entry per step (multiplicity of a parrot)
            if cnt > 0:
                last = (head + cnt - 1) % cap
                klast = hist_k[i, last] * exp(<double>(hist_step[i, last] - t) * dt
                                              / tau_minus[i]) + 1.0
            else:
                klast = 1.0
            last = (head + cnt) % cap
            hist_step[i, last] = t
            hist_k[i, last] = klast
            hist_count[i] = cnt + 1
    return full


def deliver_tsodyks(const uint64_t[::1] spike_keys, int64_t n_spikes, int64_t epoch_first_step,
                    const int64_t[::1] row_ptr, const uint32_t[::1] targets,
                    const double[::1] weights, const uint16_t[::1] delay_steps,
                    int64_t source_offset, double[::1] x, double[::1] y, double[::1] u,
                    int64_t[::1] t_last, int variant, double U, double tau_psc,
                    double tau_fac, double tau_rec, double dt, double[:, :, ::1] ring):
    """NEST's tsodyks_synapse (variant 1) / tsodyks2_synapse (variant 2): the state x, y, u,
    t_last depends only on the source's spike train (every synapse of the projection starts
    from the same values), so it is kept once per source and updated once per spike; each
    synapse delivers weight * factor (tsodyks: u x after the jump; tsodyks2: x u after
    the update). The weights are not changed."""
    cdef int64_t ring_len = ring.shape[0]
    cdef int64_t n_src = x.shape[0]
    cdef int64_t k, syn, gid, s, t, lag
    cdef int64_t prev_s = -1, prev_t = -1
    cdef double h, Puu, Pyy, Pzz, Pxy, Pxz, z, factor = 0.0, w, x_decay, u_decay
    with nogil:
        for k in range(n_spikes):
            gid = <int64_t>(spike_keys[k] & 0xffffffffULL)
            s = gid - source_offset
            if s < 0 or s >= n_src:
                continue
            lag = <int64_t>(spike_keys[k] >> 32)
            t = epoch_first_step + lag + 1
            if not (s == prev_s and t == prev_t):
                # one update per source and step (a parrot's multiplicity: one event)
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
                        # NEST 3.10: the first spike sends with the initial x, u; each
                        # later one first advances x, u over the interval since the last
                        x_decay = exp(-h / tau_rec)
                        u_decay = 0.0 if tau_fac < 1.0e-10 else exp(-h / tau_fac)
                        x[s] = 1. + (x[s] - x[s] * u[s] - 1.) * x_decay
                        u[s] = U + u[s] * (1. - U) * u_decay
                    factor = x[s] * u[s]
                t_last[s] = t
                prev_s = s
                prev_t = t
            for syn in range(row_ptr[gid], row_ptr[gid + 1]):
                if variant == 1:
                    w = factor * weights[syn]
                else:
                    w = weights[syn] * factor
                ring[(epoch_first_step + lag + delay_steps[syn]) % ring_len,
                     targets[syn], w < 0.0] += w
