# cython: language_level=3
"""Per-step stimulus inputs shared by the neuron kernels (Poisson and DC generators).

Inputs arrive as flat arrays with one entry per (input, segment); the kernels group the
entries by segment once per call (``group_by_segment``, a stable counting sort into
caller-provided scratch) and then, for a neuron of segment ``seg`` at absolute step ``s``:

- ``poisson_count``: Poisson input entry q emitted at step e = s - delay_steps[q] acts at
  s when first_step[q] <= e < stop_step[q]; its count is
  poisson_from_uniform(uniform01(seed, POISSON, item[q], c2=gid, c0=e & 0xffffffff,
  c1=e >> 32), cdf row q, table_len[q], lambda[q]);
- DC entry j contributes amplitude[j] (pA) when first_step[j] <= s < stop_step[j].
"""
from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t
from libc.stdlib cimport malloc, free

from cython_kernels.rng cimport POISSON, uniform01
from cython_kernels.poisson cimport poisson_from_uniform


cdef enum:
    POISSON_BATCH = 64      # neurons per batched Poisson draw (block size of the neuron kernels)


cdef extern from *:
    """
    /* brainsim: Poisson counts for a batch of neurons at one emission step.
     * Lane i: u_i = uniform01(seed, counter (c0, c1, gids[i], c3)) exactly as rng.pxd
     * (53 bits of words 0, 1), counts[i] = number of cdf entries <= u_i, i.e. the count
     * by table inversion, or K when u_i is beyond the table (then the caller finishes with
     * the exact sequential tail, poisson_from_uniform). Only integer ops, exact int->double
     * conversions and comparisons: every instruction set gives identical bits, so the
     * function is compiled for AVX-512 / AVX2 / baseline and picked at run time. */
    #include <stdint.h>
    #if defined(__GNUC__) || defined(__clang__)
    #define BRAINSIM_MAYBE_UNUSED __attribute__((unused))
    #else
    #define BRAINSIM_MAYBE_UNUSED
    #endif
    #define BRAINSIM_POISSON_BATCH_BODY                                                  \
        double umax = 0.0;                                                              \
        const uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);                \
        for (int i = 0; i < n; i++) {                                                   \
            uint32_t x0 = c0, x1 = c1, x2 = gids[i], x3 = c3, a0 = k0, a1 = k1;         \
            for (int r = 0; r < 10; r++) {                                              \
                uint64_t p0 = (uint64_t)0xD2511F53u * x0;                               \
                uint64_t p1 = (uint64_t)0xCD9E8D57u * x2;                               \
                uint32_t n0 = (uint32_t)(p1 >> 32) ^ x1 ^ a0;                           \
                uint32_t n2 = (uint32_t)(p0 >> 32) ^ x3 ^ a1;                           \
                x1 = (uint32_t)p1; x3 = (uint32_t)p0; x0 = n0; x2 = n2;                 \
                a0 += 0x9E3779B9u; a1 += 0xBB67AE85u;                                   \
            }                                                                           \
            /* (x0 | x1 << 32) >> 11 as 26 + 27 bits, both exact in int32 -> double */  \
            int32_t hi = (int32_t)(x1 >> 6);                                            \
            int32_t lo = (int32_t)(((x1 & 63u) << 21) | (x0 >> 11));                    \
            u[i] = ((double)hi * 134217728.0 + (double)lo) * (1.0 / 9007199254740992.0); \
            counts[i] = 0;                                                              \
        }                                                                               \
        for (int i = 0; i < n; i++) umax = u[i] > umax ? u[i] : umax;                   \
        for (int t = 0; t < K; t++) {                                                   \
            const double c = cdf[t];                                                    \
            if (umax < c) break;          /* later entries are larger: count complete */\
            for (int i = 0; i < n; i++) counts[i] += (u[i] >= c);                       \
        }

    #define BRAINSIM_BATCH_ARGS uint64_t seed, uint32_t c3, uint32_t c0, uint32_t c1,   \
        const uint32_t* __restrict gids, int n, const double* __restrict cdf, int K,    \
        double* __restrict u, int32_t* __restrict counts

    #if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
    __attribute__((target("avx512f,avx512dq,avx512vl,avx512bw")))
    static void brainsim_poisson_batch_avx512(BRAINSIM_BATCH_ARGS) { BRAINSIM_POISSON_BATCH_BODY }
    __attribute__((target("avx2")))
    static void brainsim_poisson_batch_avx2(BRAINSIM_BATCH_ARGS) { BRAINSIM_POISSON_BATCH_BODY }
    #endif
    static void brainsim_poisson_batch_base(BRAINSIM_BATCH_ARGS) { BRAINSIM_POISSON_BATCH_BODY }

    typedef void (*brainsim_poisson_batch_fn)(BRAINSIM_BATCH_ARGS);

    BRAINSIM_MAYBE_UNUSED static brainsim_poisson_batch_fn brainsim_pick_poisson_batch(void) {
    #if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq")
                && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw"))
            return brainsim_poisson_batch_avx512;
        if (__builtin_cpu_supports("avx2"))
            return brainsim_poisson_batch_avx2;
    #endif
        return brainsim_poisson_batch_base;
    }

    /* For tests: variant 0 = baseline, 1 = AVX2, 2 = AVX-512; NULL when this CPU or
     * compiler lacks it. */
    BRAINSIM_MAYBE_UNUSED static brainsim_poisson_batch_fn brainsim_poisson_batch_variant(int which) {
        if (which == 0) return brainsim_poisson_batch_base;
    #if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
        __builtin_cpu_init();
        if (which == 1 && __builtin_cpu_supports("avx2")) return brainsim_poisson_batch_avx2;
        if (which == 2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq")
                && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw"))
            return brainsim_poisson_batch_avx512;
    #endif
        return NULL;
    }
    """
    ctypedef void (*poisson_batch_fn "brainsim_poisson_batch_fn")(
        uint64_t seed, uint32_t c3, uint32_t c0, uint32_t c1, const uint32_t* gids, int n,
        const double* cdf, int K, double* u, int32_t* counts) noexcept nogil
    poisson_batch_fn brainsim_pick_poisson_batch() noexcept nogil
    poisson_batch_fn brainsim_poisson_batch_variant(int which) noexcept nogil


