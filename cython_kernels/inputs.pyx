# cython: language_level=3
"""InputPlan: a neuron group's Poisson and DC inputs grouped by segment once, the scratch
buffers of its kernel calls and the spill buffer of their spikes (declared in inputs.pxd).

Built once per neuron group, so a kernel call (one per epoch) allocates nothing: buffers
grow only when a call asks for more steps than ``max_steps`` (rare: the engine's epochs
have a fixed length) or when spikes spill over the caller's spike_keys (several spikes per
neuron and step: parrot_neuron multiplicities, aeif_cond_exp with t_ref = 0).
"""
import numpy as np

from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memcpy

from cython_kernels.block_input cimport gather_block_channels
from cython_kernels.poisson cimport POISSON_MAX_TABLE
from cython_kernels.rng cimport POISSON

# The "no per-neuron current" value of the kernels' i_ext argument: 0 rows.
NO_EXTERNAL_CURRENT = np.zeros((0, 0), dtype=np.float64)


cdef inline int64_t block_neurons(int64_t n_steps) noexcept nogil:
    """Neurons per block for epochs of n_steps: <= POISSON_BATCH, and <=
    BLOCK_NEURON_STEPS neuron-steps so a block's input stays in cache (at least 1)."""
    cdef int64_t nb = BLOCK_NEURON_STEPS // (n_steps if n_steps > 0 else 1)
    return POISSON_BATCH if nb > POISSON_BATCH else (1 if nb < 1 else nb)


cdef inline int64_t block_capacity(int64_t max_steps) noexcept nogil:
    """Doubles one block's ex (or inh) needs for any epoch of up to max_steps steps."""
    cdef int64_t m = max_steps if max_steps > 0 else 1
    if POISSON_BATCH * m <= BLOCK_NEURON_STEPS:
        return POISSON_BATCH * m
    return BLOCK_NEURON_STEPS if m < BLOCK_NEURON_STEPS else m


cdef void group_by_segment(const int64_t[:] seg_of_entry,  # IN segment of each entry (checked)
                           int64_t n_seg,
                           int64_t* ptr,       # OUT n_seg + 1 offsets
                           int64_t* order      # OUT entry indices grouped by segment
                           ) noexcept nogil:
    """Stable counting sort of entries by segment."""
    cdef Py_ssize_t j
    cdef int64_t seg
    for j in range(n_seg + 1):
        ptr[j] = 0
    for j in range(seg_of_entry.shape[0]):
        ptr[seg_of_entry[j] + 1] += 1
    for j in range(n_seg):
        ptr[j + 1] += ptr[j]
    for j in range(seg_of_entry.shape[0]):
        seg = seg_of_entry[j]
        order[ptr[seg]] = j
        ptr[seg] += 1
    for j in range(n_seg, 0, -1):
        ptr[j] = ptr[j - 1]
    ptr[0] = 0


cdef void fill_dc_current(Workspace* ws, int64_t first_step, int64_t n_steps) noexcept nogil:
    """dc_current[g * n_steps + j] = 0.0 + the amplitude of each DC entry of segment g
    active at step first_step + j, in entry order (the same for every neuron of g)."""
    cdef int64_t g, j, jj, s
    cdef double i0
    for g in range(ws.n_seg):
        for j in range(n_steps):
            s = first_step + j
            i0 = 0.0
            for jj in range(ws.dc_ptr[g], ws.dc_ptr[g + 1]):
                if ws.dc_entries[jj].first_step <= s < ws.dc_entries[jj].stop_step:
                    i0 = i0 + ws.dc_entries[jj].amplitude
            ws.dc_current[g * n_steps + j] = i0


cdef int spill_grow(SpikeSink* out) noexcept nogil:
    """Grow the spill so the sink's total room at least doubles; 0, or -1 without memory."""
    cdef int64_t cap = 2 * out.spill_capacity
    if cap < out.capacity:
        cap = out.capacity
    if cap < 1024:
        cap = 1024
    cdef uint64_t* grown = <uint64_t*>realloc(out.spill, <size_t>cap * sizeof(uint64_t))
    if grown == NULL:
        return -1
    out.spill = grown
    out.spill_capacity = cap
    return 0


