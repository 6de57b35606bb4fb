# cython: language_level=3
"""NEST's stdp_synapse (pair-based STDP, models/stdp_synapse.h) and stdp_pl_synapse_hom
(power-law STDP, Morrison et al. 2007) for one plastic projection.

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
A spike of multiplicity n (n equal keys) is n such events, as NEST unrolls it for plastic
synapses. Post spike histories are rings per local neuron: (stamp step, K_minus after the
spike), one entry per post spike (several may share a step), with a power-of-two capacity.

Speed (hpc_benchmark, docs/performance.md): terms shared by many synapses are computed
once per delivery call (DeliveryCache), and stdp_pl_synapse_hom's w ** mu is computed for
all synapses of a spike row at once by the vectorised powers.pxd (libm's scalar pow was
60 % of the time): facilitations are done in rounds, the k-th post spike of every synapse
in round k, each synapse still in its own order, then depression and delivery in row order.
"""
from libc.math cimport exp, pow
from libc.stdint cimport INT64_MIN, int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from libc.stdlib cimport calloc, free, realloc
from libc.string cimport memset

from cython_kernels.powers cimport (brainsim_pick_pow_core, brainsim_pow_batch,
                                    brainsim_pow_core_fn)


cdef enum:
    FACILITATION_CACHE_SIZE = 1024    # power of two: slot = (post step + d) & (size - 1)


cdef struct TargetMemo:
    uint64_t serial         # call serial of the memo (0: never)
    int64_t key             # t - d of the memo, steps
    int64_t newest          # position (0 = oldest) of the newest history entry <= t - d, or -1
    int64_t newest_step     # its stamp, steps (INT64_MIN when there is none)
    double kminus           # K_minus at t - d


cdef struct History:
    # the post spike rings of PostHistory (brainsim/network/plasticity.py)
    const int64_t* step     # [n_local, capacity] stamps, steps
    const double* k         # [n_local, capacity] K_minus after each spike
    const int64_t* head     # [n_local] position 0 of each ring
    const int64_t* count    # [n_local] entries per ring
    const double* tau_minus # [n_local] ms
    int64_t capacity
    int64_t mask            # capacity - 1


cdef struct Scratch:
    TargetMemo* targets             # [n_targets]
    int64_t fac_key[FACILITATION_CACHE_SIZE]
    uint64_t fac_serial[FACILITATION_CACHE_SIZE]
    double fac_value[FACILITATION_CACHE_SIZE]
    uint64_t call_serial
    uint64_t row_serial
    brainsim_pow_core_fn pow_core
    # per synapse of the current row (power-law rounds), capacity row_capacity
    double* weight                  # w after the facilitations so far
    double* kminus
    int64_t* next                   # history position of the next facilitation
    int64_t* end                    # one past the last
    int64_t* active                 # row positions with facilitations left
    double* base                    # per active synapse: w, w ** mu, Kplus term
    double* power
    double* term
    uint8_t* good


cdef class DeliveryCache:
    """Per-call memo of the deliver_stdp terms that several synapses share, so each is
    computed once with exactly the expression NEST uses per synapse (bit-identical):

    - per local target and t - d: the newest history entry at or before t - d, and K_minus
      at t - d (all spikes of one lag reach a target with the same t - d when delays are
      equal: in hpc_benchmark ~50 spikes per step per target share one value);
    - per presynaptic spike row and post spike stamp + d: Kplus e^((t_last - (t_post + d))
      dt / tau_plus), shared by every target that spiked in that step.

    Entries are tagged with a serial number (of the call, of the row), so nothing is
    cleared between calls. Also the per-row scratch of the power-law rounds, grown to the
    longest row delivered (allocated only when a longer row comes)."""
    cdef Scratch s
    cdef int64_t n_targets
    cdef int64_t row_capacity

    def __cinit__(self, int64_t n_local):
        memset(&self.s, 0, sizeof(Scratch))
        self.n_targets = n_local
        self.row_capacity = 0
        self.s.targets = <TargetMemo*>calloc(max(n_local, 1), sizeof(TargetMemo))
        if self.s.targets == NULL:
            raise MemoryError("DeliveryCache")
        self.s.pow_core = brainsim_pick_pow_core(2)

    def __dealloc__(self):
        free(self.s.targets)
        free(self.s.weight)
        free(self.s.kminus)
        free(self.s.next)
        free(self.s.end)
        free(self.s.active)
        free(self.s.base)
        free(self.s.power)
        free(self.s.term)
        free(self.s.good)

    cdef int reserve_row(self, int64_t n) except -1:
        """Row scratch for n synapses (doubling)."""
        if n <= self.row_capacity:
            return 0
        cdef int64_t cap = max(n, 2 * self.row_capacity, 1024)
        self.s.weight = <double*>_grow(self.s.weight, cap * sizeof(double))
        self.s.kminus = <double*>_grow(self.s.kminus, cap * sizeof(double))
        self.s.next = <int64_t*>_grow(self.s.next, cap * sizeof(int64_t))
        self.s.end = <int64_t*>_grow(self.s.end, cap * sizeof(int64_t))
        self.s.active = <int64_t*>_grow(self.s.active, cap * sizeof(int64_t))
        self.s.base = <double*>_grow(self.s.base, cap * sizeof(double))
        self.s.power = <double*>_grow(self.s.power, cap * sizeof(double))
        self.s.term = <double*>_grow(self.s.term, cap * sizeof(double))
        self.s.good = <uint8_t*>_grow(self.s.good, cap * sizeof(uint8_t))
        self.row_capacity = cap
        return 0