cdef inline int group_by_segment(const int64_t[:] seg_of_entry,  # IN segment of each entry
                                 int64_t n_seg,
                                 int64_t* ptr,      # OUT n_seg + 1 offsets
                                 int64_t* order     # OUT entry indices grouped by segment
                                 ) noexcept nogil:
    """Stable counting sort of entries by segment; returns -1 - (bad entry) on a segment
    index outside [0, n_seg), else 0."""
    cdef Py_ssize_t j
    cdef int64_t seg
    for j in range(n_seg + 1):
        ptr[j] = 0
    for j in range(seg_of_entry.shape[0]):
        seg = seg_of_entry[j]
        if seg < 0 or seg >= n_seg:
            return -1 - <int>j
        ptr[seg + 1] += 1
    for j in range(n_seg):
        ptr[j + 1] += ptr[j]
    for j in range(seg_of_entry.shape[0]):
        seg = seg_of_entry[j]
        order[ptr[seg]] = j
        ptr[seg] += 1
    for j in range(n_seg, 0, -1):
        ptr[j] = ptr[j - 1]
    ptr[0] = 0
    return 0


cdef inline int poisson_count(uint64_t seed, int64_t item, int64_t gid, int64_t e,
                              const double* cdf, int table_len, double lam) noexcept nogil:
    """Poisson count of input ``item`` emitted at step ``e`` for neuron ``gid`` (scalar form
    of what ``add_poisson_block`` computes for a block of neurons)."""
    cdef double u = uniform01(seed, POISSON, <uint32_t>item, <uint32_t>gid,
                              <uint32_t>e, <uint32_t>(e >> 32))
    return poisson_from_uniform(u, cdf, table_len, lam)


ctypedef struct PoissonEntry:
    # one (Poisson input, segment) entry, copied once per call
    int64_t delay_steps
    int64_t first_step             # emission steps [first_step, stop_step)
    int64_t stop_step
    uint32_t c3                    # (POISSON << 24) | input index
    int table_len
    double weight
    double lam
    const double* cdf


