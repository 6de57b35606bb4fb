# cython: language_level=3
"""NEST ``aeif_cond_exp`` (3.10): adaptive exponential integrate-and-fire (AdEx),
exponential conductances.

Same calling convention as iaf_psc_exp.update. The ODE (y = V, g_ex, g_in, w; V absolute)

    C_m V' = -g_L (V' - E_L) + g_L Delta_T exp((V' - V_th)/Delta_T)
             - g_ex (V' - E_ex) - g_in (V' - E_in) - w + I_e + i_0
    g_ex' = -g_ex / tau_syn_ex,  g_in' = -g_in / tau_syn_in,  tau_w w' = a (V' - E_L) - w

with V' = V_reset while refractory (and then dV/dt = 0), else min(V, V_peak), and no
exponential term when Delta_T = 0, is integrated by GSL's adaptive RKF45 (rkf45.pxd) with
NEST's control gsl_odeiv_control_yp_new(gsl_error_tol, gsl_error_tol): D_i =
tol * (1 + h |y'_i|). The integration step size starts at min(0.01 ms, dt) and carries
over between steps (state ``ode_h``). Spikes are handled inside each step, after every
accepted RKF45 step, as NEST does (so spike-driven adaptation acts within the step):

    if refractory > 0:  V = V_reset
    elif V >= V_spike (V_peak, or V_th when Delta_T = 0):
        V = V_reset; w += b; refractory = refractory_counts + 1 if refractory_counts > 0 else 0
        emit spike at lag s - first (several per step are possible when t_ref = 0)

then, once per step: refractory -= 1 if > 0; g_ex += in_ex; g_in -= in_in (nS, inhibitory
weights negative); i_0 = the DC of step s. NEST's instability check (V < -1e3 mV or
|w| > 1e6 pA) makes update raise FloatingPointError.
The I_stim of the ODE in step s is i_0 + i_ext[s - first, i] when i_ext has rows
(noise_generator current, pA), else i_0 (NEST's single current buffer).
"""
from libc.math cimport exp
from libc.stdint cimport int32_t, int64_t, uint64_t

from cython_kernels.inputs cimport (
    Workspace, workspace_alloc, workspace_free, prepare_inputs,
    poisson_batch_fn, brainsim_pick_poisson_batch, check_update_args,
    check_external_current,
)
from cython_kernels.inputs import NO_EXTERNAL_CURRENT
from cython_kernels.block_input cimport gather_block
from cython_kernels.rkf45 cimport OdeArgs, evolve_apply


cdef void rhs(const double* y, double* f, const OdeArgs* a) noexcept nogil:
    """NEST aeif_cond_exp_dynamics; y = V, g_ex, g_in, w."""
    cdef const double* p = a.p
    cdef bint is_refractory = a.refractory > 0
    cdef double V
    if is_refractory:
        V = p[AEIF_V_RESET]
    else:
        V = y[0] if y[0] < p[AEIF_V_PEAK] else p[AEIF_V_PEAK]
    cdef double g_ex = y[1]
    cdef double g_in = y[2]
    cdef double w = y[3]
    cdef double I_syn_exc = g_ex * (V - p[AEIF_E_EX])
    cdef double I_syn_inh = g_in * (V - p[AEIF_E_IN])
    cdef double I_spike = 0.0
    if p[AEIF_DELTA_T] != 0.0:
        I_spike = p[AEIF_G_L] * p[AEIF_DELTA_T] * exp((V - p[AEIF_V_TH]) / p[AEIF_DELTA_T])
    if is_refractory:
        f[0] = 0.0
    else:
        f[0] = (-p[AEIF_G_L] * (V - p[AEIF_E_L]) + I_spike - I_syn_exc - I_syn_inh - w
                + p[AEIF_I_E] + a.I_stim) / p[AEIF_C_M]
    f[1] = -g_ex / p[AEIF_TAU_SYN_EX]
    f[2] = -g_in / p[AEIF_TAU_SYN_IN]
    f[3] = (p[AEIF_A] * (V - p[AEIF_E_L]) - w) / p[AEIF_TAU_W]


