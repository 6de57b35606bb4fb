# cython: language_level=3
"""External device input delivered per epoch: spike_generator events into the ring buffer,
noise_generator currents per (step, neuron).

Both are stateless functions of the step: an epoch [first_step, first_step + n_steps) is
served by a binary search into arrays sorted by read step, so a run resumed from a
checkpoint at any epoch boundary needs nothing saved.

spike_generator (NEST 3.10, tests/reference/NOTES.md): a spike at t ms with delay d ms is
read in the target's update of step s = round((t + d) / dt) - 1. ``deliver_epoch`` adds its
weight (x multiplicity) into ring[s % ring_len, target local index, 1 if weight < 0 else 0]
(or into the channel of the receptor the input names, onto a receptor-addressed model)
for every event with first_step <= s < first_step + n_steps. It must run before the neuron
update of the epoch (the slots of this epoch have already been read and cleared ring_len
steps ago; spikes delivered in earlier epochs are already in them, so every neuron sums
its inputs in the same order on any number of ranks).

noise_generator: the current of input q for neuron gid used in the V_m update of step s
(the dc_generator timing: generator step t = s - delay_steps - 1, active when
t_first <= t <= t_last) is mean + std * N(0, 1), the normal keyed
(seed, NOISE = 9, item = q, c2 = gid, c0 = interval j, c1 = 0) with
j = (t - t_first) // interval_steps: a new value every interval_steps from the first active
step, as NEST's noise_generator (which redraws when it becomes active and every dt after).
"""
import numpy as np

from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t

from cython_kernels.rng cimport normal

cdef enum:
    NOISE_STREAM_KIND = 9   # rng stream kind of noise_generator draws

NOISE_STREAM = NOISE_STREAM_KIND


