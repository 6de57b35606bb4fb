# cython: language_level=3
"""NEST ``parrot_neuron``: re-emits every incoming spike in the step it arrives.

Same calling convention as iaf_psc_exp.update, without state arrays. Per step s
(slot = s % ring_len): n = round(ring[slot, i, 0] - ring[slot, i, 1] + the Poisson
count*|weight| terms), the slot is cleared, and the neuron emits n spikes at lag s - first
(n equal keys: a spike of multiplicity n, as NEST's SpikeEvent with multiplicity). NEST
ignores the weight of connections onto a parrot; brainsim counts spikes through it, so
weights onto a parrot_neuron must be 1 (then n is the number of arriving spikes, with
multiplicity). Input read in step s is re-emitted in step s: a spike stamped t with delay d
onto a parrot leaves it stamped t + d. DC inputs and i_ext (noise_generator currents)
have no effect (NEST's parrot_neuron has no current input).
"""
from libc.stdint cimport int64_t, uint64_t

from cython_kernels.inputs cimport (
    Workspace, workspace_alloc, workspace_free, prepare_inputs,
    poisson_batch_fn, brainsim_pick_poisson_batch, check_update_args,
    check_external_current,
)
from cython_kernels.inputs import NO_EXTERNAL_CURRENT
from cython_kernels.block_input cimport gather_block


cdef int64_t update_core(
        const int64_t[:] seg_begin, const int64_t[:] seg_end,
        double[:, :, ::1] ring,              # IN/OUT (ring_len, n_local, 2), slots read are cleared
        const int64_t[:] local_gids,
        const int64_t[:] poisson_seg, const int64_t[:] poisson_item,
        const double[:] poisson_weight, const int64_t[:] poisson_delay_steps,
        const int64_t[:] poisson_first_step, const int64_t[:] poisson_stop_step,
        const double[:, ::1] poisson_cdf, const int64_t[:] poisson_table_len,
        const double[:] poisson_lambda,
        const int64_t[:] dc_seg, const double[:] dc_amplitude,
        const int64_t[:] dc_first_step, const int64_t[:] dc_stop_step,
        int64_t first_step, int64_t n_steps, uint64_t seed,
        uint64_t[::1] spike_keys,            # OUT (lag << 32) | gid, neuron-major order
        const double[:, ::1] i_ext) noexcept nogil:  # IN [n_steps, n_local] pA or 0 rows
    """Returns the number of spikes, or -1 (out of memory), -2 (bad segment index),
    -3 (spike_keys full)."""
    cdef Py_ssize_t n_seg = seg_begin.shape[0]
    cdef int64_t capacity = spike_keys.shape[0]
    cdef Workspace ws
    if workspace_alloc(&ws, poisson_seg.shape[0], dc_seg.shape[0], n_seg, n_steps) != 0:
        return -1
    if prepare_inputs(poisson_seg, poisson_item, poisson_weight, poisson_delay_steps,
                      poisson_first_step, poisson_stop_step, poisson_cdf, poisson_table_len,
                      poisson_lambda, dc_seg, dc_amplitude, dc_first_step, dc_stop_step,
                      n_seg, first_step, n_steps, ws.order, ws.dc_ptr, ws.p_ptr, ws.entries,
                      ws.dc_current) != 0:
        workspace_free(&ws)
        return -2
    cdef poisson_batch_fn batch = brainsim_pick_poisson_batch()
    cdef int64_t seg, b, i, j, k, n
    cdef int64_t n_spikes = 0
    cdef int nb, lane
    cdef uint64_t key
    for seg in range(n_seg):
        b = seg_begin[seg]
        while b < seg_end[seg]:
            nb = <int>(seg_end[seg] - b if seg_end[seg] - b < ws.nb_max else ws.nb_max)
            gather_block(ring, local_gids, b, nb, first_step, n_steps, &ws, batch, seed,
                         ws.entries + ws.p_ptr[seg], ws.p_ptr[seg + 1] - ws.p_ptr[seg])
            for lane in range(nb):
                i = b + lane
                for j in range(n_steps):
                    n = <int64_t>(ws.ex[j * nb + lane] - ws.inh[j * nb + lane] + 0.5)
                    if n <= 0:
                        continue
                    if n_spikes + n > capacity:
                        workspace_free(&ws)
                        return -3
                    key = (<uint64_t>j << 32) | <uint64_t>local_gids[i]
                    for k in range(n):
                        spike_keys[n_spikes] = key
                        n_spikes += 1
            b += nb
    workspace_free(&ws)
    return n_spikes


def update(const int64_t[:] seg_begin not None, const int64_t[:] seg_end not None,
           const double[:, ::1] seg_params not None,
           double[:, :, ::1] ring not None,
           const int64_t[:] local_gids not None,
           const int64_t[:] poisson_seg not None, const int64_t[:] poisson_item not None,
           const double[:] poisson_weight not None,
           const int64_t[:] poisson_delay_steps not None,
           const int64_t[:] poisson_first_step not None,
           const int64_t[:] poisson_stop_step not None,
           const double[:, ::1] poisson_cdf not None,
           const int64_t[:] poisson_table_len not None,
           const double[:] poisson_lambda not None,
           const int64_t[:] dc_seg not None, const double[:] dc_amplitude not None,
           const int64_t[:] dc_first_step not None, const int64_t[:] dc_stop_step not None,
           int64_t first_step, int64_t n_steps, uint64_t seed,
           uint64_t[::1] spike_keys not None,
           const double[:, ::1] i_ext=None):  # IN [n_steps, n_local] pA; None / 0 rows: none
    """Re-emit the spikes arriving at all parrot neurons of this rank during ``n_steps``
    steps from ``first_step``. seg_params has one row per segment and no columns needed.
    Writes (lag << 32) | gid once per re-emitted spike (neuron-major order) and returns
    their number; raises OverflowError if they do not fit into spike_keys."""
    cdef Py_ssize_t n_local = ring.shape[1]
    check_update_args(n_local, PARROT_NUM_PARAMS, seg_begin, seg_end, seg_params, ring,
                      local_gids, poisson_seg, poisson_item, poisson_weight,
                      poisson_delay_steps, poisson_first_step, poisson_stop_step, poisson_cdf,
                      poisson_table_len, poisson_lambda, dc_seg, dc_amplitude, dc_first_step,
                      dc_stop_step, first_step, n_steps, spike_keys.shape[0])
    if i_ext is None:
        i_ext = NO_EXTERNAL_CURRENT
    check_external_current(i_ext, n_local, n_steps)
    cdef int64_t n_spikes
    with nogil:
        n_spikes = update_core(seg_begin, seg_end, ring, local_gids, poisson_seg, poisson_item,
                               poisson_weight, poisson_delay_steps, poisson_first_step,
                               poisson_stop_step, poisson_cdf, poisson_table_len,
                               poisson_lambda, dc_seg, dc_amplitude, dc_first_step,
                               dc_stop_step, first_step, n_steps, seed, spike_keys, i_ext)
    if n_spikes == -1:
        raise MemoryError("parrot_neuron.update: no memory for the per-call input index")
    if n_spikes == -2:
        raise ValueError("parrot_neuron.update: an input's segment index is out of range")
    if n_spikes == -3:
        raise OverflowError(f"parrot_neuron.update: more than {spike_keys.shape[0]} spikes "
                            "in one epoch")
    return n_spikes