cdef inline int prepare_inputs(
        const int64_t[:] poisson_seg, const int64_t[:] poisson_item,
        const double[:] poisson_weight, const int64_t[:] poisson_delay_steps,
        const int64_t[:] poisson_first_step, const int64_t[:] poisson_stop_step,
        const double[:, ::1] poisson_cdf, const int64_t[:] poisson_table_len,
        const double[:] poisson_lambda,
        const int64_t[:] dc_seg, const double[:] dc_amplitude,
        const int64_t[:] dc_first_step, const int64_t[:] dc_stop_step,
        int64_t n_seg, int64_t first_step, int64_t n_steps,
        int64_t* scratch,              # scratch, len(poisson_seg) + len(dc_seg) entries
        int64_t* dc_ptr,               # scratch, n_seg + 1 entries
        int64_t* p_ptr,                # OUT n_seg + 1: entries of segment g are
        PoissonEntry* entries,         # OUT       entries[p_ptr[g]:p_ptr[g + 1]], input order
        double* dc_current) noexcept nogil:  # OUT n_seg * n_steps: i_0 of segment g at step j
    """Group the inputs by segment once per call. The DC current of a step is the same for
    every neuron of a segment: i_0 = 0.0, then + amplitude of each active entry in order.
    Returns 0, or -1 on a segment index outside [0, n_seg)."""
    cdef Py_ssize_t nq = poisson_seg.shape[0]
    cdef Py_ssize_t n_dc = dc_seg.shape[0]
    cdef int64_t jj, q, g, j, s
    cdef double i0
    if group_by_segment(poisson_seg, n_seg, p_ptr, scratch) != 0:
        return -1
    for jj in range(nq):
        q = scratch[jj]
        entries[jj].delay_steps = poisson_delay_steps[q]
        entries[jj].first_step = poisson_first_step[q]
        entries[jj].stop_step = poisson_stop_step[q]
        entries[jj].c3 = (<uint32_t>POISSON << 24) | <uint32_t>poisson_item[q]
        entries[jj].table_len = <int>poisson_table_len[q]
        entries[jj].weight = poisson_weight[q]
        entries[jj].lam = poisson_lambda[q]
        entries[jj].cdf = &poisson_cdf[q, 0]
    cdef int64_t* dc_order = scratch + nq
    if group_by_segment(dc_seg, n_seg, dc_ptr, dc_order) != 0:
        return -1
    for g in range(n_seg):
        for j in range(n_steps):
            s = first_step + j
            i0 = 0.0
            for jj in range(dc_ptr[g], dc_ptr[g + 1]):
                q = dc_order[jj]
                if dc_first_step[q] <= s < dc_stop_step[q]:
                    i0 = i0 + dc_amplitude[q]
            dc_current[g * n_steps + j] = i0
    return 0


cdef inline void active_steps(int64_t e_first, int64_t n_steps, int64_t first, int64_t stop,
                              int64_t* j_lo, int64_t* j_hi) noexcept nogil:
    """Steps j in [0, n_steps) with first <= e_first + j < stop, as [j_lo, j_hi) (OUT),
    without overflow for huge first / stop."""
    if first <= e_first:
        j_lo[0] = 0
    elif first >= e_first + n_steps:
        j_lo[0] = n_steps
    else:
        j_lo[0] = first - e_first
    if stop >= e_first + n_steps:
        j_hi[0] = n_steps
    elif stop <= e_first:
        j_hi[0] = 0
    else:
        j_hi[0] = stop - e_first


cdef inline void add_poisson_block(
        poisson_batch_fn batch, uint64_t seed,
        const PoissonEntry* entries, int64_t n_entries,   # IN this segment's inputs
        int64_t first_step, int64_t n_steps, int nb,
        const uint32_t* gids,          # IN  gid of each of the nb neurons
        double* ex,                    # IN/OUT [j * nb + lane]: + count * weight, weight >= 0
        double* inh,                   # IN/OUT [j * nb + lane]: + count * weight, weight < 0
        double* u,                     # scratch nb
        int32_t* counts) noexcept nogil:  # scratch nb
    """Add the Poisson input of a block of nb neurons over the epoch, entry by entry (the
    order of the additions is the entry order, as in the scalar definition). Pass the same
    array as ex and inh to sum both signs into one input."""
    cdef int64_t jj, j, j_lo, j_hi, e, e_first
    cdef int lane, c, K
    cdef double w, lam
    cdef double* target
    cdef const double* cdf
    for jj in range(n_entries):
        w = entries[jj].weight
        lam = entries[jj].lam
        K = entries[jj].table_len
        cdf = entries[jj].cdf
        target = ex if w >= 0.0 else inh
        e_first = first_step - entries[jj].delay_steps
        active_steps(e_first, n_steps, entries[jj].first_step, entries[jj].stop_step,
                     &j_lo, &j_hi)
        for j in range(j_lo, j_hi):
            e = e_first + j
            batch(seed, entries[jj].c3, <uint32_t>e, <uint32_t>(e >> 32), gids, nb, cdf, K,
                  u, counts)
            for lane in range(nb):
                c = counts[lane]
                if c == K:
                    c = poisson_from_uniform(u[lane], cdf, K, lam)
                target[j * nb + lane] = target[j * nb + lane] + <double>c * w