cdef void* _grow(void* pointer, size_t nbytes) except NULL:
    cdef void* grown = realloc(pointer, nbytes)
    if grown == NULL:
        raise MemoryError("DeliveryCache row scratch")
    return grown


cdef inline double facilitate(double w, double kplus, double lam, double mu_plus,
                              double wmax) noexcept nogil:
    cdef double norm_w = (w / wmax) + (lam * pow(1.0 - (w / wmax), mu_plus) * kplus)
    return norm_w * wmax if norm_w < 1.0 else wmax


cdef inline double depress(double w, double kminus, double lam, double alpha,
                           double mu_minus, double wmax) noexcept nogil:
    cdef double norm_w = (w / wmax) - (alpha * lam * pow(w / wmax, mu_minus) * kminus)
    return norm_w * wmax if norm_w > 0.0 else 0.0


cdef inline double depress_pl(double w, double kminus, double lam, double alpha) noexcept nogil:
    cdef double new_w = w - (lam * alpha * w * kminus)
    return new_w if new_w > 0.0 else 0.0


cdef inline TargetMemo* memo_at(Scratch* sc, const History* h, int64_t tgt, int64_t td,
                                double dt) noexcept nogil:
    """The target's newest history entry at or before td and K_minus at td (memoised)."""
    cdef TargetMemo* memo = &sc.targets[tgt]
    if memo.serial == sc.call_serial and memo.key == td:
        return memo
    cdef const int64_t* steps = h.step + tgt * h.capacity
    cdef int64_t head = h.head[tgt]
    cdef int64_t j = h.count[tgt] - 1
    while j >= 0 and steps[(head + j) & h.mask] > td:
        j -= 1
    # K_minus at t - d: the latest post spike strictly before t - d (several entries share
    # a step when the target spiked several times in it)
    cdef int64_t before = j
    while before >= 0 and steps[(head + before) & h.mask] == td:
        before -= 1
    cdef int64_t idx
    if before >= 0:
        idx = (head + before) & h.mask
        memo.kminus = h.k[tgt * h.capacity + idx] * exp(<double>(steps[idx] - td) * dt
                                                        / h.tau_minus[tgt])
    else:
        memo.kminus = 0.0
    memo.serial = sc.call_serial
    memo.key = td
    memo.newest = j
    memo.newest_step = steps[(head + j) & h.mask] if j >= 0 else INT64_MIN
    return memo


cdef inline int64_t window_first(const History* h, int64_t tgt, const TargetMemo* memo,
                                 int64_t bound) noexcept nogil:
    """Position of the oldest entry with bound < step <= t - d (memo.newest + 1: none)."""
    if memo.newest_step <= bound:
        return memo.newest + 1
    cdef const int64_t* steps = h.step + tgt * h.capacity
    cdef int64_t head = h.head[tgt]
    cdef int64_t first = memo.newest - 1
    while first >= 0 and steps[(head + first) & h.mask] > bound:
        first -= 1
    return first + 1


cdef inline double kplus_term(Scratch* sc, int64_t key, double kp, int64_t tl, double dt,
                              double tau_plus) noexcept nogil:
    """Kplus e^((t_last - key) dt / tau_plus), key = post stamp + d, memoised per row."""
    cdef int64_t c = key & (FACILITATION_CACHE_SIZE - 1)
    if sc.fac_serial[c] == sc.row_serial and sc.fac_key[c] == key:
        return sc.fac_value[c]
    cdef double value = kp * exp(<double>(tl - key) * dt / tau_plus)
    sc.fac_serial[c] = sc.row_serial
    sc.fac_key[c] = key
    sc.fac_value[c] = value
    return value


