# cython: language_level=3
"""Per-step stimulus inputs shared by the neuron kernels (Poisson and DC generators), and
the ``InputPlan`` that holds them, grouped by segment, with the kernels' scratch buffers.

Inputs arrive as flat arrays with one entry per (input, segment). An InputPlan is built once
per neuron group: it checks the arrays, groups the entries by segment (stable: entry order
is kept within a segment) and allocates the scratch for epochs of up to ``max_steps`` steps.
For a neuron of segment ``seg`` at absolute step ``s``:

- Poisson input entry q emitted at step e = s - delay_steps[q] acts at s when
  first_step[q] <= e < stop_step[q]; its count is poisson_from_uniform(uniform01(seed,
  POISSON, item[q], c2=gid, c0=e & 0xffffffff, c1=e >> 32), cdf row q, table_len[q],
  lambda[q]), added as count * weight[q];
- DC entry j contributes amplitude[j] (pA) when first_step[j] <= s < stop_step[j].

Kernel calls go through ``InputPlan.begin`` (the checks every call needs, the DC current of
the call's steps, the spike sink) and ``InputPlan.finish`` (the spike count); the nogil core
takes the plan's ``Workspace`` and ``SpikeSink`` by pointer and allocates nothing.
"""
from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t

from cython_kernels.poisson cimport poisson_from_uniform


