# cython: language_level=3
"""NEST ``iaf_cond_exp`` (3.10): leaky integrate-and-fire, exponential conductances.

Same calling convention as iaf_psc_exp.update. The ODE (y = V, g_ex, g_in; V absolute)

    V' = (-g_L (V' - E_L) - g_ex (V' - E_ex) - g_in (V' - E_in) + I_e + i_0) / C_m
    g_ex' = -g_ex / tau_syn_ex,  g_in' = -g_in / tau_syn_in

with V' = V_reset while refractory (and then dV/dt = 0), else min(V, V_th), is integrated
over each step by GSL's adaptive RKF45 (rkf45.pxd; absolute error 1e-3, relative 0, on y,
as NEST's gsl_odeiv_control_y_new(1e-3, 0.0)); the step size carries over between steps
(state ``ode_h``, 0 = not started: the first step tries h = dt). Then, per step s:

    g_ex += in_ex (nS);  g_in -= in_in  (inhibitory weights are negative, NEST's sign rule)
    if refractory:  refractory -= 1; V = V_reset
    elif V >= V_th: refractory = refractory_counts; V = V_reset; emit spike at lag s - first
    i_0 = sum of the DC amplitudes active at s

i_stim: the I_stim of the ODE in step s = i_0 + i_ext[s - first, i] when i_ext has
rows (noise_generator current, pA), else i_0 (NEST's single current buffer).

State V_m is kept relative to E_L like the other models (converted once per call).
"""
from libc.stdint cimport int32_t, int64_t, uint64_t

from cython_kernels.inputs cimport (
    Workspace, workspace_alloc, workspace_free, prepare_inputs,
    poisson_batch_fn, brainsim_pick_poisson_batch, check_update_args,
    check_external_current,
)
from cython_kernels.inputs import NO_EXTERNAL_CURRENT
from cython_kernels.block_input cimport gather_block
from cython_kernels.rkf45 cimport OdeArgs, integrate_dt


cdef void rhs(const double* y, double* f, const OdeArgs* a) noexcept nogil:
    """NEST iaf_cond_exp_dynamics."""
    cdef const double* p = a.p
    cdef double V
    if a.refractory > 0:
        V = p[CEXP_V_RESET]
    else:
        V = y[0] if y[0] < p[CEXP_V_TH] else p[CEXP_V_TH]
    cdef double I_syn_exc = y[1] * (V - p[CEXP_E_EX])
    cdef double I_syn_inh = y[2] * (V - p[CEXP_E_IN])
    cdef double I_L = p[CEXP_G_L] * (V - p[CEXP_E_L])
    if a.refractory > 0:
        f[0] = 0.0
    else:
        f[0] = (-I_L + a.I_stim + p[CEXP_I_E] - I_syn_exc - I_syn_inh) / p[CEXP_C_M]
    f[1] = -y[1] / p[CEXP_TAU_SYN_EX]
    f[2] = -y[2] / p[CEXP_TAU_SYN_IN]


