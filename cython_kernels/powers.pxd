# cython: language_level=3
"""x ** y for a batch of x and one y, with the same bits on every instruction set.

The power-law STDP update (stdp_pl_synapse_hom) needs w ** mu once per facilitation, and
libm's scalar pow was 60 % of hpc_benchmark's delivery time. ``brainsim_pow_batch`` computes
exp(y ln x) with IEEE +, -, *, / and integer bit operations only (no libm, no FMA: the
project compiles with -ffp-contract=off), so the AVX-512, AVX2 and baseline builds of the
same loop give identical results, and GCC vectorises it. Lanes outside the range where
the reduction is exact (x not normal or not finite, or |y ln x| > 700) take libm's pow.

Accuracy (tests/kernels/test_powers.py, against libm): the error of y ln x is a few ulp
of |y ln x|, so the relative error is about (1 + |y ln x|) 2e-16: at most 3 ulp for
x in [1e-3, 1e4] and y = 0.4 (weights in pA), 2.7e-14 at x = 1e300. y = 1 is exact. In
w + lambda w^mu Kplus the increment is a small fraction of w, so the weight nearly always
equals the libm result to the last bit (hpc_benchmark: identical spikes).

    ln x = e ln2 + ln m,  x = m 2^e, m in [sqrt(1/2), sqrt(2)),
    ln m = 2 atanh(s) = 2 (s + s^3/3 + ... + s^23/23),  s = (m - 1) / (m + 1), |s| < 0.172
    exp v = 2^n exp(r),  n = round(v / ln2), r = v - n ln2 (ln2 in two parts), |r| <= 0.347,
    exp r by Horner on the Taylor series to r^14 / 14!
"""

