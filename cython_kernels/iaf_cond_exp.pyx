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

from cython_kernels.inputs cimport InputPlan, SpikeSink, Workspace, emit_spike
from cython_kernels.block_input cimport gather_block
from cython_kernels.rkf45 cimport OdeArgs, integrate_dt

from cython_kernels.columns import columns_in_order

# seg_params columns by name, in column order (enum IafCondExpParam, iaf_cond_exp.pxd):
# the network packs each segment's constants by name (network/neurons.bind_kernel).
SEGMENT_COLUMNS = columns_in_order(CEXP_NUM_PARAMS, V_th=CEXP_V_TH, V_reset=CEXP_V_RESET,
                                   E_ex=CEXP_E_EX, E_in=CEXP_E_IN, E_L=CEXP_E_L, g_L=CEXP_G_L,
                                   C_m=CEXP_C_M, tau_syn_ex=CEXP_TAU_SYN_EX,
                                   tau_syn_in=CEXP_TAU_SYN_IN, I_e=CEXP_I_E,
                                   refractory_counts=CEXP_REFRACTORY_COUNTS, h=CEXP_H)
# The state arrays `update` takes after seg_params, in its argument order (checked
# against its signature when the network binds the kernel).
STATE_ARGUMENTS = ("V_m", "g_ex", "g_in", "i_0", "refractory", "ode_h")


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


cdef void update_core(
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
        Workspace* ws,                       # IN  the plan's inputs and scratch for this call
        int64_t first_step, int64_t n_steps, uint64_t seed,
        SpikeSink* out,                      # OUT (lag << 32) | gid, neuron-major order
        const double[:, ::1] i_ext) noexcept nogil:  # IN [n_steps, n_local] pA or 0 rows
    cdef double y[3]
    cdef OdeArgs args
    cdef double h, dt, E_L, V_th, V_reset
    cdef int32_t r, refractory_counts
    cdef int64_t seg, b, i, j
    cdef int nb, lane
    cdef const double* dc
    cdef double i0
    cdef bint has_ext = i_ext.shape[0] > 0
    for seg in range(ws.n_seg):
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
            gather_block(ring, local_gids, b, nb, first_step, n_steps, ws, seed, seg)
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
                        emit_spike(out, (<uint64_t>j << 32) | <uint64_t>local_gids[i])
                    i0 = dc[j]
                V_m[i] = y[0] - E_L
                g_ex[i] = y[1]
                g_in[i] = y[2]
                i_0[i] = i0
                refractory[i] = r
                ode_h[i] = h
            b += nb


def update(const int64_t[:] seg_begin not None, const int64_t[:] seg_end not None,
           const double[:, ::1] seg_params not None,
           double[::1] V_m not None, double[::1] g_ex not None, double[::1] g_in not None,
           double[::1] i_0 not None, int32_t[::1] refractory not None,
           double[::1] ode_h not None,
           double[:, :, ::1] ring not None,
           const int64_t[:] local_gids not None,
           InputPlan plan not None, int64_t first_step, int64_t n_steps, uint64_t seed,
           uint64_t[::1] spike_keys not None, i_ext=None):
    """Advance all iaf_cond_exp neurons of this rank by ``n_steps`` steps from ``first_step``.

    seg_params columns: IafCondExpParam (iaf_cond_exp.pxd). State: V_m (mV rel. E_L),
    g_ex, g_in (nS), i_0 (pA), refractory (int32 steps), ode_h (ms). ``ring`` is
    (ring_len, n_local, 2) in nS (channel 1 negative); Poisson weights in nS. Plan, i_ext
    and spikes as in iaf_psc_exp.update.
    """
    cdef Py_ssize_t n_local = V_m.shape[0]
    if not (g_ex.shape[0] == n_local and g_in.shape[0] == n_local and i_0.shape[0] == n_local
            and refractory.shape[0] == n_local and ode_h.shape[0] == n_local):
        raise ValueError(f"V_m, g_ex, g_in, i_0, refractory, ode_h must all have "
                         f"n_local = {n_local} entries")
    cdef const double[:, ::1] ext = plan.begin(n_local, CEXP_NUM_PARAMS, seg_begin, seg_end,
                                               seg_params, ring, local_gids, first_step,
                                               n_steps, spike_keys, i_ext)
    with nogil:
        update_core(seg_begin, seg_end, seg_params, V_m, g_ex, g_in, i_0, refractory, ode_h,
                    ring, local_gids, &plan.ws, first_step, n_steps, seed, &plan.sink, ext)
    return plan.finish("iaf_cond_exp")
