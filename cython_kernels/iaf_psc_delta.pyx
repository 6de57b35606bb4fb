# cython: language_level=3
"""NEST ``iaf_psc_delta`` (3.x): leaky integrate-and-fire with delta-shaped PSPs.

Same calling convention as iaf_psc_exp.update. Per step s (slot = s % ring_len), exactly
NEST's ``iaf_psc_delta::update``, with input = ring[slot,i,0] + ring[slot,i,1] + the Poisson
count*weight terms (mV) in entry order, the slot then cleared:

    if refractory == 0:
        V = P30*(i_stim + I_e) + P33*V + input
        if refractory_input and buffer != 0:  V += buffer; buffer = 0
        V = max(V, V_min)
    else:
        if refractory_input:  buffer += input * exp(-refractory * h / tau_m)
        refractory -= 1                     (input dropped when not refractory_input)
    if V >= theta:  refractory = refractory_counts; V = V_reset; emit spike at lag s - first
    i_0 = sum of the DC amplitudes active at s

i_stim = i_0 + i_ext[s - first, i] when i_ext has rows (noise_generator current), else i_0,
as NEST's single current buffer (see iaf_psc_exp).

Units: V (mV, relative to E_L), i_0 and I_e pA, h and tau_m ms.
"""
from libc.math cimport exp
from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t

from cython_kernels.inputs cimport (
    Workspace, workspace_alloc, workspace_free, prepare_inputs, add_poisson_block,
    poisson_batch_fn, brainsim_pick_poisson_batch, check_update_args,
    check_external_current,
)
from cython_kernels.inputs import NO_EXTERNAL_CURRENT


cdef int64_t update_core(
        const int64_t[:] seg_begin,          # IN  [begin, end) local index range per segment
        const int64_t[:] seg_end,            # IN
        const double[:, ::1] seg_params,     # IN  per segment, columns IafPscDeltaParam
        double[::1] V_m,                     # IN/OUT mV rel. E_L
        double[::1] i_0,                     # IN/OUT pA (DC of the previous step)
        int32_t[::1] refractory,             # IN/OUT steps left
        double[::1] refr_spikes_buffer,      # IN/OUT mV accumulated while refractory
        double[:, :, ::1] ring,              # IN/OUT (ring_len, n_local, 2) mV, slots read are cleared
        const int64_t[:] local_gids,         # IN
        const int64_t[:] poisson_seg,        # IN  one entry per (Poisson input, segment)
        const int64_t[:] poisson_item,       # IN
        const double[:] poisson_weight,      # IN  mV per spike
        const int64_t[:] poisson_delay_steps,  # IN
        const int64_t[:] poisson_first_step,   # IN  emission steps [first, stop)
        const int64_t[:] poisson_stop_step,    # IN
        const double[:, ::1] poisson_cdf,    # IN  CDF table per entry
        const int64_t[:] poisson_table_len,  # IN
        const double[:] poisson_lambda,      # IN  mean count per step
        const int64_t[:] dc_seg,             # IN  one entry per (DC input, segment)
        const double[:] dc_amplitude,        # IN  pA
        const int64_t[:] dc_first_step,      # IN  active steps [first, stop)
        const int64_t[:] dc_stop_step,       # IN
        int64_t first_step, int64_t n_steps, uint64_t seed,
        uint64_t[::1] spike_keys,            # OUT (lag << 32) | gid, neuron-major order
        const double[:, ::1] i_ext) noexcept nogil:  # IN [n_steps, n_local] pA or 0 rows
    """Returns the number of spikes, or -1 (out of memory), or -2 (bad segment index).
    Blocked like iaf_psc_exp.update_core; the per-neuron operation order is unchanged."""
    cdef Py_ssize_t n_seg = seg_begin.shape[0]
    cdef int64_t ring_len = ring.shape[0]
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

    cdef double P33, P30, I_e, theta, V_reset, V_min, h, tau_m
    cdef int32_t refractory_counts
    cdef bint refractory_input
    cdef double V, i0, buf, inp, stim
    cdef bint has_ext = i_ext.shape[0] > 0
    cdef int32_t r
    cdef int64_t seg, b, i, j, slot, slot0
    cdef int64_t n_spikes = 0
    cdef int nb, lane
    cdef double* inp_all = ws.ex
    cdef const double* dc

    for seg in range(n_seg):
        P33 = seg_params[seg, DELTA_P33]
        P30 = seg_params[seg, DELTA_P30]
        I_e = seg_params[seg, DELTA_I_E]
        theta = seg_params[seg, DELTA_THETA]
        V_reset = seg_params[seg, DELTA_V_RESET]
        V_min = seg_params[seg, DELTA_V_MIN]
        refractory_counts = <int32_t>seg_params[seg, DELTA_REFRACTORY_COUNTS]
        refractory_input = seg_params[seg, DELTA_REFRACTORY_INPUT] != 0.0
        h = seg_params[seg, DELTA_H]
        tau_m = seg_params[seg, DELTA_TAU_M]
        dc = ws.dc_current + seg * n_steps
        slot0 = first_step % ring_len
        b = seg_begin[seg]
        while b < seg_end[seg]:
            nb = <int>(seg_end[seg] - b if seg_end[seg] - b < ws.nb_max else ws.nb_max)
            # input = ring channel 0 + channel 1 (slot then cleared), then Poisson in entry order
            slot = slot0
            for j in range(n_steps):
                for lane in range(nb):
                    inp_all[j * nb + lane] = ring[slot, b + lane, 0] + ring[slot, b + lane, 1]
                    ring[slot, b + lane, 0] = 0.0
                    ring[slot, b + lane, 1] = 0.0
                slot += 1
                if slot == ring_len:
                    slot = 0
            if ws.p_ptr[seg + 1] > ws.p_ptr[seg]:
                for lane in range(nb):
                    ws.gids[lane] = <uint32_t>local_gids[b + lane]
                add_poisson_block(batch, seed, ws.entries + ws.p_ptr[seg],
                                  ws.p_ptr[seg + 1] - ws.p_ptr[seg], first_step, n_steps, nb,
                                  ws.gids, inp_all, inp_all, ws.u, ws.counts)
            for lane in range(nb):
                i = b + lane
                V = V_m[i]
                i0 = i_0[i]
                r = refractory[i]
                buf = refr_spikes_buffer[i]
                for j in range(n_steps):
                    inp = inp_all[j * nb + lane]
                    if r == 0:
                        stim = i0 + i_ext[j, i] if has_ext else i0
                        V = P30 * (stim + I_e) + P33 * V + inp
                        if refractory_input and buf != 0.0:
                            V = V + buf
                            buf = 0.0
                        if V < V_min:
                            V = V_min
                    else:
                        if refractory_input:
                            buf = buf + inp * exp(-<double>r * h / tau_m)
                        r -= 1
                    if V >= theta:
                        r = refractory_counts
                        V = V_reset
                        spike_keys[n_spikes] = (<uint64_t>j << 32) | <uint64_t>local_gids[i]
                        n_spikes += 1
                    i0 = dc[j]
                V_m[i] = V
                i_0[i] = i0
                refractory[i] = r
                refr_spikes_buffer[i] = buf
            b += nb
    workspace_free(&ws)
    return n_spikes