cdef Py_ssize_t _lower_bound(const int64_t[::1] a, int64_t x) noexcept nogil:
    """First index i with a[i] >= x (a ascending)."""
    cdef Py_ssize_t lo = 0, hi = a.shape[0], mid
    while lo < hi:
        mid = (lo + hi) >> 1
        if a[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


cdef class ExternalEvents:
    """spike_generator events of one rank, sorted by read step (canonical order).

    broadcast_*: one row per (input, spike time): the weight goes to every local neuron
    in [broadcast_begin, broadcast_end) (a target population's local indices, contiguous);
    single_*: one row per (input, node, spike time) for per-neuron trains.
    Rows with equal step are applied in array order (input, then node, as built by
    brainsim.network.inputs.external_events).
    broadcast_channel / single_channel (optional, one per row): the ring channel of the
    receptor the input names (receptor-addressed targets), or -1: by the weight's sign;
    None (every network without such targets): all by sign.
    """
    cdef readonly object broadcast_step, broadcast_weight, broadcast_begin, broadcast_end
    cdef readonly object single_step, single_target, single_weight
    cdef readonly object broadcast_channel, single_channel
    cdef const int64_t[::1] _bs
    cdef const double[::1] _bw
    cdef const int64_t[::1] _bb, _be
    cdef const int64_t[::1] _ss
    cdef const uint32_t[::1] _st
    cdef const double[::1] _sw
    cdef const int32_t[::1] _bc, _sc
    cdef int32_t _max_channel        # largest named channel (-1: none named)

    def __init__(self, broadcast_step, broadcast_weight, broadcast_begin, broadcast_end,
                 single_step, single_target, single_weight, broadcast_channel=None,
                 single_channel=None):
        self.broadcast_step = np.ascontiguousarray(broadcast_step, dtype=np.int64)
        self.broadcast_weight = np.ascontiguousarray(broadcast_weight, dtype=np.float64)
        self.broadcast_begin = np.ascontiguousarray(broadcast_begin, dtype=np.int64)
        self.broadcast_end = np.ascontiguousarray(broadcast_end, dtype=np.int64)
        self.single_step = np.ascontiguousarray(single_step, dtype=np.int64)
        self.single_target = np.ascontiguousarray(single_target, dtype=np.uint32)
        self.single_weight = np.ascontiguousarray(single_weight, dtype=np.float64)
        n = self.broadcast_step.shape[0]
        if not (self.broadcast_weight.shape[0] == n and self.broadcast_begin.shape[0] == n
                and self.broadcast_end.shape[0] == n):
            raise ValueError("broadcast_* arrays must have one length")
        m = self.single_step.shape[0]
        if not (self.single_target.shape[0] == m and self.single_weight.shape[0] == m):
            raise ValueError("single_* arrays must have one length")
        for name, steps in (("broadcast_step", self.broadcast_step),
                            ("single_step", self.single_step)):
            if steps.shape[0] and (np.any(np.diff(steps) < 0) or steps[0] < 0):
                raise ValueError(f"{name} must be ascending and >= 0")
        self._bs, self._bw = self.broadcast_step, self.broadcast_weight
        self._bb, self._be = self.broadcast_begin, self.broadcast_end
        self._ss, self._st, self._sw = self.single_step, self.single_target, self.single_weight
        self._init_channels(broadcast_channel, single_channel, n, m)

    def _init_channels(self, broadcast_channel, single_channel, Py_ssize_t n, Py_ssize_t m):
        """The rows' named channels (-1: by sign), or -1 everywhere when none are given."""
        self.broadcast_channel = np.ascontiguousarray(
            np.full(n, -1) if broadcast_channel is None else broadcast_channel, dtype=np.int32)
        self.single_channel = np.ascontiguousarray(
            np.full(m, -1) if single_channel is None else single_channel, dtype=np.int32)
        if self.broadcast_channel.shape[0] != n or self.single_channel.shape[0] != m:
            raise ValueError("broadcast_channel and single_channel need one entry per row")
        for channels in (self.broadcast_channel, self.single_channel):
            if channels.shape[0] and channels.min() < -1:
                raise ValueError("a channel must be >= 0, or -1 (by the weight's sign)")
        self._bc, self._sc = self.broadcast_channel, self.single_channel
        self._max_channel = max([-1] + [int(c.max()) for c in
                                        (self.broadcast_channel, self.single_channel)
                                        if c.shape[0]])

    @property
    def num_events(self) -> int:
        return int(self.broadcast_step.shape[0] + self.single_step.shape[0])

    @property
    def last_step(self) -> int:
        """Last read step of any event (-1 when there are none)."""
        last = -1
        if self.broadcast_step.shape[0]:
            last = max(last, int(self.broadcast_step[-1]))
        if self.single_step.shape[0]:
            last = max(last, int(self.single_step[-1]))
        return last

    def deliver_epoch(self, int64_t first_step, int64_t n_steps,
                      double[:, :, ::1] ring not None):  # IN/OUT (ring_len, n_local, C >= 2)
        """Add the events read in steps [first_step, first_step + n_steps) to the ring.
        Requires n_steps <= ring_len; returns the number of rows applied."""
        cdef int64_t ring_len = ring.shape[0]
        cdef int64_t n_local = ring.shape[1]
        if (n_steps < 0 or n_steps > ring_len or ring.shape[2] < 2
                or self._max_channel >= ring.shape[2]):
            raise ValueError(f"n_steps must be in [0, ring_len = {ring_len}] and ring of shape "
                             f"(ring_len, n_local, C), C >= 2 and > every named channel "
                             f"({self._max_channel})")
        cdef Py_ssize_t i, lo, hi, lo2, hi2
        cdef int64_t j, s
        cdef double w
        cdef int ch
        lo = _lower_bound(self._bs, first_step)
        hi = _lower_bound(self._bs, first_step + n_steps)
        lo2 = _lower_bound(self._ss, first_step)
        hi2 = _lower_bound(self._ss, first_step + n_steps)
        for i in range(lo, hi):
            if self._bb[i] < 0 or self._be[i] > n_local:
                raise ValueError(f"broadcast row {i}: targets [{self._bb[i]}, {self._be[i]}) "
                                 f"outside [0, {n_local})")
        for i in range(lo2, hi2):
            if self._st[i] >= n_local:
                raise ValueError(f"event {i}: target local index {self._st[i]} >= {n_local}")
        with nogil:
            for i in range(lo, hi):
                s = self._bs[i] % ring_len
                w = self._bw[i]
                ch = (w < 0.0) if self._bc[i] < 0 else self._bc[i]
                for j in range(self._bb[i], self._be[i]):
                    ring[s, j, ch] += w
            for i in range(lo2, hi2):
                w = self._sw[i]
                ch = (w < 0.0) if self._sc[i] < 0 else self._sc[i]
                ring[self._ss[i] % ring_len, self._st[i], ch] += w
        return (hi - lo) + (hi2 - lo2)


def noise_currents(uint64_t seed, int item,
                   const int64_t[::1] gids not None,    # IN gid per local neuron of the input
                   const int64_t[::1] local not None,   # IN their local indices (columns of out)
                   int64_t first_step, int64_t n_steps,
                   int64_t t_first, int64_t t_last,     # IN first / last active generator step
                   int64_t delay_steps, int64_t interval_steps,
                   double mean, double std,
                   double[:, ::1] out not None):        # IN/OUT [n_steps, n_local] pA, added
    """Add noise_generator input `item`'s currents for the V_m updates of steps
    [first_step, first_step + n_steps) into ``out[step - first_step, local]`` (pA)."""
    if gids.shape[0] != local.shape[0]:
        raise ValueError("gids and local must have one length")
    if out.shape[0] < n_steps:
        raise ValueError(f"out needs {n_steps} rows, has {out.shape[0]}")
    if interval_steps < 1 or delay_steps < 1:
        raise ValueError("interval_steps and delay_steps must be >= 1")
    if not 0 <= item < (1 << 24):
        raise ValueError(f"item must be in [0, 2**24), got {item}")
    cdef Py_ssize_t n = gids.shape[0], i
    cdef int64_t step, t, jv, drawn = -1
    for i in range(n):
        if local[i] < 0 or local[i] >= out.shape[1] or gids[i] < 0 or gids[i] >= (1 << 32):
            raise ValueError(f"neuron {i}: local index {local[i]} or gid {gids[i]} out of range")
    cdef double[::1] current = np.empty(n, dtype=np.float64)  # of interval `drawn`, pA
    with nogil:
        for step in range(first_step, first_step + n_steps):
            t = step - delay_steps - 1
            if t < t_first or t > t_last:
                continue
            jv = (t - t_first) // interval_steps
            if jv != drawn:     # draw once per interval, then reuse for its steps
                for i in range(n):
                    current[i] = mean + std * normal(seed, NOISE_STREAM_KIND, <uint32_t>item,
                                                     <uint32_t>gids[i], <uint32_t>jv, 0)
                drawn = jv
            for i in range(n):
                out[step - first_step, local[i]] += current[i]