cdef int64_t update_core(
        const int64_t[:] seg_begin, const int64_t[:] seg_end,
        const double[:, ::1] seg_params,     # IN  per segment, columns AeifCondExpParam
        double[::1] V_m,                     # IN/OUT mV rel. E_L
        double[::1] g_ex,                    # IN/OUT nS
        double[::1] g_in,                    # IN/OUT nS (>= 0)
        double[::1] w,                       # IN/OUT pA adaptation current
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
    """Returns the number of spikes, or -1 (out of memory), -2 (bad segment index),
    -3 (spike_keys full), -4 (numerical instability)."""
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
    cdef double y[4]
    cdef OdeArgs args
    cdef double h, t, dt, E_L, V_spike, V_reset, b_jump, tol
    cdef int32_t r, refractory_counts
    cdef int64_t seg, b, i, j
    cdef int64_t n_spikes = 0
    cdef int nb, lane
    cdef const double* dc
    cdef double i0
    cdef bint has_ext = i_ext.shape[0] > 0
    for seg in range(n_seg):
        args.p = &seg_params[seg, 0]
        E_L = args.p[AEIF_E_L]
        V_spike = args.p[AEIF_V_SPIKE]
        V_reset = args.p[AEIF_V_RESET]
        b_jump = args.p[AEIF_B]
        tol = args.p[AEIF_GSL_ERROR_TOL]
        dt = args.p[AEIF_H]
        refractory_counts = <int32_t>args.p[AEIF_REFRACTORY_COUNTS]
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
                y[3] = w[i]
                i0 = i_0[i]
                r = refractory[i]
                h = ode_h[i]
                if not h > 0.0:
                    h = 0.01 if 0.01 < dt else dt
                for j in range(n_steps):
                    args.I_stim = i0 + i_ext[j, i] if has_ext else i0
                    t = 0.0
                    while t < dt:
                        args.refractory = r
                        evolve_apply(rhs, &args, 4, &t, dt, &h, y, tol, tol, 0.0, 1.0)
                        if y[0] < -1e3 or y[3] < -1e6 or y[3] > 1e6:
                            workspace_free(&ws)
                            return -4
                        if r > 0:
                            y[0] = V_reset
                        elif y[0] >= V_spike:
                            y[0] = V_reset
                            y[3] = y[3] + b_jump
                            r = refractory_counts + 1 if refractory_counts > 0 else 0
                            if n_spikes == capacity:
                                workspace_free(&ws)
                                return -3
                            spike_keys[n_spikes] = ((<uint64_t>j << 32)
                                                    | <uint64_t>local_gids[i])
                            n_spikes += 1
                    if r > 0:
                        r -= 1
                    y[1] = y[1] + ws.ex[j * nb + lane]
                    y[2] = y[2] - ws.inh[j * nb + lane]
                    i0 = dc[j]
                V_m[i] = y[0] - E_L
                g_ex[i] = y[1]
                g_in[i] = y[2]
                w[i] = y[3]
                i_0[i] = i0
                refractory[i] = r
                ode_h[i] = h
            b += nb
    workspace_free(&ws)
    return n_spikes


def update(const int64_t[:] seg_begin not None, const int64_t[:] seg_end not None,
           const double[:, ::1] seg_params not None,
           double[::1] V_m not None, double[::1] g_ex not None, double[::1] g_in not None,
           double[::1] w not None, double[::1] i_0 not None,
           int32_t[::1] refractory not None, double[::1] ode_h not None,
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
    """Advance all aeif_cond_exp neurons of this rank by ``n_steps`` steps from ``first_step``.

    seg_params columns: AeifCondExpParam (aeif_cond_exp.pxd). State: V_m (mV rel. E_L),
    g_ex, g_in (nS), w (pA), i_0 (pA), refractory (int32 steps), ode_h (ms). ``ring`` is
    (ring_len, n_local, 2) in nS (channel 1 negative). Returns the number of spikes.
    """
    cdef Py_ssize_t n_local = V_m.shape[0]
    if not (g_ex.shape[0] == n_local and g_in.shape[0] == n_local and w.shape[0] == n_local
            and i_0.shape[0] == n_local and refractory.shape[0] == n_local
            and ode_h.shape[0] == n_local):
        raise ValueError(f"V_m, g_ex, g_in, w, i_0, refractory, ode_h must all have "
                         f"n_local = {n_local} entries")
    check_update_args(n_local, AEIF_NUM_PARAMS, seg_begin, seg_end, seg_params, ring,
                      local_gids, poisson_seg, poisson_item, poisson_weight,
                      poisson_delay_steps, poisson_first_step, poisson_stop_step, poisson_cdf,
                      poisson_table_len, poisson_lambda, dc_seg, dc_amplitude, dc_first_step,
                      dc_stop_step, first_step, n_steps, spike_keys.shape[0])
    if i_ext is None:
        i_ext = NO_EXTERNAL_CURRENT
    check_external_current(i_ext, n_local, n_steps)
    cdef int64_t n_spikes
    with nogil:
        n_spikes = update_core(seg_begin, seg_end, seg_params, V_m, g_ex, g_in, w, i_0,
                               refractory, ode_h, ring, local_gids, poisson_seg, poisson_item,
                               poisson_weight, poisson_delay_steps, poisson_first_step,
                               poisson_stop_step, poisson_cdf, poisson_table_len,
                               poisson_lambda, dc_seg, dc_amplitude, dc_first_step,
                               dc_stop_step, first_step, n_steps, seed, spike_keys, i_ext)
    if n_spikes == -1:
        raise MemoryError("aeif_cond_exp.update: no memory for the per-call input index")
    if n_spikes == -2:
        raise ValueError("aeif_cond_exp.update: an input's segment index is out of range")
    if n_spikes == -3:
        raise OverflowError(f"aeif_cond_exp.update: more than {spike_keys.shape[0]} spikes "
                            "in one epoch (several spikes per step need t_ref > 0 or less "
                            "input)")
    if n_spikes == -4:
        raise FloatingPointError("aeif_cond_exp.update: numerical instability (V_m < -1000 mV "
                                 "or |w| > 1e6 pA), as NEST's NumericalInstability")
    return n_spikes