cdef int check_update_args(
        Py_ssize_t n_local, Py_ssize_t n_params,
        const int64_t[:] seg_begin, const int64_t[:] seg_end, const double[:, ::1] seg_params,
        double[:, :, ::1] ring, const int64_t[:] local_gids,
        const int64_t[:] poisson_seg, const int64_t[:] poisson_item,
        const double[:] poisson_weight, const int64_t[:] poisson_delay_steps,
        const int64_t[:] poisson_first_step, const int64_t[:] poisson_stop_step,
        const double[:, ::1] poisson_cdf, const int64_t[:] poisson_table_len,
        const double[:] poisson_lambda,
        const int64_t[:] dc_seg, const double[:] dc_amplitude,
        const int64_t[:] dc_first_step, const int64_t[:] dc_stop_step,
        int64_t first_step, int64_t n_steps, Py_ssize_t spike_capacity) except -1


cdef int check_external_current(const double[:, ::1] i_ext, Py_ssize_t n_local,
                                int64_t n_steps) except -1


ctypedef struct Workspace:
    # per-call scratch of the neuron kernels (one allocation, freed at the end of the call)
    int nb_max                     # neurons per block
    int64_t* order                 # len(poisson) + len(dc)
    int64_t* dc_ptr                # n_seg + 1
    int64_t* p_ptr                 # n_seg + 1
    PoissonEntry* entries          # len(poisson)
    double* dc_current             # n_seg * n_steps
    double* ex                     # nb_max * n_steps, [j * nb + lane]
    double* inh                    # nb_max * n_steps
    double* u                      # nb_max
    int32_t* counts                # nb_max
    uint32_t* gids                 # nb_max
    void* block                    # the allocation


cdef inline int workspace_alloc(Workspace* ws, Py_ssize_t nq, Py_ssize_t n_dc, Py_ssize_t n_seg,
                                int64_t n_steps) noexcept nogil:
    """Allocate the scratch; blocks hold <= POISSON_BATCH neurons and <= ~16k neuron-steps.
    Returns 0, or -1 when out of memory."""
    cdef int64_t steps = n_steps if n_steps > 0 else 1
    cdef int64_t nb = 16384 // steps
    nb = POISSON_BATCH if nb > POISSON_BATCH else (1 if nb < 1 else nb)
    ws.nb_max = <int>nb
    cdef size_t n_i64 = <size_t>(nq + n_dc + 2 * (n_seg + 1))
    cdef size_t n_f64 = <size_t>(n_seg * steps + 2 * nb * steps + nb)
    cdef size_t nbytes = (n_i64 * sizeof(int64_t) + nq * sizeof(PoissonEntry)
                          + n_f64 * sizeof(double) + nb * (sizeof(int32_t) + sizeof(uint32_t)))
    cdef char* p = <char*>malloc(nbytes + 64)
    ws.block = p
    if p == NULL:
        return -1
    ws.order = <int64_t*>p
    ws.dc_ptr = ws.order + nq + n_dc
    ws.p_ptr = ws.dc_ptr + (n_seg + 1)
    ws.entries = <PoissonEntry*>(ws.p_ptr + (n_seg + 1))
    ws.dc_current = <double*>(ws.entries + nq)
    ws.ex = ws.dc_current + n_seg * steps
    ws.inh = ws.ex + nb * steps
    ws.u = ws.inh + nb * steps
    ws.counts = <int32_t*>(ws.u + nb)
    ws.gids = <uint32_t*>(ws.counts + nb)
    return 0


cdef inline void workspace_free(Workspace* ws) noexcept nogil:
    free(ws.block)
    ws.block = NULL
