# cython: language_level=3
"""Poisson counts from one uniform by inversion against a per-population CDF table.

Reference algorithm ("sequential inversion", which the table reproduces exactly):
    k = 0; p = exp(-lam); c = p
    while u >= c and p > 0:  k += 1; p = p * (lam / k); c = c + p
    return k
The table holds the successive values of c (cdf[k] = P(N <= k) as computed above), so the
smallest k with u < cdf[k] is found by counting the entries <= u (branch-free). Only when
u >= cdf[table_len - 1] (the far tail, probability < 1e-16 unless the table was cut at 64
entries) does the sequential loop continue from there. The ``p > 0`` guard ends the loop
once the terms underflow, so a cdf that rounds to just below 1 cannot loop forever.
"""
from libc.math cimport exp


cdef enum:
    POISSON_MAX_TABLE = 64     # entries per CDF table at most


cdef inline int poisson_from_uniform(double u, const double* cdf, int table_len,
                                     double lam) noexcept nogil:
    """Poisson(lam) count for a uniform u in [0, 1): smallest k with u < cdf[k].

    cdf: table from ``cdf_table(lam)`` with ``table_len`` entries (IN).
    """
    cdef int k = 0
    cdef int j
    for j in range(table_len):
        k += (u >= cdf[j])
    if k < table_len:
        return k
    # far tail: rebuild the last term exactly as the table did, then continue sequentially
    cdef double p = exp(-lam)
    cdef double c = cdf[table_len - 1]
    k = table_len - 1
    for j in range(1, table_len):
        p = p * (lam / j)
    while u >= c and p > 0.0:
        k += 1
        p = p * (lam / k)
        c = c + p
    return k
