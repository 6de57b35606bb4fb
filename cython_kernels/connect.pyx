# cython: language_level=3
"""Incoming synapses of this rank's targets, in two passes (count, then fill a CSR).

Every synapse is a pure function of (seed, projection index, target gid, k), k being the
synapse's position among the target's synapses of this projection, so that any rank with
any set of targets generates the same synapses (DESIGN.md §2.2-2.3):

- source: stream SOURCE, counter (c0=k, c1, c2=target gid); c1 = 0 for draws with
  replacement (multapses allowed), c1 = 1 for Floyd's draws without replacement;
- pairwise_bernoulli: stream BERNOULLI, (c0=d, c1=0, c2=target gid), d = the d-th
  geometric skip over the source range (k counts the synapses made);
- weight: stream WEIGHT, (c0=k, c1=redraw attempt, c2=target gid);
- delay:  stream DELAY,  (c0=k, c1=redraw attempt, c2=target gid),
  delay_steps = floor(delay_ms * (1 / dt) + 0.5), NEST's Time::delay_ms_to_steps
  (ld_round(ms * STEPS_PER_MS)); e.g. 0.15 ms at dt = 0.1 ms -> 2 steps, where
  floor(0.15 / 0.1 + 0.5) would give 1. It must lie in [1, 65535].

With autapses forbidden and the target inside the source range, sources are drawn from
the source_size - 1 others ("skip over self"), so the target is never picked.
"""
import math

import numpy as np

from libc.math cimport floor, log, log1p
from libc.stdint cimport int64_t, uint16_t, uint32_t, uint64_t
from libc.string cimport memset

from cython_kernels.rng cimport (
    SOURCE, WEIGHT, DELAY, BERNOULLI, RNG_OK, stream_draw, word_a, uniform01,
    uniform_index, draw_distribution, _copy_params,
)

_EMPTY_I64 = np.zeros(0, dtype=np.int64)
_EMPTY_I64_W = np.zeros(0, dtype=np.int64)
_EMPTY_U32 = np.zeros(0, dtype=np.uint32)
_EMPTY_F64 = np.zeros(0, dtype=np.float64)
_EMPTY_U16 = np.zeros(0, dtype=np.uint16)

RULE_NAMES = {0: "fixed count per target (fixed_indegree / fixed_total_number)",
              1: "pairwise_bernoulli", 2: "one_to_one", 3: "all_to_all"}


cdef inline void _emit(SynapseSink* sink, int64_t source_gid, uint32_t target_local,
                       uint32_t target_gid, uint32_t k) noexcept nogil:
    """Count (mode 0) or store (mode 1) synapse k of a target."""
    cdef double weight, delay_ms, steps_d
    cdef int64_t pos, steps
    if source_gid < 0 or source_gid >= sink.n_rows:
        sink.error = ERR_ROW_RANGE
        sink.error_gid = target_gid
        sink.error_value = <double>source_gid
        return
    if sink.mode == 0:
        sink.source_counts[source_gid] += 1
        sink.num_synapses += 1
        return
    if draw_distribution(sink.seed, WEIGHT, sink.projection, target_gid, k, sink.weight_code,
                         sink.weight_params, &weight) != RNG_OK:
        sink.error = ERR_WEIGHT_REDRAW
        sink.error_gid = target_gid
        return
    if draw_distribution(sink.seed, DELAY, sink.projection, target_gid, k, sink.delay_code,
                         sink.delay_params, &delay_ms) != RNG_OK:
        sink.error = ERR_DELAY_REDRAW
        sink.error_gid = target_gid
        return
    steps_d = floor(delay_ms * sink.steps_per_ms + 0.5)
    if not (steps_d >= 1.0 and steps_d <= 65535.0):
        sink.error = ERR_DELAY_RANGE
        sink.error_gid = target_gid
        sink.error_value = delay_ms
        return
    steps = <int64_t>steps_d
    pos = sink.fill_ptr[source_gid]
    if pos < 0 or pos >= sink.out_len:
        sink.error = ERR_FILL_OVERFLOW
        sink.error_gid = target_gid
        sink.error_value = <double>pos
        return
    sink.out_target[pos] = target_local
    sink.out_weight[pos] = weight
    sink.out_delay[pos] = <uint16_t>steps
    sink.fill_ptr[source_gid] = pos + 1
    if sink.num_synapses == 0 or steps < sink.min_delay_steps:
        sink.min_delay_steps = steps
    if sink.num_synapses == 0 or steps > sink.max_delay_steps:
        sink.max_delay_steps = steps
    sink.num_synapses += 1