cdef enum:
    POISSON_BATCH = 64          # neurons per batched Poisson draw (block size of the kernels)
    BLOCK_NEURON_STEPS = 16384  # neuron-steps of one block's gathered input, at most


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
    /* lanes first..n-1, one at a time (the reference the vector code must equal) */
    #define BRAINSIM_PHILOX_UNIFORM_LANES(first)                                           \
        const uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);                \
        for (int i = (first); i < n; i++) {                                             \
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
        }

    #define BRAINSIM_CDF_COUNTS                                                         \
        double umax = 0.0;                                                              \
        for (int i = 0; i < n; i++) { counts[i] = 0; umax = u[i] > umax ? u[i] : umax; } \
        for (int t = 0; t < K; t++) {                                                   \
            const double c = cdf[t];                                                    \
            if (umax < c) break;          /* later entries are larger: count complete */\
            for (int i = 0; i < n; i++) counts[i] += (u[i] >= c);                       \
        }

    #define BRAINSIM_POISSON_BATCH_BODY BRAINSIM_PHILOX_UNIFORM_LANES(0) BRAINSIM_CDF_COUNTS

    #define BRAINSIM_BATCH_ARGS uint64_t seed, uint32_t c3, uint32_t c0, uint32_t c1,   \
        const uint32_t* __restrict gids, int n, const double* __restrict cdf, int K,    \
        double* __restrict u, int32_t* __restrict counts

    #if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
    #include <immintrin.h>
    /* High 32 bits of the 32 x 32-bit products of each lane: even lanes from vpmuludq on
     * the even halves, odd lanes from vpmuludq on the odd halves (GCC's own vectorisation
     * of the scalar code used the slow 64-bit vpmullq and many shuffles). */
    __attribute__((target("avx512f,avx512dq,avx512vl,avx512bw")))
    static inline __m512i brainsim_mulhi_epu32(__m512i a, __m512i b) {
        __m512i even = _mm512_mul_epu32(a, b);
        __m512i odd = _mm512_mul_epu32(_mm512_srli_epi64(a, 32), _mm512_srli_epi64(b, 32));
        return _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(even, 32), odd);
    }

    /* 16 lanes at a time with the same operations as the scalar lanes (integer only; the
     * int32 -> double conversions and the two double operations are exact, so no FMA or
     * rounding can differ). */
    __attribute__((target("avx512f,avx512dq,avx512vl,avx512bw")))
    static void brainsim_poisson_batch_avx512(BRAINSIM_BATCH_ARGS) {
        const __m512i m0 = _mm512_set1_epi32((int)0xD2511F53u);
        const __m512i m1 = _mm512_set1_epi32((int)0xCD9E8D57u);
        const __m512d two27 = _mm512_set1_pd(134217728.0);
        const __m512d scale = _mm512_set1_pd(1.0 / 9007199254740992.0);
        int vector_lanes = n - n % 16;
        for (int i = 0; i < vector_lanes; i += 16) {
            __m512i x0 = _mm512_set1_epi32((int)c0), x1 = _mm512_set1_epi32((int)c1);
            __m512i x2 = _mm512_loadu_si512((const void*)(gids + i));
            __m512i x3 = _mm512_set1_epi32((int)c3);
            uint32_t a0 = (uint32_t)seed, a1 = (uint32_t)(seed >> 32);
            for (int r = 0; r < 10; r++) {
                __m512i n0 = _mm512_xor_si512(_mm512_xor_si512(brainsim_mulhi_epu32(x2, m1), x1),
                                              _mm512_set1_epi32((int)a0));
                __m512i n2 = _mm512_xor_si512(_mm512_xor_si512(brainsim_mulhi_epu32(x0, m0), x3),
                                              _mm512_set1_epi32((int)a1));
                x1 = _mm512_mullo_epi32(x2, m1);
                x3 = _mm512_mullo_epi32(x0, m0);
                x0 = n0;
                x2 = n2;
                a0 += 0x9E3779B9u; a1 += 0xBB67AE85u;
            }
            __m512i hi = _mm512_srli_epi32(x1, 6);
            __m512i lo = _mm512_or_si512(_mm512_slli_epi32(_mm512_and_si512(x1, _mm512_set1_epi32(63)), 21),
                                         _mm512_srli_epi32(x0, 11));
            __m512d low8 = _mm512_add_pd(
                _mm512_mul_pd(_mm512_cvtepi32_pd(_mm512_extracti64x4_epi64(hi, 0)), two27),
                _mm512_cvtepi32_pd(_mm512_extracti64x4_epi64(lo, 0)));
            __m512d high8 = _mm512_add_pd(
                _mm512_mul_pd(_mm512_cvtepi32_pd(_mm512_extracti64x4_epi64(hi, 1)), two27),
                _mm512_cvtepi32_pd(_mm512_extracti64x4_epi64(lo, 1)));
            _mm512_storeu_pd(u + i, _mm512_mul_pd(low8, scale));
            _mm512_storeu_pd(u + i + 8, _mm512_mul_pd(high8, scale));
        }
        BRAINSIM_PHILOX_UNIFORM_LANES(vector_lanes)
        BRAINSIM_CDF_COUNTS
    }
    /* The same with AVX2: 8 lanes per vector (6.7 -> ~2 ns per draw as GCC vectorised it). */
    __attribute__((target("avx2")))
    static inline __m256i brainsim_mulhi_epu32_avx2(__m256i a, __m256i b) {
        __m256i even = _mm256_mul_epu32(a, b);
        __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), _mm256_srli_epi64(b, 32));
        return _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
    }

    __attribute__((target("avx2")))
    static inline __m256d brainsim_uniform4_avx2(__m128i hi, __m128i lo) {
        __m256d value = _mm256_add_pd(_mm256_mul_pd(_mm256_cvtepi32_pd(hi),
                                                    _mm256_set1_pd(134217728.0)),
                                      _mm256_cvtepi32_pd(lo));
        return _mm256_mul_pd(value, _mm256_set1_pd(1.0 / 9007199254740992.0));
    }

    __attribute__((target("avx2")))
    static void brainsim_poisson_batch_avx2(BRAINSIM_BATCH_ARGS) {
        const __m256i m0 = _mm256_set1_epi32((int)0xD2511F53u);
        const __m256i m1 = _mm256_set1_epi32((int)0xCD9E8D57u);
        int vector_lanes = n - n % 8;
        for (int i = 0; i < vector_lanes; i += 8) {
            __m256i x0 = _mm256_set1_epi32((int)c0), x1 = _mm256_set1_epi32((int)c1);
            __m256i x2 = _mm256_loadu_si256((const __m256i*)(gids + i));
            __m256i x3 = _mm256_set1_epi32((int)c3);
            uint32_t a0 = (uint32_t)seed, a1 = (uint32_t)(seed >> 32);
            for (int r = 0; r < 10; r++) {
                __m256i n0 = _mm256_xor_si256(_mm256_xor_si256(brainsim_mulhi_epu32_avx2(x2, m1), x1),
                                              _mm256_set1_epi32((int)a0));
                __m256i n2 = _mm256_xor_si256(_mm256_xor_si256(brainsim_mulhi_epu32_avx2(x0, m0), x3),
                                              _mm256_set1_epi32((int)a1));
                x1 = _mm256_mullo_epi32(x2, m1);
                x3 = _mm256_mullo_epi32(x0, m0);
                x0 = n0;
                x2 = n2;
                a0 += 0x9E3779B9u; a1 += 0xBB67AE85u;
            }
            __m256i hi = _mm256_srli_epi32(x1, 6);
            __m256i lo = _mm256_or_si256(_mm256_slli_epi32(_mm256_and_si256(x1, _mm256_set1_epi32(63)), 21),
                                         _mm256_srli_epi32(x0, 11));
            _mm256_storeu_pd(u + i, brainsim_uniform4_avx2(_mm256_castsi256_si128(hi),
                                                           _mm256_castsi256_si128(lo)));
            _mm256_storeu_pd(u + i + 4, brainsim_uniform4_avx2(_mm256_extracti128_si256(hi, 1),
                                                               _mm256_extracti128_si256(lo, 1)));
        }
        BRAINSIM_PHILOX_UNIFORM_LANES(vector_lanes)
        BRAINSIM_CDF_COUNTS
    }
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


ctypedef struct PoissonEntry:
    # one (Poisson input, segment) entry
    int64_t delay_steps
    int64_t first_step             # emission steps [first_step, stop_step)
    int64_t stop_step
    uint32_t c3                    # (POISSON << 24) | input index
    int table_len
    int channel                    # receptor channel it names; -1: by the weight's sign
    double weight                  # native unit of the target model, per spike
    double lam                     # mean count per step
    const double* cdf              # table_len entries, owned by the plan


