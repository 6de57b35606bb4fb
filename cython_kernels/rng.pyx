# cython: language_level=3
"""Counter-based randomness (Philox4x32-10): Python-side wrappers.

The nogil helpers (``stream_draw``, ``uniform01``, ``normal``, ``uniform_index``,
``draw_distribution``) live in rng.pxd so that other kernels inline them; this module
adds the ``def`` wrappers used by tests and by vectorised Python code (initial states).
See rng.pxd for the counter layout.
"""
import numpy as np

from libc.stdint cimport uint32_t, uint64_t, int64_t

# Stream kinds as plain Python ints at module level (SOURCE=1 ... BERNOULLI=6).
globals().update({member.name: int(member) for member in StreamKind})

DISTRIBUTION_CODES = {"constant": 0, "normal": 1, "uniform": 2, "lognormal": 3}

_MAX_ITEM = 1 << 24


def _check_stream(kind, item):
    if not 1 <= kind <= 255:
        raise ValueError(f"stream kind must be in [1, 255], got {kind}")
    if not 0 <= item < _MAX_ITEM:
        raise ValueError(f"stream item (projection / input / variable index) must be in "
                         f"[0, 2**24), got {item}")


def philox4x32(counter, key):
    """Philox4x32-10 of ``counter`` (4 uint32) under ``key`` (2 uint32) -> tuple of 4 ints."""
    if len(counter) != 4 or len(key) != 2:
        raise ValueError(f"philox4x32 needs 4 counter words and 2 key words, got "
                         f"{len(counter)} and {len(key)}")
    cdef uint32_t c[4]
    cdef uint32_t k[2]
    for j in range(4):
        if not 0 <= counter[j] <= 0xffffffff:
            raise ValueError(f"counter word {j} must be a uint32, got {counter[j]}")
        c[j] = counter[j]
    for j in range(2):
        if not 0 <= key[j] <= 0xffffffff:
            raise ValueError(f"key word {j} must be a uint32, got {key[j]}")
        k[j] = key[j]
    cdef philox4 w = philox4x32_10(c[0], c[1], c[2], c[3], k[0], k[1])
    return (w.w0, w.w1, w.w2, w.w3)


cdef void _uniform_core(uint64_t seed, uint32_t kind, uint32_t item,
                        const int64_t[:] gids,        # IN  c2 per draw
                        uint32_t c0,
                        double[::1] out) noexcept nogil:  # OUT one uniform per gid
    cdef Py_ssize_t i
    for i in range(gids.shape[0]):
        out[i] = uniform01(seed, kind, item, <uint32_t>gids[i], c0, 0)


def uniform_array(uint64_t seed, int kind, int item, const int64_t[:] gids, uint64_t c0):
    """Uniforms in [0, 1), one per gid: counter (c0, 0, gid, (kind << 24) | item).

    seed: uint64 master seed; c0 must fit in 32 bits. Returns a float64 array.
    """
    _check_stream(kind, item)
    if c0 > 0xffffffff:
        raise ValueError(f"c0 must fit in 32 bits, got {c0}")
    out = np.empty(gids.shape[0], dtype=np.float64)
    cdef double[::1] out_view = out
    with nogil:
        _uniform_core(seed, kind, item, gids, <uint32_t>c0, out_view)
    return out


cdef Py_ssize_t _distribution_core(uint64_t seed, uint32_t kind, uint32_t item,
                                   const int64_t[:] gids,   # IN  c2 per draw
                                   int code, const double* params,
                                   double[::1] out) noexcept nogil:  # OUT one value per gid
    """Returns -1 on success, else the position of the first failing gid."""
    cdef Py_ssize_t i
    for i in range(gids.shape[0]):
        if draw_distribution(seed, kind, item, <uint32_t>gids[i], 0, code, params,
                             &out[i]) != RNG_OK:
            return i
    return -1


cdef int _copy_params(params, double* p, str what) except -1:
    """Copy a length-4 sequence (a, b, min, max) into p."""
    if len(params) != 4:
        raise ValueError(f"{what} must be 4 numbers (a, b, min, max), got {len(params)}")
    for j in range(4):
        p[j] = params[j]
    return 0


def draw_distribution_array(uint64_t seed, int kind, int item, const int64_t[:] gids,
                            int code, params):
    """One draw of distribution ``code`` per gid (e.g. the initial V_m in mV).

    Counter per gid: (0, attempt, gid, (kind << 24) | item). ``code``: 0 constant
    (a=value), 1 normal (a=mean, b=std), 2 uniform (a=low, b=high), 3 lognormal
    (a=mu, b=sigma); params = (a, b, min, max), values outside [min, max] are redrawn
    up to 10000 times. Returns a float64 array in the units of the parameters.
    """
    _check_stream(kind, item)
    cdef double p[4]
    _copy_params(params, p, "params")
    if not 0 <= code <= 3:
        raise ValueError(f"distribution code must be one of {DISTRIBUTION_CODES}, got {code}")
    out = np.empty(gids.shape[0], dtype=np.float64)
    cdef double[::1] out_view = out
    cdef Py_ssize_t failed
    with nogil:
        failed = _distribution_core(seed, kind, item, gids, code, p, out_view)
    if failed >= 0:
        raise ValueError(
            f"distribution code {code} with params (a={params[0]}, b={params[1]}) drew no "
            f"value inside [min={params[2]}, max={params[3]}] in {MAX_REDRAW_ATTEMPTS} "
            f"attempts (gid {gids[failed]}, stream kind {kind}, item {item}); "
            f"widen the bounds")
    return out