cdef void check_poisson(Py_ssize_t n_seg, const int64_t[:] seg, const int64_t[:] item,
                        const double[:] weight, const int64_t[:] delay_steps,
                        const int64_t[:] first_step, const int64_t[:] stop_step,
                        const double[:, ::1] cdf, const int64_t[:] table_len,
                        const double[:] lam, const int64_t[:] channel,
                        int num_channels) except *:
    """Raise ValueError naming the Poisson entry and rule that the arrays break."""
    cdef Py_ssize_t nq = seg.shape[0]
    cdef Py_ssize_t j
    cdef int64_t width = min(cdf.shape[1], POISSON_MAX_TABLE)
    if not (item.shape[0] == nq and weight.shape[0] == nq and delay_steps.shape[0] == nq
            and first_step.shape[0] == nq and stop_step.shape[0] == nq
            and table_len.shape[0] == nq and lam.shape[0] == nq
            and channel.shape[0] == nq and (nq == 0 or cdf.shape[0] == nq)):
        raise ValueError(f"all poisson_* arrays need {nq} entries (one per input and segment)")
    for j in range(nq):
        if not 0 <= seg[j] < n_seg:
            raise ValueError(f"Poisson entry {j}: segment {seg[j]} outside [0, {n_seg})")
        if not -1 <= channel[j] < num_channels:
            raise ValueError(f"Poisson entry {j}: channel {channel[j]} outside [-1, "
                             f"{num_channels})")
        if not 0 <= item[j] < (1 << 24):
            raise ValueError(f"Poisson entry {j}: input index {item[j]} outside [0, 2**24)")
        if not 1 <= table_len[j] <= width:
            raise ValueError(f"Poisson entry {j}: CDF table length {table_len[j]} outside "
                             f"[1, {width}]")
        if not 0.0 <= lam[j] <= 700.0:
            raise ValueError(f"Poisson entry {j}: mean per step {lam[j]} outside [0, 700]")


cdef void check_dc(Py_ssize_t n_seg, const int64_t[:] seg, const double[:] amplitude,
                   const int64_t[:] first_step, const int64_t[:] stop_step) except *:
    cdef Py_ssize_t n_dc = seg.shape[0]
    cdef Py_ssize_t j
    if not (amplitude.shape[0] == n_dc and first_step.shape[0] == n_dc
            and stop_step.shape[0] == n_dc):
        raise ValueError(f"all dc_* arrays need {n_dc} entries (one per input and segment)")
    for j in range(n_dc):
        if not 0 <= seg[j] < n_seg:
            raise ValueError(f"DC entry {j}: segment {seg[j]} outside [0, {n_seg})")


cdef int check_layout(Py_ssize_t n_seg, Py_ssize_t n_local, Py_ssize_t n_params,
                      const int64_t[:] seg_begin, const int64_t[:] seg_end,
                      const double[:, ::1] seg_params, double[:, :, ::1] ring,
                      int num_channels) except -1:
    """Segments and ring of a kernel call against the plan's segments and n_local."""
    cdef Py_ssize_t j
    if not seg_begin.shape[0] == seg_end.shape[0] == seg_params.shape[0] == n_seg:
        raise ValueError(f"seg_begin, seg_end and seg_params need one row per segment of "
                         f"the plan ({n_seg}), got {seg_begin.shape[0]}, "
                         f"{seg_end.shape[0]}, {seg_params.shape[0]}")
    if seg_params.shape[1] < n_params:
        raise ValueError(f"seg_params needs {n_params} columns, got {seg_params.shape[1]}")
    for j in range(n_seg):
        if not 0 <= seg_begin[j] <= seg_end[j] <= n_local:
            raise ValueError(f"segment {j}: local index range [{seg_begin[j]}, "
                             f"{seg_end[j]}) is not inside [0, {n_local})")
    # A network's ring has as many channels as its widest model reads (2 unless a
    # receptor-addressed model needs more): every kernel reads its own first channels.
    if ring.shape[0] < 1 or ring.shape[1] != n_local or ring.shape[2] < num_channels:
        raise ValueError(f"ring must have shape (ring_len >= 1, {n_local}, channels >= "
                         f"{num_channels}), got ({ring.shape[0]}, {ring.shape[1]}, "
                         f"{ring.shape[2]})")
    return 0


