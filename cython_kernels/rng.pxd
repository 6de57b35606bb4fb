# cython: language_level=3
"""Counter-based randomness for brainsim: Philox4x32-10 (Salmon et al. 2011, Random123).

Every random number in brainsim is a pure function of
``(seed, stream kind, item, c2, c0, c1)``; nothing depends on the rank, the number of
ranks or the order of work (docs/architecture.md §2.3).

Layout of one Philox call
-------------------------
key     = (seed & 0xffffffff, seed >> 32)          the uint64 master seed
counter = (c0, c1, c2, c3) with c3 = (kind << 24) | item
    kind  one of ``StreamKind`` (SOURCE ... BERNOULLI), 8 bits
    item  projection index, input index or state-variable index, < 2**24
    c2    usually the target / receiving gid
    c0    the draw index (synapse k, time step low word, ...)
    c1    redraw attempt, or the time step high word for per-step draws
The four output words w0..w3 are turned into numbers as:
    64-bit word A = w0 | (w1 << 32),  B = w2 | (w3 << 32)
    uniform in [0, 1): (A >> 11) * 2**-53    (second one from B)
    index in [0, n):   (A * n) >> 64         (Lemire's multiply-shift, bias < n / 2**64)
"""
from libc.stdint cimport uint32_t, uint64_t, int64_t
from libc.math cimport sqrt, log, cos, exp, M_PI


cdef extern from *:
    """
    /* brainsim rng: high 64 bits of a 64x64-bit product. */
    static inline unsigned long long brainsim_mulhi64(unsigned long long a,
                                                      unsigned long long b) {
    #if defined(__SIZEOF_INT128__)
        return (unsigned long long)(((unsigned __int128)a * b) >> 64);
    #else
        unsigned long long a_lo = a & 0xffffffffULL, a_hi = a >> 32;
        unsigned long long b_lo = b & 0xffffffffULL, b_hi = b >> 32;
        unsigned long long p0 = a_lo * b_lo, p1 = a_lo * b_hi;
        unsigned long long p2 = a_hi * b_lo, p3 = a_hi * b_hi;
        unsigned long long mid = (p0 >> 32) + (p1 & 0xffffffffULL) + (p2 & 0xffffffffULL);
        return p3 + (p1 >> 32) + (p2 >> 32) + (mid >> 32);
    #endif
    }
    """
    uint64_t brainsim_mulhi64(uint64_t a, uint64_t b) noexcept nogil


# Stream kinds (the top 8 bits of counter word c3). Also exported to Python as plain ints.
cpdef enum StreamKind:
    SOURCE = 1       # presynaptic source choice, item = projection index
    WEIGHT = 2       # synaptic weight, item = projection index
    DELAY = 3        # synaptic delay, item = projection index
    INIT = 4         # initial state, item = state-variable index
    POISSON = 5      # per-step Poisson input, item = input index
    BERNOULLI = 6    # pairwise_bernoulli skips, item = projection index
    MULTINOMIAL = 7  # fixed_total_number counts per target, item = projection index


# Distribution codes for draw_distribution (params = (a, b, min, max)).
cdef enum DistributionCode:
    DIST_CONSTANT = 0    # a = value (bounds ignored)
    DIST_NORMAL = 1      # a = mean, b = std
    DIST_UNIFORM = 2     # a = low, b = high
    DIST_LOGNORMAL = 3   # a = mu, b = sigma of the underlying normal


# Error codes returned by the nogil draws.
cdef enum RngError:
    RNG_OK = 0
    RNG_REDRAW_FAILED = -1     # no draw inside [min, max] after MAX_REDRAW_ATTEMPTS
    RNG_BAD_CODE = -2          # unknown distribution code


cdef enum:
    MAX_REDRAW_ATTEMPTS = 10000


ctypedef struct philox4:
    uint32_t w0
    uint32_t w1
    uint32_t w2
    uint32_t w3


cdef int _copy_params(params, double* p, str what) except -1


cdef inline philox4 philox4x32_10(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3,
                                  uint32_t k0, uint32_t k1) noexcept nogil:
    """Philox4x32 with 10 rounds on counter (c0, c1, c2, c3) and key (k0, k1)."""
    cdef uint64_t p0, p1
    cdef uint32_t n0, n2
    cdef int r
    for r in range(10):
        if r > 0:
            k0 = k0 + <uint32_t>0x9E3779B9
            k1 = k1 + <uint32_t>0xBB67AE85
        p0 = <uint64_t>0xD2511F53 * <uint64_t>c0
        p1 = <uint64_t>0xCD9E8D57 * <uint64_t>c2
        n0 = <uint32_t>(p1 >> 32) ^ c1 ^ k0
        n2 = <uint32_t>(p0 >> 32) ^ c3 ^ k1
        c1 = <uint32_t>p1
        c3 = <uint32_t>p0
        c0 = n0
        c2 = n2
    cdef philox4 out
    out.w0 = c0
    out.w1 = c1
    out.w2 = c2
    out.w3 = c3
    return out


cdef inline philox4 stream_draw(uint64_t seed, uint32_t kind, uint32_t item, uint32_t c2,
                                uint32_t c0, uint32_t c1) noexcept nogil:
    """One Philox call of stream (kind, item): counter (c0, c1, c2, (kind << 24) | item)."""
    return philox4x32_10(c0, c1, c2, (kind << 24) | (item & 0xffffff),
                         <uint32_t>seed, <uint32_t>(seed >> 32))