cdef struct Row:
    # one presynaptic spike through one projection
    int64_t begin, end      # CSR synapse range
    int64_t t, t_last       # spike stamp and the source's previous one, steps
    double kplus            # the source's Kplus before this spike
    int64_t slot            # ring slot of (t - 1), the delivery base


cdef struct Rule:
    double dt, tau_plus, lam, alpha, mu_plus, mu_minus, wmax


cdef inline void ring_add(double* ring, int64_t n_local, int64_t ring_len, int64_t slot,
                          int64_t tgt, double w, bint unit_events) noexcept nogil:
    """Input w to (slot, tgt); one event (1.0) instead when the target ignores weights."""
    if unit_events:
        w = 1.0
    if slot >= ring_len:
        slot -= ring_len
    ring[(slot * n_local + tgt) * 2 + (1 if w < 0.0 else 0)] += w


cdef void row_pair(Scratch* sc, const History* h, const Row* r, const Rule* p,
                   const uint32_t* targets, double* weights, const uint16_t* delays,
                   double* ring, int64_t n_local, int64_t ring_len,
                   bint unit_events) noexcept nogil:
    """stdp_synapse: each synapse in row order, facilitations then depression."""
    cdef int64_t syn, tgt, d, idx, last
    cdef double w
    cdef TargetMemo* memo
    for syn in range(r.begin, r.end):
        tgt = targets[syn]
        d = delays[syn]
        w = weights[syn]
        memo = memo_at(sc, h, tgt, r.t - d, p.dt)
        last = memo.newest
        for idx in range(window_first(h, tgt, memo, r.t_last - d), last + 1):
            w = facilitate(w, kplus_term(sc, h.step[tgt * h.capacity
                                                    + ((h.head[tgt] + idx) & h.mask)] + d,
                                         r.kplus, r.t_last, p.dt, p.tau_plus),
                           p.lam, p.mu_plus, p.wmax)
        w = depress(w, memo.kminus, p.lam, p.alpha, p.mu_minus, p.wmax)
        weights[syn] = w
        ring_add(ring, n_local, ring_len, r.slot + d, tgt, w, unit_events)


cdef void row_power_law(Scratch* sc, const History* h, const Row* r, const Rule* p,
                        const uint32_t* targets, double* weights, const uint16_t* delays,
                        double* ring, int64_t n_local, int64_t ring_len,
                        bint unit_events) noexcept nogil:
    """stdp_pl_synapse_hom: w += lambda w^mu Kplus_term per post spike in the window, in
    rounds over the row (one batched w ** mu per round), then w -= lambda alpha w K_minus
    (clipped at 0) and delivery, in row order."""
    cdef int64_t n = r.end - r.begin
    cdef int64_t i, a, syn, tgt, first, n_active = 0, n_left
    cdef TargetMemo* memo
    cdef double w
    for i in range(n):
        syn = r.begin + i
        tgt = targets[syn]
        memo = memo_at(sc, h, tgt, r.t - delays[syn], p.dt)
        sc.weight[i] = weights[syn]
        sc.kminus[i] = memo.kminus
        first = window_first(h, tgt, memo, r.t_last - delays[syn])
        if first <= memo.newest:
            sc.next[i] = first
            sc.end[i] = memo.newest + 1
            sc.active[n_active] = i
            n_active += 1
    while n_active > 0:
        for a in range(n_active):
            i = sc.active[a]
            syn = r.begin + i
            tgt = targets[syn]
            sc.base[a] = sc.weight[i]
            sc.term[a] = kplus_term(sc, h.step[tgt * h.capacity
                                               + ((h.head[tgt] + sc.next[i]) & h.mask)]
                                    + delays[syn], r.kplus, r.t_last, p.dt, p.tau_plus)
        brainsim_pow_batch(sc.pow_core, sc.base, p.mu_plus, <int>n_active, sc.power, sc.good)
        n_left = 0
        for a in range(n_active):
            i = sc.active[a]
            sc.weight[i] = sc.weight[i] + (p.lam * sc.power[a] * sc.term[a])
            sc.next[i] += 1
            if sc.next[i] < sc.end[i]:
                sc.active[n_left] = i
                n_left += 1
        n_active = n_left
    for i in range(n):
        syn = r.begin + i
        w = depress_pl(sc.weight[i], sc.kminus[i], p.lam, p.alpha)
        weights[syn] = w
        ring_add(ring, n_local, ring_len, r.slot + delays[syn], targets[syn], w, unit_events)