def update(const int64_t[:] seg_begin not None, const int64_t[:] seg_end not None,
           const double[:, ::1] seg_params not None,
           double[::1] V_m not None, double[::1] i_0 not None,
           int32_t[::1] refractory not None, double[::1] refr_spikes_buffer not None,
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
    """Advance all iaf_psc_delta neurons of this rank by ``n_steps`` steps from ``first_step``.

    seg_params columns: P33, P30, I_e (pA), theta = V_th - E_L (mV), V_reset - E_L (mV),
    V_min - E_L (mV, -inf allowed), refractory_counts (steps), refractory_input (0/1),
    tau_m (ms), h (ms) -- the last two for NEST's exp(-r * h / tau_m) discount of input
    arriving while refractory. State: V_m (mV rel. E_L), i_0 (pA), refractory (int32 steps),
    refr_spikes_buffer (mV). ``ring`` is (ring_len, n_local, 2) in mV, both channels summed.
    Spikes as in iaf_psc_exp.update; returns their number.
    """
    cdef Py_ssize_t n_local = V_m.shape[0]
    if not (i_0.shape[0] == n_local and refractory.shape[0] == n_local
            and refr_spikes_buffer.shape[0] == n_local):
        raise ValueError(f"V_m, i_0, refractory, refr_spikes_buffer must all have "
                         f"n_local = {n_local} entries")
    check_update_args(n_local, DELTA_NUM_PARAMS, seg_begin, seg_end, seg_params, ring,
                      local_gids, poisson_seg, poisson_item, poisson_weight,
                      poisson_delay_steps, poisson_first_step, poisson_stop_step, poisson_cdf,
                      poisson_table_len, poisson_lambda, dc_seg, dc_amplitude, dc_first_step,
                      dc_stop_step, first_step, n_steps, spike_keys.shape[0])
    if i_ext is None:
        i_ext = NO_EXTERNAL_CURRENT
    check_external_current(i_ext, n_local, n_steps)
    cdef int64_t n_spikes
    with nogil:
        n_spikes = update_core(seg_begin, seg_end, seg_params, V_m, i_0, refractory,
                               refr_spikes_buffer, ring, local_gids, poisson_seg, poisson_item,
                               poisson_weight, poisson_delay_steps, poisson_first_step,
                               poisson_stop_step, poisson_cdf, poisson_table_len,
                               poisson_lambda, dc_seg, dc_amplitude, dc_first_step,
                               dc_stop_step, first_step, n_steps, seed, spike_keys, i_ext)
    if n_spikes == -1:
        raise MemoryError("iaf_psc_delta.update: no memory for the per-call input index")
    if n_spikes < 0:
        raise ValueError("iaf_psc_delta.update: an input's segment index is out of range")
    return n_spikes


def propagators(double h, double tau_m, double C_m):
    """(P33, P30) of iaf_psc_delta for step h (ms), tau_m (ms), C_m (pF), as NEST:
    P33 = exp(-h/tau_m), P30 = 1/C_m * (1 - P33) * tau_m."""
    if not (h > 0 and tau_m > 0 and C_m > 0):
        raise ValueError(f"h, tau_m [ms] and C_m [pF] must be positive, got {h}, {tau_m}, {C_m}")
    cdef double P33 = exp(-h / tau_m)
    return (P33, 1 / C_m * (1 - P33) * tau_m)