cdef void _connect_core(SynapseSink* sink,            # IN/OUT
                        int rule, int64_t source_offset, int64_t source_size,
                        int64_t target_offset,         # rule 2 only
                        const int64_t[:] target_gids,  # IN
                        const uint32_t[:] target_local,  # IN
                        const int64_t[:] counts,       # IN rule 0
                        double probability, bint allow_autapses, bint allow_multapses,
                        uint64_t* bitmap,              # scratch, source_size bits, all zero
                        int64_t* chosen) noexcept nogil:  # scratch, max(counts) entries
    cdef Py_ssize_t t
    cdef int64_t gid, self_idx, n_avail, m, j, r, pos, skip_limit
    cdef uint32_t tl, k, d
    cdef double log_q, u, skip_d
    for t in range(target_gids.shape[0]):
        gid = target_gids[t]
        tl = target_local[t]
        self_idx = -1
        if not allow_autapses and source_offset <= gid < source_offset + source_size:
            self_idx = gid - source_offset
        n_avail = source_size - (self_idx >= 0)

        if rule == RULE_COUNT_PER_TARGET:
            m = counts[t]
            if m < 0:
                sink.error = ERR_NEGATIVE_COUNT
                sink.error_gid = gid
                sink.error_value = <double>m
                return
            if m == 0:
                continue
            if n_avail <= 0 or (not allow_multapses and m > n_avail):
                sink.error = ERR_TOO_FEW_SOURCES
                sink.error_gid = gid
                sink.error_value = <double>m
                return
            if allow_multapses:
                for k in range(<uint32_t>m):
                    r = <int64_t>uniform_index(
                        word_a(stream_draw(sink.seed, SOURCE, sink.projection, <uint32_t>gid, k, 0)),
                        <uint64_t>n_avail)
                    if self_idx >= 0 and r >= self_idx:
                        r += 1
                    _emit(sink, source_offset + r, tl, <uint32_t>gid, k)
                    if sink.error:
                        return
            else:
                # Floyd's algorithm: a uniform m-subset of [0, n_avail), k-th insertion = synapse k
                for j in range(n_avail - m, n_avail):
                    k = <uint32_t>(j - (n_avail - m))
                    r = <int64_t>uniform_index(
                        word_a(stream_draw(sink.seed, SOURCE, sink.projection, <uint32_t>gid, k, 1)),
                        <uint64_t>(j + 1))
                    if bitmap[r >> 6] & (<uint64_t>1 << (r & 63)):
                        r = j
                    bitmap[r >> 6] |= (<uint64_t>1 << (r & 63))
                    chosen[k] = r
                    if self_idx >= 0 and r >= self_idx:
                        r += 1
                    _emit(sink, source_offset + r, tl, <uint32_t>gid, k)
                    if sink.error:
                        return
                for j in range(m):
                    bitmap[chosen[j] >> 6] = 0

        elif rule == RULE_PAIRWISE_BERNOULLI:
            if probability <= 0.0 or n_avail <= 0:
                continue
            k = 0
            if probability >= 1.0:
                for r in range(n_avail):
                    _emit(sink, source_offset + r + (self_idx >= 0 and r >= self_idx),
                          tl, <uint32_t>gid, k)
                    if sink.error:
                        return
                    k += 1
                continue
            log_q = log1p(-probability)
            pos = 0
            d = 0
            while True:
                # failures before the next success: floor(ln(U) / ln(1 - p)), U in (0, 1]
                u = 1.0 - uniform01(sink.seed, BERNOULLI, sink.projection, <uint32_t>gid, d, 0)
                d += 1
                skip_d = floor(log(u) / log_q)
                if skip_d >= <double>(n_avail - pos):
                    break
                pos += <int64_t>skip_d
                _emit(sink, source_offset + pos + (self_idx >= 0 and pos >= self_idx),
                      tl, <uint32_t>gid, k)
                if sink.error:
                    return
                k += 1
                pos += 1
                if pos >= n_avail:
                    break

        elif rule == RULE_ONE_TO_ONE:
            r = gid - target_offset
            if r < 0 or r >= source_size:
                sink.error = ERR_ONE_TO_ONE_RANGE
                sink.error_gid = gid
                sink.error_value = <double>r
                return
            if self_idx >= 0 and r == self_idx:
                continue          # autapse forbidden: one_to_one within a population
            _emit(sink, source_offset + r, tl, <uint32_t>gid, 0)
            if sink.error:
                return

        else:  # RULE_ALL_TO_ALL
            k = 0
            for r in range(n_avail):
                _emit(sink, source_offset + r + (self_idx >= 0 and r >= self_idx),
                      tl, <uint32_t>gid, k)
                if sink.error:
                    return
                k += 1


