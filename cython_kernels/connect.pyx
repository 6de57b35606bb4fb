# cython: language_level=3
"""Incoming synapses of this rank's targets, in two passes (count, then fill a CSR).

Every synapse is a pure function of (seed, projection index, target gid, k), k being the
synapse's position among the target's synapses of this projection, so that any rank with
any set of targets generates the same synapses (docs/architecture.md §2.2-2.3):

- source: stream SOURCE, counter (c0=k, c1, c2=target gid); c1 = 0 for draws with
  replacement (multapses allowed), c1 = 1 for Floyd's draws without replacement;
- pairwise_bernoulli: stream BERNOULLI, (c0=d, c1=0, c2=target gid), d = the d-th
  geometric skip over the source range (k counts the synapses made);
- weight: stream WEIGHT, (c0=k, c1=redraw attempt, c2=target gid);
- delay:  stream DELAY,  (c0=k, c1=redraw attempt, c2=target gid),
  delay_steps = floor(delay_ms * steps_per_ms + 0.5), NEST's Time::delay_ms_to_steps
  (ld_round(ms * STEPS_PER_MS)); e.g. 0.15 ms at dt = 0.1 ms -> 2 steps, where
  floor(0.15 / 0.1 + 0.5) would give 1. It must lie in [1, 65535].

With autapses forbidden and the target inside the source range, sources are drawn from
the source_size - 1 others ("skip over self"), so the target is never picked.
"""
import math

import numpy as np

from libc.math cimport exp, fabs, floor, log, log1p, sqrt
from libc.stdint cimport int64_t, uint16_t, uint32_t, uint64_t
from libc.string cimport memset

from cython_kernels.rng cimport (
    SOURCE, WEIGHT, DELAY, BERNOULLI, MULTINOMIAL, RNG_OK, philox4, stream_draw, word_a, uniform01,
    uniform_index, draw_distribution, draw_normal_pair, _copy_params, DIST_NORMAL,
)

cdef inline double nest_steps_per_ms(double dt) noexcept nogil:
    """NEST's Range::STEPS_PER_MS (brainsim.timesteps.steps_per_ms): 1 / (tics per step /
    1000 tics per ms); equal to 1 / dt for every dt that is a whole number of tics."""
    return 1.0 / (floor(1000.0 * dt + 0.5) / 1000.0)


_EMPTY_I64 = np.zeros(0, dtype=np.int64)
_EMPTY_I64_W = np.zeros(0, dtype=np.int64)
_EMPTY_U32 = np.zeros(0, dtype=np.uint32)
_EMPTY_F64 = np.zeros(0, dtype=np.float64)
_EMPTY_U16 = np.zeros(0, dtype=np.uint16)

RULE_NAMES = {0: "fixed count per target (fixed_indegree / fixed_total_number)",
              1: "pairwise_bernoulli", 2: "one_to_one", 3: "all_to_all",
              4: "fixed_outdegree", 5: "spatial pairwise_bernoulli", 6: "explicit edges"}
KERNEL_CODES = {"constant": 0, "gaussian": 1, "exponential": 2}
MASK_CODES = {"none": 0, "circular": 1, "rectangular": 2}