def deliver_stdp(const uint64_t[::1] spike_keys, int64_t n_spikes, int64_t epoch_first_step,
                 const int64_t[::1] row_ptr, const uint32_t[::1] targets,
                 double[::1] weights, const uint16_t[::1] delay_steps,
                 int64_t source_offset, double[::1] kplus, int64_t[::1] t_last,
                 const int64_t[:, ::1] hist_step, const double[:, ::1] hist_k,
                 const int64_t[::1] hist_head, const int64_t[::1] hist_count,
                 const double[::1] tau_minus, double dt, double tau_plus, double lam,
                 double alpha, double mu_plus, double mu_minus, double wmax,
                 double[:, :, ::1] ring, DeliveryCache cache not None, int power_law=0,
                 int unit_events=0):
    """Deliver the spikes of sources [source_offset, source_offset + len(kplus)) through
    this projection, updating weights (pA, in place), kplus and t_last (steps); other gids
    are skipped. power_law=1: NEST's stdp_pl_synapse_hom (w += lambda w^mu Kplus e^..;
    w -= lambda alpha w K_minus, clipped at 0; mu_plus is mu; mu_minus, wmax unused).
    ring: (ring_len, n_local, 2), ring_len > every delay; hist_*: PostHistory arrays.
    unit_events=1: the targets ignore weights (NEST's parrot_neuron): each spike adds 1.0,
    the weights still learn."""
    cdef int64_t n_local = ring.shape[1], ring_len = ring.shape[0]
    cdef int64_t n_src = kplus.shape[0]
    if hist_step.shape[0] != n_local or cache.n_targets < n_local:
        raise ValueError("post histories, ring and DeliveryCache disagree on n_local")
    if hist_step.shape[1] & (hist_step.shape[1] - 1):
        raise ValueError(f"post history capacity must be a power of two, got "
                         f"{hist_step.shape[1]}")
    if n_local == 0 or n_spikes == 0:
        return
    cdef History h = History(&hist_step[0, 0], &hist_k[0, 0], &hist_head[0], &hist_count[0],
                             &tau_minus[0], hist_step.shape[1], hist_step.shape[1] - 1)
    cdef Rule p = Rule(dt, tau_plus, lam, alpha, mu_plus, mu_minus, wmax)
    cdef Scratch* sc = &cache.s
    cdef double* ring_data = &ring[0, 0, 0]
    cdef int64_t k, gid, s, longest = 0
    cdef Row r
    for k in range(n_spikes):
        gid = <int64_t>(spike_keys[k] & 0xffffffffULL)
        if 0 <= gid - source_offset < n_src:
            longest = max(longest, row_ptr[gid + 1] - row_ptr[gid])
    cache.reserve_row(longest)
    sc.call_serial += 1
    with nogil:
        for k in range(n_spikes):
            gid = <int64_t>(spike_keys[k] & 0xffffffffULL)
            s = gid - source_offset
            if s < 0 or s >= n_src:
                continue
            r.slot = (epoch_first_step + <int64_t>(spike_keys[k] >> 32)) % ring_len
            r.t = epoch_first_step + <int64_t>(spike_keys[k] >> 32) + 1
            r.begin = row_ptr[gid]
            r.end = row_ptr[gid + 1]
            r.kplus = kplus[s]
            r.t_last = t_last[s]
            # every key is one event: a spike of multiplicity n (n equal keys) is n events,
            # as NEST unrolls it for plastic synapses; after the first, t_last = t, so the
            # window is empty, the weight is depressed again and Kplus grows by 1
            sc.row_serial += 1
            if r.end > r.begin:
                if power_law:
                    row_power_law(sc, &h, &r, &p, &targets[0], &weights[0], &delay_steps[0],
                                  ring_data, n_local, ring_len, unit_events)
                else:
                    row_pair(sc, &h, &r, &p, &targets[0], &weights[0], &delay_steps[0],
                             ring_data, n_local, ring_len, unit_events)
            kplus[s] = r.kplus * exp(<double>(r.t_last - r.t) * dt / tau_plus) + 1.0
            t_last[s] = r.t


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
            # one entry per spike, also several in one step (a parrot's multiplicity, an
            # aeif_cond_exp with t_ref = 0), as NEST's ArchivingNode::set_spiketime
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


def power_batch(const double[::1] x not None, double y, int level=2):
    """x ** y by the batched kernel of the power-law delivery (powers.pxd); level 2: the
    best of AVX-512 / AVX2 / baseline this CPU has, 1: at most AVX2, 0: baseline."""
    import numpy as np
    out = np.empty(x.shape[0], dtype=np.float64)
    good = np.empty(x.shape[0], dtype=np.uint8)
    cdef double[::1] out_view = out
    cdef uint8_t[::1] good_view = good
    cdef brainsim_pow_core_fn core = brainsim_pick_pow_core(level)
    if x.shape[0]:
        brainsim_pow_batch(core, &x[0], y, <int>x.shape[0], &out_view[0], &good_view[0])
    return out