def connect_projection(int mode, int rule, uint64_t seed, int projection_index,
                       int64_t source_offset, int64_t source_size,
                       const int64_t[:] target_gids not None,    # IN local targets, ascending gids
                       const uint32_t[:] target_local not None,  # IN their local indices
                       counts,                            # IN rule 0: int64 sources per target
                       double probability,                # IN rule 1
                       bint allow_autapses, bint allow_multapses,
                       int weight_code, weight_params, int delay_code, delay_params,
                       double dt,                         # IN ms
                       source_counts,                     # IN/OUT mode 0: int64 by source gid
                       fill_ptr,                          # IN/OUT mode 1: int64 by source gid
                       out_target,                        # OUT mode 1: uint32 target local index
                       out_weight,                        # OUT mode 1: float64 weight (pA or mV)
                       out_delay,                         # OUT mode 1: uint16 delay (steps)
                       target_offset=None):               # IN rule 2: first gid of target population
    """Count (mode 0) or fill (mode 1) the incoming synapses of ``target_gids``.

    Mode 0 adds 1 to ``source_counts[source gid]`` per synapse; mode 1 writes synapse
    (target local index, weight, delay steps) at ``fill_ptr[source gid]`` and advances it
    (CSR rows keyed by source gid). Both modes draw identical sources. Weights and delays
    (ms, converted with ``dt`` ms) are drawn only in mode 1. ``weight_params`` and
    ``delay_params`` are (a, b, min, max) for distribution codes 0 constant, 1 normal,
    2 uniform, 3 lognormal (see rng.pxd).

    Returns (num_synapses, min_delay_steps, max_delay_steps); the delay extremes are over
    the synapses made in mode 1 and are (0, 0) in mode 0 or when no synapse was made.
    Arrays a mode does not use (counts for rules 1-3, source_counts in mode 1, fill_ptr and
    out_* in mode 0) may be empty or None.
    """
    cdef const int64_t[:] counts_v = _EMPTY_I64 if counts is None else counts
    cdef int64_t[::1] source_counts_v = _EMPTY_I64_W if source_counts is None or mode == 1 else source_counts
    cdef int64_t[::1] fill_ptr_v = _EMPTY_I64_W if fill_ptr is None or mode == 0 else fill_ptr
    cdef uint32_t[::1] out_target_v = _EMPTY_U32 if out_target is None or mode == 0 else out_target
    cdef double[::1] out_weight_v = _EMPTY_F64 if out_weight is None or mode == 0 else out_weight
    cdef uint16_t[::1] out_delay_v = _EMPTY_U16 if out_delay is None or mode == 0 else out_delay
    if mode not in (0, 1):
        raise ValueError(f"mode must be 0 (count) or 1 (fill), got {mode}")
    if rule not in RULE_NAMES:
        raise ValueError(f"connection rule must be one of {RULE_NAMES}, got {rule}")
    if not 0 <= projection_index < (1 << 24):
        raise ValueError(f"projection index must be in [0, 2**24), got {projection_index}")
    if source_offset < 0 or source_size < 0:
        raise ValueError(f"source gid range must be non-negative, got offset {source_offset}, "
                         f"size {source_size}")
    cdef Py_ssize_t n_targets = target_gids.shape[0]
    if target_local.shape[0] != n_targets:
        raise ValueError(f"target_local has {target_local.shape[0]} entries, target_gids "
                         f"{n_targets}")
    if n_targets and (target_gids[0] < 0 or target_gids[n_targets - 1] >= (1 << 32)):
        raise ValueError("target gids must be in [0, 2**32)")
    if rule == RULE_COUNT_PER_TARGET and counts_v.shape[0] != n_targets:
        raise ValueError(f"rule 0 needs one count per target: counts has {counts_v.shape[0]} "
                         f"entries, target_gids {n_targets}")
    if rule == RULE_PAIRWISE_BERNOULLI and not 0.0 <= probability <= 1.0:
        raise ValueError(f"pairwise_bernoulli probability must be in [0, 1], got {probability}")
    if rule == RULE_ONE_TO_ONE and target_offset is None:
        raise ValueError("one_to_one needs target_offset (gid of the target population's "
                         "first neuron) to pair target i with source i")
    if not 0 <= weight_code <= 3 or not 0 <= delay_code <= 3:
        raise ValueError(f"weight / delay distribution codes must be 0 constant, 1 normal, "
                         f"2 uniform or 3 lognormal, got {weight_code} / {delay_code}")
    if not dt > 0.0:
        raise ValueError(f"dt must be finite and positive [ms], got {dt}")

    cdef SynapseSink sink
    memset(&sink, 0, sizeof(SynapseSink))
    sink.mode = mode
    sink.seed = seed
    sink.projection = <uint32_t>projection_index
    sink.weight_code = weight_code
    sink.delay_code = delay_code
    _copy_params(weight_params, sink.weight_params, "weight_params")
    _copy_params(delay_params, sink.delay_params, "delay_params")
    sink.dt = dt
    sink.steps_per_ms = 1.0 / dt
    if mode == 0:
        sink.n_rows = source_counts_v.shape[0]
        sink.source_counts = &source_counts_v[0] if source_counts_v.shape[0] else NULL
    else:
        sink.n_rows = fill_ptr_v.shape[0]
        sink.fill_ptr = &fill_ptr_v[0] if fill_ptr_v.shape[0] else NULL
        sink.out_len = out_target_v.shape[0]
        if out_weight_v.shape[0] != sink.out_len or out_delay_v.shape[0] != sink.out_len:
            raise ValueError(f"out_target, out_weight, out_delay must have one length, got "
                             f"{out_target_v.shape[0]}, {out_weight_v.shape[0]}, "
                             f"{out_delay_v.shape[0]}")
        if sink.out_len:
            sink.out_target = &out_target_v[0]
            sink.out_weight = &out_weight_v[0]
            sink.out_delay = &out_delay_v[0]

    # scratch for draws without replacement (allocated once per call)
    cdef uint64_t[::1] bitmap = np.zeros(1, dtype=np.uint64)
    cdef int64_t[::1] chosen = np.zeros(1, dtype=np.int64)
    if rule == RULE_COUNT_PER_TARGET and not allow_multapses and n_targets:
        bitmap = np.zeros((source_size + 63) // 64 + 1, dtype=np.uint64)
        chosen = np.zeros(max(1, int(np.max(np.asarray(counts_v)))), dtype=np.int64)
    cdef int64_t t_offset = 0 if target_offset is None else target_offset

    with nogil:
        _connect_core(&sink, rule, source_offset, source_size, t_offset, target_gids,
                      target_local, counts_v, probability, allow_autapses, allow_multapses,
                      &bitmap[0], &chosen[0])

    if sink.error:
        _raise_connect_error(sink, rule, projection_index, source_offset, source_size,
                             weight_code, weight_params, delay_code, delay_params, dt)
    if mode == 0 or sink.num_synapses == 0:
        return (sink.num_synapses, 0, 0)
    return (sink.num_synapses, sink.min_delay_steps, sink.max_delay_steps)


cdef _raise_connect_error(SynapseSink sink, int rule, int projection, int64_t source_offset,
                          int64_t source_size, int weight_code, weight_params, int delay_code,
                          delay_params, double dt):
    where = (f"projection {projection} ({RULE_NAMES[rule]}), target gid {sink.error_gid}, "
             f"sources gids [{source_offset}, {source_offset + source_size})")
    e = sink.error
    if e == ERR_NEGATIVE_COUNT:
        msg = f"number of sources to draw must be >= 0, got {int(sink.error_value)}"
    elif e == ERR_TOO_FEW_SOURCES:
        msg = (f"cannot draw {int(sink.error_value)} sources: too few sources available "
               f"(without multapses the count may not exceed the population size, minus the "
               f"target itself when autapses are forbidden)")
    elif e == ERR_WEIGHT_REDRAW:
        msg = (f"weight distribution code {weight_code} with params {tuple(weight_params)} "
               f"drew no value inside [min, max] in 10000 attempts")
    elif e == ERR_DELAY_REDRAW:
        msg = (f"delay distribution code {delay_code} with params {tuple(delay_params)} "
               f"drew no value inside [min, max] in 10000 attempts")
    elif e == ERR_DELAY_RANGE:
        steps = math.floor(sink.error_value * (1.0 / dt) + 0.5)
        msg = (f"delay {sink.error_value} ms rounds to {steps} steps of dt = {dt} ms; "
               f"delays must be in [1, 65535] steps (at least dt)")
    elif e == ERR_ROW_RANGE:
        msg = (f"source gid {int(sink.error_value)} is beyond source_counts / fill_ptr "
               f"(length {sink.n_rows})")
    elif e == ERR_FILL_OVERFLOW:
        msg = (f"fill_ptr position {int(sink.error_value)} is outside the output arrays "
               f"(length {sink.out_len}); count and fill passes disagree")
    elif e == ERR_ONE_TO_ONE_RANGE:
        msg = (f"one_to_one: target position {int(sink.error_value)} has no source "
               f"(source population size {source_size}); populations must have equal sizes")
    else:
        msg = f"unknown error code {e}"
    raise ValueError(f"{where}: {msg}")