cdef inline uint64_t word_a(philox4 w) noexcept nogil:
    """64-bit word from output words 0 (low half) and 1 (high half)."""
    return <uint64_t>w.w0 | (<uint64_t>w.w1 << 32)


cdef inline uint64_t word_b(philox4 w) noexcept nogil:
    """64-bit word from output words 2 (low half) and 3 (high half)."""
    return <uint64_t>w.w2 | (<uint64_t>w.w3 << 32)


cdef inline double u64_to_unit(uint64_t x) noexcept nogil:
    """Top 53 bits of x as a double in [0, 1)."""
    return <double>(x >> 11) * (1.0 / 9007199254740992.0)


cdef inline uint64_t uniform_index(uint64_t word, uint64_t n) noexcept nogil:
    """Index in [0, n) from a 64-bit random word: (word * n) >> 64."""
    return brainsim_mulhi64(word, n)


cdef inline double uniform01(uint64_t seed, uint32_t kind, uint32_t item, uint32_t c2,
                             uint32_t c0, uint32_t c1) noexcept nogil:
    """Uniform double in [0, 1) from words 0, 1 of one Philox call."""
    return u64_to_unit(word_a(stream_draw(seed, kind, item, c2, c0, c1)))


cdef inline double uniform01_pair(uint64_t seed, uint32_t kind, uint32_t item, uint32_t c2,
                                  uint32_t c0, uint32_t c1, double* second) noexcept nogil:
    """Two uniforms in [0, 1) from one Philox call: returns the one of words 0, 1;
    writes the one of words 2, 3 to ``second`` (OUT)."""
    cdef philox4 w = stream_draw(seed, kind, item, c2, c0, c1)
    second[0] = u64_to_unit(word_b(w))
    return u64_to_unit(word_a(w))


cdef inline double normal(uint64_t seed, uint32_t kind, uint32_t item, uint32_t c2,
                          uint32_t c0, uint32_t c1) noexcept nogil:
    """Standard normal by Box-Muller from one Philox call:
    u1 = 1 - U(words 0, 1) in (0, 1], u2 = U(words 2, 3), z = sqrt(-2 ln u1) cos(2 pi u2)."""
    cdef philox4 w = stream_draw(seed, kind, item, c2, c0, c1)
    cdef double u1 = 1.0 - u64_to_unit(word_a(w))
    cdef double u2 = u64_to_unit(word_b(w))
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2)


cdef inline int draw_normal_pair(uint64_t seed, uint32_t kind, uint32_t item, uint32_t c2,
                                 uint32_t c0, const double* params_x, const double* params_y,
                                 double* out_x, double* out_y) noexcept nogil:
    """Two independent truncated normals from one draw of Marsaglia's polar method.

    params are (mean, std, min, max). Attempt j (counter word c1 = j) takes a point
    (u, v) uniform in the square [-1, 1)^2; it is used when it falls inside the unit disc
    and both resulting values lie within their bounds. Rejection on the product of the two
    intervals leaves the accepted pair distributed as two independent truncated normals
    (NEST ``redraw`` of each), for one Philox call, one log and one sqrt (no trigonometry)
    instead of two Box-Muller draws. Returns RNG_OK or RNG_REDRAW_FAILED.
    """
    cdef philox4 w
    cdef double u, v, radius2, factor, x, y
    cdef int attempt
    for attempt in range(MAX_REDRAW_ATTEMPTS):
        w = stream_draw(seed, kind, item, c2, c0, <uint32_t>attempt)
        u = 2.0 * u64_to_unit(word_a(w)) - 1.0
        v = 2.0 * u64_to_unit(word_b(w)) - 1.0
        radius2 = u * u + v * v
        if radius2 >= 1.0 or radius2 == 0.0:
            continue
        factor = sqrt(-2.0 * log(radius2) / radius2)
        x = params_x[0] + params_x[1] * (u * factor)
        y = params_y[0] + params_y[1] * (v * factor)
        if x >= params_x[2] and x <= params_x[3] and y >= params_y[2] and y <= params_y[3]:
            out_x[0] = x
            out_y[0] = y
            return RNG_OK
    return RNG_REDRAW_FAILED


cdef inline int draw_distribution(uint64_t seed, uint32_t kind, uint32_t item, uint32_t c2,
                                  uint32_t c0, int code, const double* params,
                                  double* out) noexcept nogil:
    """One value of distribution ``code`` with params (a, b, min, max).

    Attempt j uses counter word c1 = j; a value outside [min, max] is redrawn (NEST
    ``redraw``), at most MAX_REDRAW_ATTEMPTS times. Constant ignores the bounds.
    Writes the value to ``out`` (OUT); returns RNG_OK or an RngError code.
    """
    cdef double a = params[0]
    cdef double b = params[1]
    cdef double lo = params[2]
    cdef double hi = params[3]
    cdef double x
    cdef int attempt
    if code == DIST_CONSTANT:
        out[0] = a
        return RNG_OK
    if code < DIST_CONSTANT or code > DIST_LOGNORMAL:
        return RNG_BAD_CODE
    for attempt in range(MAX_REDRAW_ATTEMPTS):
        if code == DIST_NORMAL:
            x = a + b * normal(seed, kind, item, c2, c0, <uint32_t>attempt)
        elif code == DIST_UNIFORM:
            x = a + (b - a) * uniform01(seed, kind, item, c2, c0, <uint32_t>attempt)
        else:
            x = exp(a + b * normal(seed, kind, item, c2, c0, <uint32_t>attempt))
        if x >= lo and x <= hi:
            out[0] = x
            return RNG_OK
    return RNG_REDRAW_FAILED