cdef class InputPlan:
    """The Poisson and DC inputs of one neuron group (``num_segments`` segments), checked
    and grouped by segment once, with the kernel's scratch for epochs of up to
    ``max_steps`` steps (a longer call grows it).

    Poisson arrays (one entry per input and segment): poisson_seg, poisson_item (input
    index < 2**24: its random stream), poisson_weight (native unit of the target model per
    spike), poisson_delay_steps, poisson_first_step / poisson_stop_step (emission steps
    [first, stop)), poisson_cdf (one table per row), poisson_table_len, poisson_lambda
    (mean count per step), poisson_channel (optional: the ring channel of the receptor each
    input names, -1 by the weight's sign; default all -1). DC arrays: dc_seg,
    dc_amplitude (pA), dc_first_step / dc_stop_step (update steps that read it,
    [first, stop)). num_channels: the ring channels the group's kernel reads (2, or a
    receptor-addressed model's port count), one block-input buffer each (ws.ex +
    c * ws.channel_stride; ws.inh is channel 1's). The plan copies what it needs:
    later changes to the arrays are not seen. One kernel call at a time per plan (the
    scratch is shared by the calls).
    """

    def __cinit__(self):
        self.index_block = NULL
        self.step_block = NULL
        self.sink.spill = NULL
        self.sink.spill_capacity = 0
        self.sink.keys = NULL
        self.sink.capacity = 0
        self.sink.n = 0
        self.sink.failed = False
        self.max_steps = 0
        self.num_channels = 2

    def __init__(self, Py_ssize_t num_segments, int64_t max_steps, *,
                 const int64_t[:] poisson_seg not None, const int64_t[:] poisson_item not None,
                 const double[:] poisson_weight not None,
                 const int64_t[:] poisson_delay_steps not None,
                 const int64_t[:] poisson_first_step not None,
                 const int64_t[:] poisson_stop_step not None,
                 poisson_cdf not None, const int64_t[:] poisson_table_len not None,
                 const double[:] poisson_lambda not None,
                 const int64_t[:] dc_seg not None, const double[:] dc_amplitude not None,
                 const int64_t[:] dc_first_step not None,
                 const int64_t[:] dc_stop_step not None,
                 poisson_channel=None, int num_channels=2):
        if num_segments < 0 or not 0 <= max_steps < (<int64_t>1 << 31):
            raise ValueError(f"num_segments must be >= 0 and max_steps in [0, 2**31), got "
                             f"{num_segments}, {max_steps}")
        if not 2 <= num_channels <= 1024:
            raise ValueError(f"num_channels must be in [2, 1024], got {num_channels}")
        self.cdf = np.array(poisson_cdf, dtype=np.float64, order="C", copy=True, ndmin=2)
        cdef const int64_t[:] channel = (np.full(poisson_seg.shape[0], -1, dtype=np.int64)
                                         if poisson_channel is None else poisson_channel)
        check_poisson(num_segments, poisson_seg, poisson_item, poisson_weight,
                      poisson_delay_steps, poisson_first_step, poisson_stop_step, self.cdf,
                      poisson_table_len, poisson_lambda, channel, num_channels)
        check_dc(num_segments, dc_seg, dc_amplitude, dc_first_step, dc_stop_step)
        self.num_segments = num_segments
        self.num_channels = num_channels
        self._build_index(poisson_seg, poisson_item, poisson_weight, poisson_delay_steps,
                          poisson_first_step, poisson_stop_step, poisson_table_len,
                          poisson_lambda, channel, dc_seg, dc_amplitude, dc_first_step,
                          dc_stop_step)
        self.ws.batch = brainsim_pick_poisson_batch()
        self.reserve(max_steps)

    cdef int _build_index(self, const int64_t[:] p_seg, const int64_t[:] item,
                          const double[:] weight, const int64_t[:] delay_steps,
                          const int64_t[:] first_step, const int64_t[:] stop_step,
                          const int64_t[:] table_len, const double[:] lam,
                          const int64_t[:] channel,
                          const int64_t[:] dc_seg, const double[:] amplitude,
                          const int64_t[:] dc_first, const int64_t[:] dc_stop) except -1:
        """The entries of each segment, in input order, in one allocation (see Workspace)."""
        cdef Py_ssize_t n_seg = self.num_segments
        cdef Py_ssize_t nq = p_seg.shape[0], n_dc = dc_seg.shape[0]
        cdef size_t nbytes = (2 * (n_seg + 1) * sizeof(int64_t) + nq * sizeof(PoissonEntry)
                              + n_dc * sizeof(DCEntry))
        cdef char* block = <char*>malloc(nbytes)
        if block == NULL:
            raise MemoryError(f"InputPlan: no memory for {nq} Poisson and {n_dc} DC entries")
        free(self.index_block)          # (only if __init__ is called again)
        self.index_block = block
        cdef int64_t* p_ptr = <int64_t*>block
        cdef int64_t* dc_ptr = p_ptr + (n_seg + 1)
        cdef PoissonEntry* entries = <PoissonEntry*>(dc_ptr + (n_seg + 1))
        cdef DCEntry* dc_entries = <DCEntry*>(entries + nq)
        cdef int64_t[::1] order = np.empty(max(nq, n_dc, 1), dtype=np.int64)
        cdef const double[:, ::1] cdf = self.cdf
        cdef Py_ssize_t jj, q
        group_by_segment(p_seg, n_seg, p_ptr, &order[0])
        for jj in range(nq):
            q = order[jj]
            entries[jj].delay_steps = delay_steps[q]
            entries[jj].first_step = first_step[q]
            entries[jj].stop_step = stop_step[q]
            entries[jj].c3 = (<uint32_t>POISSON << 24) | <uint32_t>item[q]
            entries[jj].table_len = <int>table_len[q]
            entries[jj].channel = <int>channel[q]
            entries[jj].weight = weight[q]
            entries[jj].lam = lam[q]
            entries[jj].cdf = &cdf[q, 0]
        group_by_segment(dc_seg, n_seg, dc_ptr, &order[0])
        for jj in range(n_dc):
            q = order[jj]
            dc_entries[jj].amplitude = amplitude[q]
            dc_entries[jj].first_step = dc_first[q]
            dc_entries[jj].stop_step = dc_stop[q]
        self.ws.n_seg = n_seg
        self.ws.p_ptr = p_ptr
        self.ws.entries = entries
        self.ws.dc_ptr = dc_ptr
        self.ws.dc_entries = dc_entries
        return 0

    def __dealloc__(self):
        free(self.index_block)
        free(self.step_block)
        free(self.sink.spill)

    cdef int reserve(self, int64_t n_steps) except -1:
        """Scratch for epochs of up to n_steps steps; reallocated only when n_steps exceeds
        what the plan holds (the scratch carries nothing between calls)."""
        if self.step_block != NULL and n_steps <= self.max_steps:
            return 0
        cdef int64_t m = n_steps if n_steps > self.max_steps else self.max_steps
        cdef int64_t dc_len = self.num_segments * (m if m > 0 else 1)
        cdef int64_t cap = block_capacity(m)
        cdef size_t nbytes = ((dc_len + self.num_channels * cap + POISSON_BATCH)
                              * sizeof(double)
                              + POISSON_BATCH * (sizeof(int32_t) + sizeof(uint32_t)))
        cdef double* block = <double*>malloc(nbytes)
        if block == NULL:
            raise MemoryError(f"InputPlan: no memory for the scratch of {m}-step epochs")
        free(self.step_block)
        self.step_block = block
        self.max_steps = m
        self.ws.dc_current = block
        self.ws.ex = block + dc_len
        self.ws.inh = self.ws.ex + cap
        self.ws.channel_stride = cap
        self.ws.n_channels = self.num_channels
        self.ws.u = self.ws.ex + self.num_channels * cap
        self.ws.counts = <int32_t*>(self.ws.u + POISSON_BATCH)
        self.ws.gids = <uint32_t*>(self.ws.counts + POISSON_BATCH)
        return 0

    cdef const double[:, ::1] begin(
            self, Py_ssize_t n_local, Py_ssize_t n_params,
            const int64_t[:] seg_begin, const int64_t[:] seg_end,
            const double[:, ::1] seg_params, double[:, :, ::1] ring,
            const int64_t[:] local_gids, int64_t first_step, int64_t n_steps,
            uint64_t[::1] spike_keys, object i_ext) except *:
        """The preamble of every kernel call: check the arguments against the plan and
        n_local (ValueError naming the argument), fill the DC current of the call's steps,
        point the spike sink at spike_keys. Returns i_ext as a [n_steps, n_local] pA view,
        or 0 rows for none (None)."""
        check_layout(self.num_segments, n_local, n_params, seg_begin, seg_end, seg_params,
                     ring, self.num_channels)
        self._check_gids(local_gids, n_local)
        if n_steps < 0 or n_steps >= (<int64_t>1 << 31):
            raise ValueError(f"n_steps must be in [0, 2**31), got {n_steps}")
        if first_step < 0:
            raise ValueError(f"first_step must be >= 0, got {first_step}")
        if i_ext is None:
            i_ext = NO_EXTERNAL_CURRENT
        cdef const double[:, ::1] ext = i_ext
        if ext.shape[0] != 0 and (ext.shape[0] != n_steps or ext.shape[1] != n_local):
            raise ValueError(f"i_ext must have shape (n_steps, n_local) = ({n_steps}, "
                             f"{n_local}) or 0 rows, got ({ext.shape[0]}, {ext.shape[1]})")
        self.reserve(n_steps)
        self.ws.nb_max = <int>block_neurons(n_steps)
        fill_dc_current(&self.ws, first_step, n_steps)
        self.sink.keys = &spike_keys[0] if spike_keys.shape[0] > 0 else NULL
        self.sink.capacity = spike_keys.shape[0]
        self.sink.n = 0
        self.sink.failed = False
        return ext

    cdef int _check_gids(self, const int64_t[:] local_gids, Py_ssize_t n_local) except -1:
        """Gids must fit the 32 bits of a spike key. Checked when a call passes another
        array than the last one checked, not in every epoch (O(n_local))."""
        cdef Py_ssize_t j
        if local_gids.shape[0] != n_local:
            raise ValueError(f"local_gids has {local_gids.shape[0]} entries, expected {n_local}")
        if n_local == 0 or (&local_gids[0] == self.checked_gids
                            and n_local == self.checked_num_gids
                            and local_gids.strides[0] == sizeof(int64_t)):
            return 0
        for j in range(n_local):
            if not 0 <= local_gids[j] < (<int64_t>1 << 32):
                raise ValueError(f"local index {j}: gid {local_gids[j]} outside [0, 2**32)")
        if local_gids.strides[0] == sizeof(int64_t):
            self.checked_gids = &local_gids[0]
            self.checked_num_gids = n_local
        return 0

    cdef int64_t finish(self, str kernel) except -1:
        """The number of spikes of the call (keys past len(spike_keys): spilled_keys())."""
        self.sink.keys = NULL           # spike_keys was only lent for the call
        if self.sink.failed:
            raise MemoryError(f"{kernel}.update: no memory for more than {self.sink.n} "
                              f"spike keys")
        return self.sink.n

    def spilled_keys(self):
        """The keys of the last kernel call that did not fit into its spike_keys: keys
        len(spike_keys) .. n - 1 of the n it returned, in emission order (a copy)."""
        cdef Py_ssize_t k = max(self.sink.n - self.sink.capacity, 0)
        out = np.empty(k, dtype=np.uint64)
        cdef uint64_t[::1] view = out
        if k > 0:
            memcpy(&view[0], self.sink.spill, k * sizeof(uint64_t))
        return out