ctypedef struct DCEntry:
    # one (DC input, segment) entry
    double amplitude               # pA
    int64_t first_step             # update steps that read it: [first_step, stop_step)
    int64_t stop_step


ctypedef struct Workspace:
    # Input index (fixed when the plan is built): the Poisson entries of segment g are
    # entries[p_ptr[g]:p_ptr[g + 1]], its DC entries dc_entries[dc_ptr[g]:dc_ptr[g + 1]],
    # each in input order.
    int64_t n_seg
    const int64_t* p_ptr
    const PoissonEntry* entries
    const int64_t* dc_ptr
    const DCEntry* dc_entries
    poisson_batch_fn batch         # Poisson draw variant for this CPU
    # Set by InputPlan.begin for the call's n_steps:
    int nb_max                     # neurons per block
    double* dc_current             # [g * n_steps + j]: i_0 of segment g at step first + j, pA
    # Block scratch (sized for the plan's max_steps):
    double* ex                     # nb_max * n_steps, [j * nb + lane]
    double* inh                    # nb_max * n_steps (= ex + channel_stride)
    int64_t channel_stride         # doubles from one channel's block input to the next's:
    int n_channels                 # channel c at ex + c * channel_stride, c < n_channels
    double* u                      # POISSON_BATCH uniforms
    int32_t* counts                # POISSON_BATCH counts
    uint32_t* gids                 # POISSON_BATCH gids


ctypedef struct SpikeSink:
    # Where a kernel appends (lag << 32) | gid of each spike, in emission order: the
    # caller's spike_keys while it has room, then the plan's spill buffer, which grows by
    # doubling (a model may emit several spikes per neuron and step).
    uint64_t* keys                 # the caller's spike_keys
    int64_t capacity               # len(spike_keys)
    int64_t n                      # spikes emitted by this call
    uint64_t* spill                # spike n >= capacity is spill[n - capacity]
    int64_t spill_capacity
    bint failed                    # no memory to grow the spill: finish() raises


cdef class InputPlan:
    cdef Workspace ws
    cdef SpikeSink sink
    cdef readonly Py_ssize_t num_segments
    cdef readonly int num_channels         # ring channels its kernel reads (>= 2)
    cdef readonly int64_t max_steps        # epochs up to this long need no allocation
    cdef void* index_block                 # p_ptr, entries, dc_ptr, dc_entries
    cdef void* step_block                  # dc_current, ex, inh, u, counts, gids
    cdef object cdf                        # the CDF rows the entries point into
    cdef const int64_t* checked_gids       # local_gids last checked (see _check_gids)
    cdef Py_ssize_t checked_num_gids
    cdef int _build_index(self, const int64_t[:] p_seg, const int64_t[:] item,
                          const double[:] weight, const int64_t[:] delay_steps,
                          const int64_t[:] first_step, const int64_t[:] stop_step,
                          const int64_t[:] table_len, const double[:] lam,
                          const int64_t[:] channel,
                          const int64_t[:] dc_seg, const double[:] amplitude,
                          const int64_t[:] dc_first, const int64_t[:] dc_stop) except -1
    cdef int reserve(self, int64_t n_steps) except -1
    cdef int _check_gids(self, const int64_t[:] local_gids, Py_ssize_t n_local) except -1
    cdef const double[:, ::1] begin(
        self, Py_ssize_t n_local, Py_ssize_t n_params,
        const int64_t[:] seg_begin, const int64_t[:] seg_end, const double[:, ::1] seg_params,
        double[:, :, ::1] ring, const int64_t[:] local_gids, int64_t first_step,
        int64_t n_steps, uint64_t[::1] spike_keys, object i_ext) except *
    cdef int64_t finish(self, str kernel) except -1


cdef int spill_grow(SpikeSink* out) noexcept nogil


cdef inline void emit_spike(SpikeSink* out, uint64_t key) noexcept nogil:
    """Append one spike key (see SpikeSink)."""
    cdef int64_t k = out.n - out.capacity
    if k < 0:
        out.keys[out.n] = key
    elif k < out.spill_capacity or spill_grow(out) == 0:
        out.spill[k] = key
    else:
        out.failed = True
        return
    out.n += 1


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


cdef inline void add_poisson_block_channels(
        poisson_batch_fn batch, uint64_t seed,
        const PoissonEntry* entries, int64_t n_entries,   # IN this segment's inputs
        int64_t first_step, int64_t n_steps, int nb,
        const uint32_t* gids,          # IN  gid of each of the nb neurons
        double* inputs,                # IN/OUT channel c at inputs + c * stride, [j * nb + lane]
        int64_t stride,
        double* u,                     # scratch nb
        int32_t* counts) noexcept nogil:  # scratch nb
    """add_poisson_block for a receptor-addressed model: each entry's count * weight goes
    to the channel its input names (entries[jj].channel), whatever the weight's sign (an
    entry that names none, -1, goes by sign: channel 0 or 1, as add_poisson_block)."""
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
        c = entries[jj].channel
        target = inputs + (c if c >= 0 else (1 if w < 0.0 else 0)) * stride
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
