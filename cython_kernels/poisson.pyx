# cython: language_level=3
"""Poisson CDF tables (see poisson.pxd for the inversion and its exactness)."""
import numpy as np

from libc.math cimport exp, isfinite


def cdf_table(double lam):
    """Cumulative P(N <= k), k = 0 .. K-1, for a Poisson mean ``lam`` (spikes per step).

    Built with the same operations as the sequential inversion (p_0 = exp(-lam),
    p_k = p_{k-1} * (lam / k), cdf_k = cdf_{k-1} + p_k). Stops after the first entry with
    1 - cdf < 1e-17 (the sum rounds to 1.0), or when past the mode (k > lam) the next term
    no longer changes the sum (so every later entry would repeat the last one: the sum can
    stall just below 1.0), or at K = 64 entries. Uniforms at or above the last entry (the
    tail beyond the table: probability ~1e-16, or P(N >= 64) for large lam) are handled by
    ``poisson_from_uniform``'s exact sequential continuation, so where the table is cut
    changes speed, never results.
    lam must be finite, >= 0 and <= 700 (exp(-lam) must not underflow).
    """
    if not (isfinite(lam) and 0.0 <= lam <= 700.0):
        raise ValueError(f"Poisson mean per step must be finite and in [0, 700], got {lam}")
    cdef double table[POISSON_MAX_TABLE]
    cdef double p = exp(-lam)
    cdef double c = p
    cdef int k = 0
    table[0] = c
    cdef double p_next
    while 1.0 - c >= 1e-17 and k + 1 < POISSON_MAX_TABLE:
        p_next = p * (lam / (k + 1))
        if k + 1 > lam and c + p_next == c:
            break           # past the mode the terms only shrink: all later entries equal c
        k += 1
        p = p_next
        c = c + p
        table[k] = c
    return np.array(<double[:k + 1]> table, dtype=np.float64)


def count_from_uniform(const double[:] u, const double[::1] cdf, double lam):
    """Vectorised ``poisson_from_uniform`` (for tests): one count per uniform u in [0, 1)."""
    if cdf.shape[0] < 1 or cdf.shape[0] > POISSON_MAX_TABLE:
        raise ValueError(f"CDF table must have 1..{POISSON_MAX_TABLE} entries, got {cdf.shape[0]}")
    out = np.empty(u.shape[0], dtype=np.int64)
    cdef long long[::1] out_view = out
    cdef Py_ssize_t i
    cdef int n = <int>cdf.shape[0]
    with nogil:
        for i in range(u.shape[0]):
            out_view[i] = poisson_from_uniform(u[i], &cdf[0], n, lam)
    return out