def gather_channels_probe(InputPlan plan not None, double[:, :, ::1] ring not None,
                          const int64_t[:] local_gids not None, int64_t seg, int64_t b,
                          int nb, int64_t first_step, int64_t n_steps, uint64_t seed,
                          int n_channels):
    """For tests: block_input.gather_block_channels of neurons b .. b+nb-1 (segment seg)
    over n_steps steps, as a [n_channels, n_steps, nb] array of the gathered input (the
    ring's slots are cleared, as in a kernel call)."""
    if not (0 <= seg < plan.num_segments and 0 < nb <= block_neurons(n_steps) and b >= 0
            and b + nb <= ring.shape[1] and local_gids.shape[0] == ring.shape[1]
            and 2 <= n_channels <= plan.num_channels <= ring.shape[2] and n_steps > 0):
        raise ValueError("gather_channels_probe: arguments outside the plan or ring")
    plan.reserve(n_steps)
    gather_block_channels(ring, local_gids, b, nb, first_step, n_steps, &plan.ws, seed, seg,
                          n_channels)
    out = np.empty((n_channels, n_steps, nb), dtype=np.float64)
    cdef double[:, :, ::1] view = out
    cdef int c, lane
    cdef int64_t j
    for c in range(n_channels):
        for j in range(n_steps):
            for lane in range(nb):
                view[c, j, lane] = plan.ws.ex[c * plan.ws.channel_stride + j * nb + lane]
    return out