cdef extern from *:
    """
    #include <math.h>
    #include <stdint.h>
    #include <string.h>

    static inline double brainsim_bits_to_double(uint64_t u) { double d; memcpy(&d, &u, 8); return d; }
    static inline uint64_t brainsim_double_to_bits(double d) { uint64_t u; memcpy(&u, &d, 8); return u; }

    /* One lane; *ok = 0 when the lane must take libm's pow instead. */
    #define BRAINSIM_POW_LANE(x, y, out, ok)                                                \
        do {                                                                                \
            uint64_t bits = brainsim_double_to_bits(x);                                     \
            uint64_t biased = bits >> 52;             /* sign bit 0 for x > 0 */            \
            uint64_t mantissa = bits & 0x000fffffffffffffULL;                               \
            /* m > sqrt(2) (mantissa bits of sqrt 2): m / 2, e + 1. Integer tests and      \
               selects only: FP compares may trap, which stops GCC vectorising. */          \
            uint64_t big = mantissa > 0x6a09e667f3bcdULL;                                   \
            double m = brainsim_bits_to_double(mantissa | ((0x3ffULL - big) << 52));        \
            /* exponent as a double, exactly: 2^52 + biased + big - (2^52 + 1023) */        \
            double e = brainsim_bits_to_double(0x4330000000000000ULL | (biased + big))      \
                       - 4503599627371519.0;                                                \
            double s = (m - 1.0) / (m + 1.0);                                               \
            double z = s * s;                                                               \
            double series = 1.0 / 23.0;                                                     \
            series = 1.0 / 21.0 + z * series;                                               \
            series = 1.0 / 19.0 + z * series;                                               \
            series = 1.0 / 17.0 + z * series;                                               \
            series = 1.0 / 15.0 + z * series;                                               \
            series = 1.0 / 13.0 + z * series;                                               \
            series = 1.0 / 11.0 + z * series;                                               \
            series = 1.0 / 9.0 + z * series;                                                \
            series = 1.0 / 7.0 + z * series;                                                \
            series = 1.0 / 5.0 + z * series;                                                \
            series = 1.0 / 3.0 + z * series;                                                \
            double ln_m = 2.0 * s + 2.0 * s * (z * series);                                 \
            /* ln2 = LN2_HI + LN2_LO; LN2_HI ends in 21 zero bits: e, n * LN2_HI exact */  \
            double v = (y) * (e * 6.93147180369123816490e-01                                \
                              + (e * 1.90821492927058770002e-10 + ln_m));                   \
            double shifted = v * 1.4426950408889634 + 6755399441055744.0;                   \
            double nd = shifted - 6755399441055744.0;                                       \
            uint64_t n_bits = brainsim_double_to_bits(shifted) - 0x4338000000000000ULL;     \
            double r = (v - nd * 6.93147180369123816490e-01)                                \
                       - nd * 1.90821492927058770002e-10;                                   \
            double p = 1.0 / 87178291200.0;                                                 \
            p = 1.0 / 6227020800.0 + r * p;                                                 \
            p = 1.0 / 479001600.0 + r * p;                                                  \
            p = 1.0 / 39916800.0 + r * p;                                                   \
            p = 1.0 / 3628800.0 + r * p;                                                    \
            p = 1.0 / 362880.0 + r * p;                                                     \
            p = 1.0 / 40320.0 + r * p;                                                      \
            p = 1.0 / 5040.0 + r * p;                                                       \
            p = 1.0 / 720.0 + r * p;                                                        \
            p = 1.0 / 120.0 + r * p;                                                        \
            p = 1.0 / 24.0 + r * p;                                                         \
            p = 1.0 / 6.0 + r * p;                                                          \
            p = 0.5 + r * p;                                                                \
            p = 1.0 + r * p;                                                                \
            p = 1.0 + r * p;                                                                \
            double scale = brainsim_bits_to_double((n_bits + 1023ULL) << 52);              \
            (out) = p * scale;                                                              \
            /* x normal and finite, |v| < 700 (bits of 700.0; NaN bits compare larger) */  \
            (ok) = (biased - 1ULL < 0x7feULL)                                               \
                   & ((brainsim_double_to_bits(v) & 0x7fffffffffffffffULL)                  \
                      < 0x4085e00000000000ULL);                                             \
        } while (0)

    #define BRAINSIM_POW_BATCH_BODY                                                         \
        for (int i = 0; i < n; i++) {                                                       \
            double result;                                                                  \
            int ok;                                                                         \
            BRAINSIM_POW_LANE(x[i], y, result, ok);                                         \
            out[i] = result;                                                                \
            good[i] = (unsigned char)ok;                                                    \
        }

    #define BRAINSIM_POW_ARGS const double* __restrict x, double y, int n,                 \
        double* __restrict out, unsigned char* __restrict good

    #if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
    __attribute__((target("avx512f,avx512dq,avx512vl,avx512bw")))
    static void brainsim_pow_core_avx512(BRAINSIM_POW_ARGS) { BRAINSIM_POW_BATCH_BODY }
    __attribute__((target("avx2")))
    static void brainsim_pow_core_avx2(BRAINSIM_POW_ARGS) { BRAINSIM_POW_BATCH_BODY }
    #endif
    static void brainsim_pow_core_base(BRAINSIM_POW_ARGS) { BRAINSIM_POW_BATCH_BODY }

    typedef void (*brainsim_pow_core_fn)(BRAINSIM_POW_ARGS);

    static brainsim_pow_core_fn brainsim_pick_pow_core(int level) {
    #if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
        __builtin_cpu_init();
        if (level >= 2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq")
                && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw"))
            return brainsim_pow_core_avx512;
        if (level >= 1 && __builtin_cpu_supports("avx2"))
            return brainsim_pow_core_avx2;
    #endif
        return brainsim_pow_core_base;
    }

    /* out[i] = x[i] ** y; good is caller scratch of n bytes. */
    static void brainsim_pow_batch(brainsim_pow_core_fn core, const double* x, double y,
                                   int n, double* out, unsigned char* good) {
        if (y == 1.0) {             /* exact, as libm: the additive rule mu = 1 */
            memcpy(out, x, (size_t)n * sizeof(double));
            return;
        }
        core(x, y, n, out, good);
        for (int i = 0; i < n; i++)
            if (!good[i]) out[i] = pow(x[i], y);
    }
    """
    ctypedef void (*brainsim_pow_core_fn)(const double* x, double y, int n, double* out,
                                          unsigned char* good) noexcept nogil
    brainsim_pow_core_fn brainsim_pick_pow_core(int level) noexcept nogil
    void brainsim_pow_batch(brainsim_pow_core_fn core, const double* x, double y, int n,
                            double* out, unsigned char* good) noexcept nogil