cdef inline void _emit(SynapseSink* sink, int64_t source_gid, uint32_t target_local,
                       uint32_t target_gid, uint32_t k) noexcept nogil:
    """Count (mode 0) or store (mode 1) synapse k; its weight and delay are keyed by
    (target_gid, k) — for fixed_outdegree `target_gid` is the source gid (the key gid)."""
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
    if (sink.weight_code == DIST_NORMAL and sink.delay_code == DIST_NORMAL
            and not sink.delay_linear):
        # Both normal (PD14): one Box-Muller pair, keyed on the WEIGHT stream.
        if draw_normal_pair(sink.seed, WEIGHT, sink.projection, target_gid, k,
                            sink.weight_params, sink.delay_params, &weight,
                            &delay_ms) != RNG_OK:
            sink.error = ERR_WEIGHT_REDRAW
            sink.error_gid = target_gid
            return
    elif draw_distribution(sink.seed, WEIGHT, sink.projection, target_gid, k,
                           sink.weight_code, sink.weight_params, &weight) != RNG_OK:
        sink.error = ERR_WEIGHT_REDRAW
        sink.error_gid = target_gid
        return
    elif sink.delay_linear:
        delay_ms = sink.delay_offset + sink.delay_slope * sink.distance
    elif draw_distribution(sink.seed, DELAY, sink.projection, target_gid, k, sink.delay_code,
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
    sink.steps_per_ms = nest_steps_per_ms(dt)
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
    elif e == ERR_TOO_FEW_TARGETS:
        msg = (f"cannot draw {int(sink.error_value)} targets for source gid {sink.error_gid}: "
               f"too few targets available (without multapses the out-degree may not exceed "
               f"the target population size, minus the source itself without autapses)")
    elif e == ERR_ONE_TO_ONE_RANGE:
        msg = (f"one_to_one: target position {int(sink.error_value)} has no source "
               f"(source population size {source_size}); populations must have equal sizes")
    else:
        msg = f"unknown error code {e}"
    raise ValueError(f"{where}: {msg}")



# ---------------------------------------------------------------------------------------
# fixed_outdegree: per source, `outdegree` targets drawn from the target population.
#
# Draw k of source gid s (k = 0 .. outdegree-1) is a pure function of
# (seed, SOURCE, projection, c2 = s, c0 = k, c1 = 2) with multapses, or Floyd's insertion k
# with c1 = 3 without; its weight and delay are keyed (WEIGHT / DELAY, c2 = s, c0 = k).
# Every rank regenerates the draws of every source (O(N_src x outdegree) Philox calls)
# and keeps the synapses onto its own targets, in (source, k) order: each CSR row holds a
# source's local synapses in k order on any number of ranks.

cdef void _outdegree_core(SynapseSink* sink,                 # IN/OUT
                          int64_t source_offset, int64_t source_size,
                          int64_t target_offset, int64_t target_size, int64_t m,
                          bint allow_autapses, bint allow_multapses,
                          const int64_t[:] local_of,         # IN per target: local index or -1
                          uint64_t* bitmap,                  # scratch, target_size bits, zero
                          int64_t* chosen) noexcept nogil:   # scratch, m entries
    cdef int64_t s, sgid, self_idx, n_avail, r, j, lidx
    cdef uint32_t k
    if m <= 0:
        return
    for s in range(source_size):
        sgid = source_offset + s
        self_idx = -1
        if not allow_autapses and target_offset <= sgid < target_offset + target_size:
            self_idx = sgid - target_offset
        n_avail = target_size - (self_idx >= 0)
        if n_avail <= 0 or (not allow_multapses and m > n_avail):
            sink.error = ERR_TOO_FEW_TARGETS
            sink.error_gid = sgid
            sink.error_value = <double>m
            return
        if allow_multapses:
            for k in range(<uint32_t>m):
                r = <int64_t>uniform_index(
                    word_a(stream_draw(sink.seed, SOURCE, sink.projection, <uint32_t>sgid, k, 2)),
                    <uint64_t>n_avail)
                if self_idx >= 0 and r >= self_idx:
                    r += 1
                lidx = local_of[r]
                if lidx >= 0:
                    _emit(sink, sgid, <uint32_t>lidx, <uint32_t>sgid, k)
                    if sink.error:
                        return
        else:
            for j in range(n_avail - m, n_avail):
                k = <uint32_t>(j - (n_avail - m))
                r = <int64_t>uniform_index(
                    word_a(stream_draw(sink.seed, SOURCE, sink.projection, <uint32_t>sgid, k, 3)),
                    <uint64_t>(j + 1))
                if bitmap[r >> 6] & (<uint64_t>1 << (r & 63)):
                    r = j
                bitmap[r >> 6] |= (<uint64_t>1 << (r & 63))
                chosen[k] = r
                if self_idx >= 0 and r >= self_idx:
                    r += 1
                lidx = local_of[r]
                if lidx >= 0:
                    _emit(sink, sgid, <uint32_t>lidx, <uint32_t>sgid, k)
                    if sink.error:
                        return
            for j in range(m):
                bitmap[chosen[j] >> 6] = 0


cdef _make_sink(SynapseSink* sink, int mode, uint64_t seed, int projection_index,
                int weight_code, weight_params, int delay_code, delay_params, double dt,
                source_counts, fill_ptr, out_target, out_weight, out_delay, keep):
    """Fill a sink from the Python arguments; `keep` holds the memoryviews alive."""
    if mode not in (0, 1):
        raise ValueError(f"mode must be 0 (count) or 1 (fill), got {mode}")
    if not 0 <= projection_index < (1 << 24):
        raise ValueError(f"projection index must be in [0, 2**24), got {projection_index}")
    if not 0 <= weight_code <= 3 or not 0 <= delay_code <= 3:
        raise ValueError(f"weight / delay distribution codes must be in 0..3, got "
                         f"{weight_code} / {delay_code}")
    if not dt > 0.0:
        raise ValueError(f"dt must be finite and positive [ms], got {dt}")
    cdef int64_t[::1] counts_v, ptr_v
    cdef uint32_t[::1] tv
    cdef double[::1] wv
    cdef uint16_t[::1] dv
    memset(sink, 0, sizeof(SynapseSink))
    sink.mode = mode
    sink.seed = seed
    sink.projection = <uint32_t>projection_index
    sink.weight_code = weight_code
    sink.delay_code = delay_code
    _copy_params(weight_params, sink.weight_params, "weight_params")
    _copy_params(delay_params, sink.delay_params, "delay_params")
    sink.dt = dt
    sink.steps_per_ms = nest_steps_per_ms(dt)
    if mode == 0:
        counts_v = source_counts
        keep.append(counts_v)
        sink.n_rows = counts_v.shape[0]
        sink.source_counts = &counts_v[0] if counts_v.shape[0] else NULL
    else:
        ptr_v = fill_ptr
        tv, wv, dv = out_target, out_weight, out_delay
        keep.extend([ptr_v, tv, wv, dv])
        sink.n_rows = ptr_v.shape[0]
        sink.fill_ptr = &ptr_v[0] if ptr_v.shape[0] else NULL
        sink.out_len = tv.shape[0]
        if wv.shape[0] != sink.out_len or dv.shape[0] != sink.out_len:
            raise ValueError("out_target, out_weight, out_delay must have one length")
        if sink.out_len:
            sink.out_target = &tv[0]
            sink.out_weight = &wv[0]
            sink.out_delay = &dv[0]


cdef _finish(SynapseSink sink, int rule, int projection_index, int64_t source_offset,
            int64_t source_size, int weight_code, weight_params, int delay_code, delay_params,
            double dt):
    if sink.error:
        _raise_connect_error(sink, rule, projection_index, source_offset, source_size,
                             weight_code, weight_params, delay_code, delay_params, dt)
    if sink.mode == 0 or sink.num_synapses == 0:
        return (sink.num_synapses, 0, 0)
    return (sink.num_synapses, sink.min_delay_steps, sink.max_delay_steps)


def connect_outdegree(int mode, uint64_t seed, int projection_index,
                      int64_t source_offset, int64_t source_size,
                      int64_t target_offset, int64_t target_size, int64_t outdegree,
                      const int64_t[:] local_of not None,  # IN per target: local index or -1
                      bint allow_autapses, bint allow_multapses,
                      int weight_code, weight_params, int delay_code, delay_params, double dt,
                      source_counts=None,   # IN/OUT mode 0: int64 by source gid
                      fill_ptr=None,        # IN/OUT mode 1: int64 by source gid
                      out_target=None, out_weight=None, out_delay=None):  # OUT mode 1
    """Count (mode 0) or fill (mode 1) this rank's synapses of a fixed_outdegree projection.

    ``local_of[i]`` is the local index of target population member i on this rank, or -1.
    Returns (num_synapses, min_delay_steps, max_delay_steps) as connect_projection.
    """
    if local_of.shape[0] != target_size:
        raise ValueError(f"local_of needs one entry per target ({target_size}), got "
                         f"{local_of.shape[0]}")
    if outdegree < 0 or source_offset < 0 or source_size < 0 or target_size < 0:
        raise ValueError("outdegree and population ranges must be non-negative")
    if source_offset + source_size >= (1 << 32):
        raise ValueError("source gids must be in [0, 2**32)")
    cdef SynapseSink sink
    keep = []
    _make_sink(&sink, mode, seed, projection_index, weight_code, weight_params, delay_code,
               delay_params, dt, source_counts, fill_ptr, out_target, out_weight, out_delay,
               keep)
    cdef uint64_t[::1] bitmap = np.zeros((target_size + 63) // 64 + 1, dtype=np.uint64)
    cdef int64_t[::1] chosen = np.zeros(max(1, outdegree), dtype=np.int64)
    with nogil:
        _outdegree_core(&sink, source_offset, source_size, target_offset, target_size,
                        outdegree, allow_autapses, allow_multapses, local_of, &bitmap[0],
                        &chosen[0])
    return _finish(sink, RULE_FIXED_OUTDEGREE, projection_index, source_offset, source_size,
                   weight_code, weight_params, delay_code, delay_params, dt)


# ---------------------------------------------------------------------------------------
# Spatial pairwise_bernoulli: every (source, local target) pair within the mask connects
# with probability kernel(distance); the draw for source member r of target gid g is
# uniform01(seed, BERNOULLI, projection, c2 = g, c0 = r, c1 = 1). Synapse k of a target
# (k counts its synapses in source order) gets weight keyed (g, k) and, with a
# distance-dependent delay, offset + slope * distance.

cdef inline double _kernel(int kind, double p_center, double width, double d) noexcept nogil:
    if kind == 1:
        return p_center * exp(-d * d / (2.0 * width * width))
    if kind == 2:
        return p_center * exp(-d / width)
    return p_center


cdef void _spatial_core(SynapseSink* sink, int64_t source_offset, int64_t source_size,
                        const int64_t[:] target_gids, const uint32_t[:] target_local,
                        const double[:, ::1] source_pos,   # IN [source_size, dims] mm
                        const double[:, ::1] target_pos,   # IN [n_targets, dims] mm
                        int kernel_kind, double p_center, double width,
                        int mask_kind, const double* mask_params,  # radius | ll[3], ur[3]
                        bint wrap, const double* extent, bint allow_autapses) noexcept nogil:
    cdef Py_ssize_t t
    cdef int64_t gid, r
    cdef int dims = source_pos.shape[1]
    cdef int a
    cdef uint32_t k
    cdef double dvec[3]
    cdef double d2, dist, p, e
    cdef bint inside
    for t in range(target_gids.shape[0]):
        gid = target_gids[t]
        k = 0
        for r in range(source_size):
            if not allow_autapses and source_offset + r == gid:
                continue
            d2 = 0.0
            inside = True
            for a in range(dims):
                dvec[a] = source_pos[r, a] - target_pos[t, a]
                if wrap:
                    e = extent[a]
                    dvec[a] = dvec[a] - e * floor(dvec[a] / e + 0.5)
                d2 += dvec[a] * dvec[a]
                if mask_kind == 2 and (dvec[a] < mask_params[a] or dvec[a] > mask_params[3 + a]):
                    inside = False
            if not inside or (mask_kind == 1 and d2 > mask_params[0] * mask_params[0]):
                continue
            dist = sqrt(d2)
            p = _kernel(kernel_kind, p_center, width, dist)
            if p <= 0.0:
                continue
            if p < 1.0 and uniform01(sink.seed, BERNOULLI, sink.projection, <uint32_t>gid,
                                     <uint32_t>r, 1) >= p:
                continue
            sink.distance = dist
            _emit(sink, source_offset + r, target_local[t], <uint32_t>gid, k)
            if sink.error:
                return
            k += 1


def connect_spatial(int mode, uint64_t seed, int projection_index,
                    int64_t source_offset, int64_t source_size,
                    const int64_t[:] target_gids not None,     # IN local targets, ascending
                    const uint32_t[:] target_local not None,   # IN their local indices
                    const double[:, ::1] source_pos not None,  # IN [source_size, dims] mm
                    const double[:, ::1] target_pos not None,  # IN [n_targets, dims] mm
                    str kernel, double p_center, double width,
                    str mask, mask_params, bint edge_wrap, extent, bint allow_autapses,
                    int weight_code, weight_params, int delay_code, delay_params, double dt,
                    distance_delay=None,  # IN (offset ms, slope ms/mm) or None
                    source_counts=None, fill_ptr=None, out_target=None, out_weight=None,
                    out_delay=None):
    """Count (mode 0) or fill (mode 1) the synapses of a distance-dependent
    pairwise_bernoulli onto ``target_gids``. kernel: 'constant' | 'gaussian' (width = std)
    | 'exponential' (width = beta), p(d) as NEST's spatial_distributions times p_center;
    mask: 'none' | 'circular' (mask_params = [radius]) | 'rectangular' (lower_left then
    upper_right, dims each); distances between positions (mm), periodic over ``extent``
    when edge_wrap."""
    cdef int dims = source_pos.shape[1]
    if not 1 <= dims <= 3 or target_pos.shape[1] != dims:
        raise ValueError(f"positions must have 1 to 3 coordinates, alike for sources and "
                         f"targets, got {dims} and {target_pos.shape[1]}")
    if source_pos.shape[0] != source_size or target_pos.shape[0] != target_gids.shape[0] \
            or target_local.shape[0] != target_gids.shape[0]:
        raise ValueError("one position per source and per target, one local index per target")
    if kernel not in KERNEL_CODES or mask not in MASK_CODES:
        raise ValueError(f"kernel must be one of {list(KERNEL_CODES)} and mask one of "
                         f"{list(MASK_CODES)}, got {kernel!r}, {mask!r}")
    if kernel != "constant" and not width > 0.0:
        raise ValueError(f"kernel width must be > 0 mm, got {width}")
    cdef double mp[6]
    cdef double ext[3]
    cdef int a
    mask_list = [] if mask_params is None else [float(x) for x in mask_params]
    if mask == "circular" and len(mask_list) != 1:
        raise ValueError("a circular mask takes [radius]")
    if mask == "rectangular" and len(mask_list) != 2 * dims:
        raise ValueError(f"a rectangular mask takes lower_left + upper_right ({2 * dims} numbers)")
    for a in range(6):
        mp[a] = 0.0
    if mask == "circular":
        mp[0] = mask_list[0]
    elif mask == "rectangular":
        for a in range(dims):
            mp[a] = mask_list[a]
            mp[3 + a] = mask_list[dims + a]
    for a in range(3):
        ext[a] = float(extent[a]) if edge_wrap and a < dims else 1.0
    cdef SynapseSink sink
    keep = []
    _make_sink(&sink, mode, seed, projection_index, weight_code, weight_params, delay_code,
               delay_params, dt, source_counts, fill_ptr, out_target, out_weight, out_delay,
               keep)
    if distance_delay is not None:
        sink.delay_linear = True
        sink.delay_offset = float(distance_delay[0])
        sink.delay_slope = float(distance_delay[1])
    cdef int kcode = KERNEL_CODES[kernel]
    cdef int mcode = MASK_CODES[mask]
    with nogil:
        _spatial_core(&sink, source_offset, source_size, target_gids, target_local,
                      source_pos, target_pos, kcode, p_center, width, mcode, mp, edge_wrap,
                      ext, allow_autapses)
    return _finish(sink, RULE_SPATIAL_BERNOULLI, projection_index, source_offset, source_size,
                   weight_code, weight_params, delay_code, delay_params, dt)


# ---------------------------------------------------------------------------------------
# Explicit edges (SONATA): synapses given as lists, placed in the order given.

cdef void _place_core(SynapseSink* sink, const int64_t[:] source_gids,
                      const uint32_t[:] target_local, const double[:] weight,
                      const double[:] delay_ms) noexcept nogil:
    cdef Py_ssize_t i
    sink.delay_linear = True
    sink.delay_slope = 1.0
    sink.delay_offset = 0.0
    sink.weight_code = 0
    for i in range(source_gids.shape[0]):
        sink.weight_params[0] = weight[i]
        sink.distance = delay_ms[i]
        _emit(sink, source_gids[i], target_local[i], 0, 0)
        if sink.error:
            sink.error_gid = i
            return


def place_edges(int mode, const int64_t[:] source_gids not None,   # IN per edge
                const uint32_t[:] target_local not None,           # IN per edge
                const double[:] weight not None,                   # IN native unit
                const double[:] delay_ms not None,                 # IN ms
                double dt, source_counts=None, fill_ptr=None, out_target=None,
                out_weight=None, out_delay=None):
    """Count (mode 0) or fill (mode 1) explicit synapses in the order given (a chunk of a
    SONATA edges file). Returns (num_synapses, min_delay_steps, max_delay_steps)."""
    cdef Py_ssize_t n = source_gids.shape[0]
    if target_local.shape[0] != n or weight.shape[0] != n or delay_ms.shape[0] != n:
        raise ValueError("source_gids, target_local, weight, delay_ms must have one length")
    cdef SynapseSink sink
    keep = []
    _make_sink(&sink, mode, 0, 0, 0, (0.0, 0.0, 0.0, 0.0), 0, (0.0, 0.0, 0.0, 0.0), dt,
               source_counts, fill_ptr, out_target, out_weight, out_delay, keep)
    with nogil:
        _place_core(&sink, source_gids, target_local, weight, delay_ms)
    if sink.error:
        raise ValueError(f"explicit edge {sink.error_gid} (in this chunk): "
                         f"{_explicit_error(sink)}")
    if mode == 0 or sink.num_synapses == 0:
        return (sink.num_synapses, 0, 0)
    return (sink.num_synapses, sink.min_delay_steps, sink.max_delay_steps)


cdef str _explicit_error(SynapseSink sink):
    if sink.error == ERR_DELAY_RANGE:
        return (f"delay {sink.error_value} ms rounds outside [1, 65535] steps of "
                f"dt = {sink.dt} ms")
    if sink.error == ERR_ROW_RANGE:
        return f"source gid {int(sink.error_value)} beyond the CSR rows ({sink.n_rows})"
    return f"fill position {int(sink.error_value)} outside the output arrays (error {sink.error})"


def fixed_total_counts(uint64_t seed, uint32_t item, int64_t total, int64_t num_targets):
    """Synapses per target of a fixed_total_number projection (int64, summing to total):
    `total` independent uniform target draws, i.e. a multinomial with equal probabilities,
    the same on every rank (each rank makes every draw).

    32-bit words come in order from stream (MULTINOMIAL, item), four per Philox call with
    c0, c1 = call number; a word x gives target (x n) >> 32
    unless the low 32 bits of x n fall below 2^32 mod n, the share of words that would
    favour some targets (Lemire's rejection: every target exactly equally likely); rejected
    words are skipped."""
    if num_targets < 1 or num_targets >= (1 << 32) or total < 0:
        raise ValueError(f"need 1 <= num_targets < 2**32 and total >= 0, got "
                         f"{num_targets}, {total}")
    counts = np.zeros(num_targets, dtype=np.int64)
    # uint32 tallies, half the cache footprint of int64 (the increments land at random:
    # 5.3 -> 2.7 ns per draw at 77,169 targets), added to counts every 2^32 - 1 draws
    tallies = np.zeros(num_targets, dtype=np.uint32)
    cdef int64_t[::1] out = counts
    cdef uint32_t[::1] tally = tallies
    cdef uint64_t n = <uint64_t>num_targets
    cdef uint32_t threshold = <uint32_t>(((<uint64_t>1 << 32) - n) % n)
    cdef uint64_t call = 0, product
    cdef uint32_t words[4]
    cdef philox4 w
    cdef int used = 4
    cdef int64_t drawn = 0, tallied = 0, i
    with nogil:
        while drawn < total:
            if used == 4:
                w = stream_draw(seed, MULTINOMIAL, item, 0, <uint32_t>call,
                                <uint32_t>(call >> 32))
                words[0], words[1], words[2], words[3] = w.w0, w.w1, w.w2, w.w3
                call += 1
                used = 0
            product = <uint64_t>words[used] * n
            used += 1
            if <uint32_t>product < threshold:
                continue
            tally[product >> 32] += 1
            drawn += 1
            tallied += 1
            if tallied == <int64_t>0xffffffff or drawn == total:
                for i in range(num_targets):
                    out[i] += tally[i]
                    tally[i] = 0
                tallied = 0
    return counts