def poisson_batch_variants(uint64_t seed, int item, uint64_t step, const uint32_t[::1] gids,
                           const double[::1] cdf):
    """For tests: Poisson table counts of input ``item`` at emission ``step`` for up to 64
    gids from each compiled variant of the batched draw that this CPU runs, as
    {name: (uniforms, counts)}; a count equal to len(cdf) means "beyond the table"."""
    cdef int n = <int>gids.shape[0]
    if not 0 < n <= POISSON_BATCH or cdf.shape[0] < 1:
        raise ValueError(f"need 1..{POISSON_BATCH} gids and a non-empty table")
    out = {}
    cdef poisson_batch_fn fn
    cdef double[::1] u
    cdef int32_t[::1] c
    for which, name in enumerate(("baseline", "avx2", "avx512")):
        fn = brainsim_poisson_batch_variant(which)
        if fn == NULL:
            continue
        u_arr = np.zeros(n)
        c_arr = np.zeros(n, np.int32)
        u = u_arr
        c = c_arr
        fn(seed, (<uint32_t>5 << 24) | <uint32_t>item, <uint32_t>step, <uint32_t>(step >> 32),
           &gids[0], n, &cdf[0], <int>cdf.shape[0], &u[0], &c[0])
        out[name] = (u_arr, c_arr)
    return out
