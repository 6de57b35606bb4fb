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
tol * (1 + h |y'_i|). The integration step size starts at the resolution dt (NEST 3.10's
init_buffers_; NEST before 3.10 started at min(0.01 ms, dt)) and carries over between steps
and Simulate calls (state ``ode_h``, kept in checkpoints). Spikes are handled inside each step, after every
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

from cython_kernels.inputs cimport InputPlan, SpikeSink, Workspace, emit_spike
from cython_kernels.block_input cimport gather_block
from cython_kernels.rkf45 cimport OdeArgs, evolve_apply

from cython_kernels.columns import columns_in_order

# seg_params columns by name, in column order (enum AeifCondExpParam, aeif_cond_exp.pxd):
# the network packs each segment's constants by name (network/neurons.bind_kernel).
SEGMENT_COLUMNS = columns_in_order(AEIF_NUM_PARAMS, V_peak=AEIF_V_PEAK, V_spike=AEIF_V_SPIKE,
                                   V_reset=AEIF_V_RESET, V_th=AEIF_V_TH, E_ex=AEIF_E_EX,
                                   E_in=AEIF_E_IN, E_L=AEIF_E_L, g_L=AEIF_G_L, C_m=AEIF_C_M,
                                   Delta_T=AEIF_DELTA_T, tau_w=AEIF_TAU_W, a=AEIF_A, b=AEIF_B,
                                   tau_syn_ex=AEIF_TAU_SYN_EX, tau_syn_in=AEIF_TAU_SYN_IN,
                                   I_e=AEIF_I_E, gsl_error_tol=AEIF_GSL_ERROR_TOL,
                                   refractory_counts=AEIF_REFRACTORY_COUNTS, h=AEIF_H)
# The state arrays `update` takes after seg_params, in its argument order (checked
# against its signature when the network binds the kernel).
STATE_ARGUMENTS = ("V_m", "g_ex", "g_in", "w", "i_0", "refractory", "ode_h")


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


cdef enum:
    AEIF_UNSTABLE = 1      # update_core's status: NEST's NumericalInstability


cdef int update_core(
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
        Workspace* ws,                       # IN  the plan's inputs and scratch for this call
        int64_t first_step, int64_t n_steps, uint64_t seed,
        SpikeSink* out,                      # OUT (lag << 32) | gid, neuron-major order
        const double[:, ::1] i_ext) noexcept nogil:  # IN [n_steps, n_local] pA or 0 rows
    """Returns 0, or AEIF_UNSTABLE (the neurons from the unstable one on are not updated)."""
    cdef double y[4]
    cdef OdeArgs args
    cdef double h, t, dt, E_L, V_spike, V_reset, b_jump, tol
    cdef int32_t r, refractory_counts
    cdef int64_t seg, b, i, j
    cdef int nb, lane
    cdef const double* dc
    cdef double i0
    cdef bint has_ext = i_ext.shape[0] > 0
    for seg in range(ws.n_seg):
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
            gather_block(ring, local_gids, b, nb, first_step, n_steps, ws, seed, seg)
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
                    h = dt      # NEST 3.10 init_buffers_: IntegrationStep_ = step_
                for j in range(n_steps):
                    args.I_stim = i0 + i_ext[j, i] if has_ext else i0
                    t = 0.0
                    while t < dt:
                        args.refractory = r
                        evolve_apply(rhs, &args, 4, &t, dt, &h, y, tol, tol, 0.0, 1.0)
                        if y[0] < -1e3 or y[3] < -1e6 or y[3] > 1e6:
                            return AEIF_UNSTABLE
                        if r > 0:
                            y[0] = V_reset
                        elif y[0] >= V_spike:
                            y[0] = V_reset
                            y[3] = y[3] + b_jump
                            r = refractory_counts + 1 if refractory_counts > 0 else 0
                            # t_ref = 0 allows several spikes in one step: the sink grows
                            emit_spike(out, (<uint64_t>j << 32) | <uint64_t>local_gids[i])
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
    return 0


def update(const int64_t[:] seg_begin not None, const int64_t[:] seg_end not None,
           const double[:, ::1] seg_params not None,
           double[::1] V_m not None, double[::1] g_ex not None, double[::1] g_in not None,
           double[::1] w not None, double[::1] i_0 not None,
           int32_t[::1] refractory not None, double[::1] ode_h not None,
           double[:, :, ::1] ring not None,
           const int64_t[:] local_gids not None,
           InputPlan plan not None, int64_t first_step, int64_t n_steps, uint64_t seed,
           uint64_t[::1] spike_keys not None, i_ext=None):
    """Advance all aeif_cond_exp neurons of this rank by ``n_steps`` steps from ``first_step``.

    seg_params columns: AeifCondExpParam (aeif_cond_exp.pxd). State: V_m (mV rel. E_L),
    g_ex, g_in (nS), w (pA), i_0 (pA), refractory (int32 steps), ode_h (ms). ``ring`` is
    (ring_len, n_local, 2) in nS (channel 1 negative); Poisson weights in nS. Plan, i_ext
    and spikes as in iaf_psc_exp.update; with t_ref = 0 a neuron may spike several times in
    one step, so the spikes may exceed len(spike_keys) (see plan.spilled_keys()).
    """
    cdef Py_ssize_t n_local = V_m.shape[0]
    if not (g_ex.shape[0] == n_local and g_in.shape[0] == n_local and w.shape[0] == n_local
            and i_0.shape[0] == n_local and refractory.shape[0] == n_local
            and ode_h.shape[0] == n_local):
        raise ValueError(f"V_m, g_ex, g_in, w, i_0, refractory, ode_h must all have "
                         f"n_local = {n_local} entries")
    cdef const double[:, ::1] ext = plan.begin(n_local, AEIF_NUM_PARAMS, seg_begin, seg_end,
                                               seg_params, ring, local_gids, first_step,
                                               n_steps, spike_keys, i_ext)
    cdef int status
    with nogil:
        status = update_core(seg_begin, seg_end, seg_params, V_m, g_ex, g_in, w, i_0,
                             refractory, ode_h, ring, local_gids, &plan.ws, first_step,
                             n_steps, seed, &plan.sink, ext)
    if status == AEIF_UNSTABLE:
        raise FloatingPointError("aeif_cond_exp.update: numerical instability (V_m < -1000 mV "
                                 "or |w| > 1e6 pA), as NEST's NumericalInstability")
    return plan.finish("aeif_cond_exp")