cdef int64_t update_core(
        const int64_t[:] seg_begin, const int64_t[:] seg_end,
        const double[:, ::1] seg_params,     # IN  per segment, columns IafCondExpParam
        double[::1] V_m,                     # IN/OUT mV rel. E_L
        double[::1] g_ex,                    # IN/OUT nS
        double[::1] g_in,                    # IN/OUT nS (>= 0)
        double[::1] i_0,                     # IN/OUT pA (DC of the previous step)
        int32_t[::1] refractory,             # IN/OUT steps left
        double[::1] ode_h,                   # IN/OUT ms, RKF45 step size (0: not started)
        double[:, :, ::1] ring,              # IN/OUT (ring_len, n_local, 2) nS, slots read are cleared
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
    """Returns the number of spikes, or -1 (out of memory), or -2 (bad segment index)."""
    cdef Py_ssize_t n_seg = seg_begin.shape[0]
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
    cdef double y[3]
    cdef OdeArgs args
    cdef double h, dt, E_L, V_th, V_reset
    cdef int32_t r, refractory_counts
    cdef int64_t seg, b, i, j
    cdef int64_t n_spikes = 0
    cdef int nb, lane
    cdef const double* dc
    cdef double i0
    cdef bint has_ext = i_ext.shape[0] > 0
    for seg in range(n_seg):
        args.p = &seg_params[seg, 0]
        E_L = args.p[CEXP_E_L]
        V_th = args.p[CEXP_V_TH]
        V_reset = args.p[CEXP_V_RESET]
        dt = args.p[CEXP_H]
        refractory_counts = <int32_t>args.p[CEXP_REFRACTORY_COUNTS]
        dc = ws.dc_current + seg * n_steps
        b = seg_begin[seg]
        while b < seg_end[seg]:
            nb = <int>(seg_end[seg] - b if seg_end[seg] - b < ws.nb_max else ws.nb_max)
            gather_block(ring, local_gids, b, nb, first_step, n_steps, &ws, batch, seed,
                         ws.entries + ws.p_ptr[seg], ws.p_ptr[seg + 1] - ws.p_ptr[seg])
            for lane in range(nb):
                i = b + lane
                y[0] = V_m[i] + E_L
                y[1] = g_ex[i]
                y[2] = g_in[i]
                i0 = i_0[i]
                r = refractory[i]
                h = ode_h[i] if ode_h[i] > 0.0 else dt
                for j in range(n_steps):
                    args.I_stim = i0 + i_ext[j, i] if has_ext else i0
                    args.refractory = r
                    integrate_dt(rhs, &args, 3, dt, &h, y, 1e-3, 0.0, 1.0, 0.0)
                    y[1] = y[1] + ws.ex[j * nb + lane]
                    y[2] = y[2] - ws.inh[j * nb + lane]
                    if r > 0:
                        r -= 1
                        y[0] = V_reset
                    elif y[0] >= V_th:
                        r = refractory_counts
                        y[0] = V_reset
                        spike_keys[n_spikes] = (<uint64_t>j << 32) | <uint64_t>local_gids[i]
                        n_spikes += 1
                    i0 = dc[j]
                V_m[i] = y[0] - E_L
                g_ex[i] = y[1]
                g_in[i] = y[2]
                i_0[i] = i0
                refractory[i] = r
                ode_h[i] = h
            b += nb
    workspace_free(&ws)
    return n_spikes


def update(const int64_t[:] seg_begin not None, const int64_t[:] seg_end not None,
           const double[:, ::1] seg_params not None,
           double[::1] V_m not None, double[::1] g_ex not None, double[::1] g_in not None,
           double[::1] i_0 not None, int32_t[::1] refractory not None,
           double[::1] ode_h not None,
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
    """Advance all iaf_cond_exp neurons of this rank by ``n_steps`` steps from ``first_step``.

    seg_params columns: IafCondExpParam (iaf_cond_exp.pxd). State: V_m (mV rel. E_L),
    g_ex, g_in (nS), i_0 (pA), refractory (int32 steps), ode_h (ms). ``ring`` is
    (ring_len, n_local, 2) in nS (channel 1 negative). Returns the number of spikes.
    """
    cdef Py_ssize_t n_local = V_m.shape[0]
    if not (g_ex.shape[0] == n_local and g_in.shape[0] == n_local and i_0.shape[0] == n_local
            and refractory.shape[0] == n_local and ode_h.shape[0] == n_local):
        raise ValueError(f"V_m, g_ex, g_in, i_0, refractory, ode_h must all have "
                         f"n_local = {n_local} entries")
    check_update_args(n_local, CEXP_NUM_PARAMS, seg_begin, seg_end, seg_params, ring,
                      local_gids, poisson_seg, poisson_item, poisson_weight,
                      poisson_delay_steps, poisson_first_step, poisson_stop_step, poisson_cdf,
                      poisson_table_len, poisson_lambda, dc_seg, dc_amplitude, dc_first_step,
                      dc_stop_step, first_step, n_steps, spike_keys.shape[0])
    if i_ext is None:
        i_ext = NO_EXTERNAL_CURRENT
    check_external_current(i_ext, n_local, n_steps)
    cdef int64_t n_spikes
    with nogil:
        n_spikes = update_core(seg_begin, seg_end, seg_params, V_m, g_ex, g_in, i_0,
                               refractory, ode_h, ring, local_gids, poisson_seg, poisson_item,
                               poisson_weight, poisson_delay_steps, poisson_first_step,
                               poisson_stop_step, poisson_cdf, poisson_table_len,
                               poisson_lambda, dc_seg, dc_amplitude, dc_first_step,
                               dc_stop_step, first_step, n_steps, seed, spike_keys, i_ext)
    if n_spikes == -1:
        raise MemoryError("iaf_cond_exp.update: no memory for the per-call input index")
    if n_spikes < 0:
        raise ValueError("iaf_cond_exp.update: an input's segment index is out of range")
    return n_spikes
