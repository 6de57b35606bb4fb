# cython: language_level=3
"""Argument checks shared by the neuron kernels' ``update`` wrappers (see inputs.pxd)."""
import numpy as np

from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t

from cython_kernels.poisson cimport POISSON_MAX_TABLE


cdef int check_update_args(
        Py_ssize_t n_local, Py_ssize_t n_params,
        const int64_t[:] seg_begin, const int64_t[:] seg_end, const double[:, ::1] seg_params,
        double[:, :, ::1] ring, const int64_t[:] local_gids,
        const int64_t[:] poisson_seg, const int64_t[:] poisson_item,
        const double[:] poisson_weight, const int64_t[:] poisson_delay_steps,
        const int64_t[:] poisson_first_step, const int64_t[:] poisson_stop_step,
        const double[:, ::1] poisson_cdf, const int64_t[:] poisson_table_len,
        const double[:] poisson_lambda,
        const int64_t[:] dc_seg, const double[:] dc_amplitude,
        const int64_t[:] dc_first_step, const int64_t[:] dc_stop_step,
        int64_t first_step, int64_t n_steps, Py_ssize_t spike_capacity) except -1:
    """Check shapes and index ranges once per call; raise ValueError naming the argument."""
    cdef Py_ssize_t n_seg = seg_begin.shape[0]
    cdef Py_ssize_t j, nq, n_dc
    cdef int64_t n_in_segments = 0
    if seg_end.shape[0] != n_seg or seg_params.shape[0] != n_seg:
        raise ValueError(f"seg_begin, seg_end and seg_params rows must agree: "
                         f"{n_seg}, {seg_end.shape[0]}, {seg_params.shape[0]}")
    if seg_params.shape[1] < n_params:
        raise ValueError(f"seg_params needs {n_params} columns, got {seg_params.shape[1]}")
    for j in range(n_seg):
        if not 0 <= seg_begin[j] <= seg_end[j] <= n_local:
            raise ValueError(f"segment {j}: local index range [{seg_begin[j]}, {seg_end[j]}) "
                             f"is not inside [0, {n_local})")
        n_in_segments += seg_end[j] - seg_begin[j]
    if ring.shape[0] < 1 or ring.shape[1] != n_local or ring.shape[2] != 2:
        raise ValueError(f"ring must have shape (ring_len >= 1, {n_local}, 2), got "
                         f"({ring.shape[0]}, {ring.shape[1]}, {ring.shape[2]})")
    if local_gids.shape[0] != n_local:
        raise ValueError(f"local_gids has {local_gids.shape[0]} entries, expected {n_local}")
    for j in range(n_local):
        if not 0 <= local_gids[j] < (<int64_t>1 << 32):
            raise ValueError(f"local index {j}: gid {local_gids[j]} outside [0, 2**32)")
    if n_steps < 0 or n_steps >= (<int64_t>1 << 31):
        raise ValueError(f"n_steps must be in [0, 2**31), got {n_steps}")
    if first_step < 0:
        raise ValueError(f"first_step must be >= 0, got {first_step}")
    if spike_capacity < n_in_segments * n_steps:
        raise ValueError(f"spike_keys holds {spike_capacity} keys; up to {n_in_segments} "
                         f"neurons x {n_steps} steps = {n_in_segments * n_steps} may spike")

    nq = poisson_seg.shape[0]
    if not (poisson_item.shape[0] == nq and poisson_weight.shape[0] == nq
            and poisson_delay_steps.shape[0] == nq and poisson_first_step.shape[0] == nq
            and poisson_stop_step.shape[0] == nq and poisson_table_len.shape[0] == nq
            and poisson_lambda.shape[0] == nq and (nq == 0 or poisson_cdf.shape[0] == nq)):
        raise ValueError(f"all poisson_* arrays need {nq} entries (one per input and segment)")
    for j in range(nq):
        if not 0 <= poisson_seg[j] < n_seg:
            raise ValueError(f"Poisson entry {j}: segment {poisson_seg[j]} outside [0, {n_seg})")
        if not 0 <= poisson_item[j] < (1 << 24):
            raise ValueError(f"Poisson entry {j}: input index {poisson_item[j]} outside [0, 2**24)")
        if not 1 <= poisson_table_len[j] <= min(poisson_cdf.shape[1], POISSON_MAX_TABLE):
            raise ValueError(f"Poisson entry {j}: CDF table length {poisson_table_len[j]} outside "
                             f"[1, {min(poisson_cdf.shape[1], POISSON_MAX_TABLE)}]")
        if not 0.0 <= poisson_lambda[j] <= 700.0:
            raise ValueError(f"Poisson entry {j}: mean per step {poisson_lambda[j]} outside [0, 700]")
    n_dc = dc_seg.shape[0]
    if not (dc_amplitude.shape[0] == n_dc and dc_first_step.shape[0] == n_dc
            and dc_stop_step.shape[0] == n_dc):
        raise ValueError(f"all dc_* arrays need {n_dc} entries (one per input and segment)")
    for j in range(n_dc):
        if not 0 <= dc_seg[j] < n_seg:
            raise ValueError(f"DC entry {j}: segment {dc_seg[j]} outside [0, {n_seg})")
    return 0


# The "no per-neuron current" value of the kernels' i_ext argument: 0 rows.
NO_EXTERNAL_CURRENT = np.zeros((0, 0), dtype=np.float64)


cdef int check_external_current(const double[:, ::1] i_ext,  # IN [n_steps, n_local] pA or 0 rows
                                Py_ssize_t n_local, int64_t n_steps) except -1:
    """i_ext is either empty (0 rows: no extra current, no per-step work) or holds one row
    per step of the call: i_ext[j, i] = current (pA) of local neuron i in the update of step
    first_step + j, added where the DC (i_0) enters. Raise ValueError otherwise."""
    if i_ext.shape[0] == 0:
        return 0
    if i_ext.shape[0] != n_steps or i_ext.shape[1] != n_local:
        raise ValueError(f"i_ext must have shape (n_steps, n_local) = ({n_steps}, {n_local}) "
                         f"or 0 rows, got ({i_ext.shape[0]}, {i_ext.shape[1]})")
    return 0


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
