# cython: language_level=3
"""NEST ``iaf_psc_alpha`` (3.10): leaky integrate-and-fire, alpha-shaped current synapses.

Same calling convention as iaf_psc_exp.update. Per step s (slot = s % ring_len), exactly
NEST's ``iaf_psc_alpha::update`` (exact integration; V relative to E_L):

    if refractory == 0:
        V = P30*(i_stim + I_e) + P31ex*dI_ex + P32ex*I_ex + P31in*dI_in + P32in*I_in
            + expm1_tau_m*V + V
        V = max(V, V_min)
    else:  refractory -= 1
    I_ex = P21ex*dI_ex + P11ex*I_ex;  dI_ex *= P11ex;  dI_ex += e/tau_syn_ex * in_ex
    I_in = P21in*dI_in + P11in*I_in;  dI_in *= P11in;  dI_in += e/tau_syn_in * in_in
    if V >= theta:  refractory = refractory_counts; V = V_reset; emit spike at lag s - first
    i_0 = sum of the DC amplitudes active at s

i_stim = i_0 + i_ext[s - first, i] when i_ext has rows (noise_generator current), else i_0,
as NEST's single current buffer (see iaf_psc_exp).
in_ex / in_in: ring[slot, i, 0 / 1] + the Poisson count*weight terms of that sign, in entry
order; the slot is then cleared. A weight w (pA) gives a PSC of peak w at t = tau_syn.
Units: V mV, I_ex / I_in pA, dI_ex / dI_in pA/ms, i_0 and I_e pA.
"""
import math

from libc.math cimport exp, expm1, fabs
from libc.stdint cimport int32_t, int64_t, uint64_t

from cython_kernels.inputs cimport InputPlan, SpikeSink, Workspace, emit_spike
from cython_kernels.block_input cimport gather_block

from cython_kernels.columns import columns_in_order

# seg_params columns by name, in column order (enum IafPscAlphaParam, iaf_psc_alpha.pxd):
# the network packs each segment's constants by name (network/neurons.bind_kernel).
SEGMENT_COLUMNS = columns_in_order(ALPHA_NUM_PARAMS, P11ex=ALPHA_P11EX, P11in=ALPHA_P11IN,
                                   P21ex=ALPHA_P21EX, P21in=ALPHA_P21IN, P30=ALPHA_P30,
                                   P31ex=ALPHA_P31EX, P32ex=ALPHA_P32EX, P31in=ALPHA_P31IN,
                                   P32in=ALPHA_P32IN, expm1_tau_m=ALPHA_EXPM1_TAU_M,
                                   epsc_init=ALPHA_EPSC_INIT, ipsc_init=ALPHA_IPSC_INIT,
                                   I_e=ALPHA_I_E, theta=ALPHA_THETA, V_reset=ALPHA_V_RESET,
                                   lower_bound=ALPHA_LOWER_BOUND,
                                   refractory_counts=ALPHA_REFRACTORY_COUNTS)
# The state arrays `update` takes after seg_params, in its argument order (checked
# against its signature when the network binds the kernel).
STATE_ARGUMENTS = ("V_m", "i_syn_ex", "di_syn_ex", "i_syn_in", "di_syn_in", "i_0", "refractory")


cdef void update_core(
        const int64_t[:] seg_begin,          # IN  [begin, end) local index range per segment
        const int64_t[:] seg_end,            # IN
        const double[:, ::1] seg_params,     # IN  per segment, columns IafPscAlphaParam
        double[::1] V_m,                     # IN/OUT mV rel. E_L
        double[::1] i_syn_ex,                # IN/OUT pA
        double[::1] di_syn_ex,               # IN/OUT pA/ms
        double[::1] i_syn_in,                # IN/OUT pA
        double[::1] di_syn_in,               # IN/OUT pA/ms
        double[::1] i_0,                     # IN/OUT pA (DC of the previous step)
        int32_t[::1] refractory,             # IN/OUT steps left
        double[:, :, ::1] ring,              # IN/OUT (ring_len, n_local, 2) pA, slots read are cleared
        const int64_t[:] local_gids,         # IN
        Workspace* ws,                       # IN  the plan's inputs and scratch for this call
        int64_t first_step, int64_t n_steps, uint64_t seed,
        SpikeSink* out,                      # OUT (lag << 32) | gid, neuron-major order
        const double[:, ::1] i_ext) noexcept nogil:  # IN [n_steps, n_local] pA or 0 rows
    cdef double P11ex, P11in, P21ex, P21in, P30, P31ex, P32ex, P31in, P32in, expm1_tau_m
    cdef double epsc_init, ipsc_init, I_e, theta, V_reset, lower_bound
    cdef int32_t refractory_counts
    cdef double V, Iex, dIex, Iin, dIin, i0, stim
    cdef bint has_ext = i_ext.shape[0] > 0
    cdef int32_t r
    cdef int64_t seg, b, i, j
    cdef int nb, lane
    cdef const double* dc
    cdef const double* row
    for seg in range(ws.n_seg):
        row = &seg_params[seg, 0]
        P11ex = row[ALPHA_P11EX]
        P11in = row[ALPHA_P11IN]
        P21ex = row[ALPHA_P21EX]
        P21in = row[ALPHA_P21IN]
        P30 = row[ALPHA_P30]
        P31ex = row[ALPHA_P31EX]
        P32ex = row[ALPHA_P32EX]
        P31in = row[ALPHA_P31IN]
        P32in = row[ALPHA_P32IN]
        expm1_tau_m = row[ALPHA_EXPM1_TAU_M]
        epsc_init = row[ALPHA_EPSC_INIT]
        ipsc_init = row[ALPHA_IPSC_INIT]
        I_e = row[ALPHA_I_E]
        theta = row[ALPHA_THETA]
        V_reset = row[ALPHA_V_RESET]
        lower_bound = row[ALPHA_LOWER_BOUND]
        refractory_counts = <int32_t>row[ALPHA_REFRACTORY_COUNTS]
        dc = ws.dc_current + seg * n_steps
        b = seg_begin[seg]
        while b < seg_end[seg]:
            nb = <int>(seg_end[seg] - b if seg_end[seg] - b < ws.nb_max else ws.nb_max)
            gather_block(ring, local_gids, b, nb, first_step, n_steps, ws, seed, seg)
            for lane in range(nb):
                i = b + lane
                V = V_m[i]
                Iex = i_syn_ex[i]
                dIex = di_syn_ex[i]
                Iin = i_syn_in[i]
                dIin = di_syn_in[i]
                i0 = i_0[i]
                r = refractory[i]
                for j in range(n_steps):
                    if r == 0:
                        stim = i0 + i_ext[j, i] if has_ext else i0
                        V = (P30 * (stim + I_e) + P31ex * dIex + P32ex * Iex + P31in * dIin
                             + P32in * Iin + expm1_tau_m * V + V)
                        V = lower_bound if V < lower_bound else V
                    else:
                        r -= 1
                    Iex = P21ex * dIex + P11ex * Iex
                    dIex = dIex * P11ex
                    dIex = dIex + epsc_init * ws.ex[j * nb + lane]
                    Iin = P21in * dIin + P11in * Iin
                    dIin = dIin * P11in
                    dIin = dIin + ipsc_init * ws.inh[j * nb + lane]
                    if V >= theta:
                        r = refractory_counts
                        V = V_reset
                        emit_spike(out, (<uint64_t>j << 32) | <uint64_t>local_gids[i])
                    i0 = dc[j]
                V_m[i] = V
                i_syn_ex[i] = Iex
                di_syn_ex[i] = dIex
                i_syn_in[i] = Iin
                di_syn_in[i] = dIin
                i_0[i] = i0
                refractory[i] = r
            b += nb


def update(const int64_t[:] seg_begin not None, const int64_t[:] seg_end not None,
           const double[:, ::1] seg_params not None,
           double[::1] V_m not None, double[::1] i_syn_ex not None,
           double[::1] di_syn_ex not None, double[::1] i_syn_in not None,
           double[::1] di_syn_in not None, double[::1] i_0 not None,
           int32_t[::1] refractory not None,
           double[:, :, ::1] ring not None,
           const int64_t[:] local_gids not None,
           InputPlan plan not None, int64_t first_step, int64_t n_steps, uint64_t seed,
           uint64_t[::1] spike_keys not None, i_ext=None):
    """Advance all iaf_psc_alpha neurons of this rank by ``n_steps`` steps from ``first_step``.

    seg_params columns: see IafPscAlphaParam in iaf_psc_alpha.pxd (``segment_constants``
    computes them). State: V_m (mV rel. E_L), i_syn_ex, i_syn_in (pA), di_syn_ex, di_syn_in
    (pA/ms), i_0 (pA), refractory (int32 steps). ``ring`` is (ring_len, n_local, 2) in pA;
    Poisson weights in pA. Plan, i_ext and spikes as in iaf_psc_exp.update.
    """
    cdef Py_ssize_t n_local = V_m.shape[0]
    if not (i_syn_ex.shape[0] == n_local and di_syn_ex.shape[0] == n_local
            and i_syn_in.shape[0] == n_local and di_syn_in.shape[0] == n_local
            and i_0.shape[0] == n_local and refractory.shape[0] == n_local):
        raise ValueError(f"V_m, i_syn_ex, di_syn_ex, i_syn_in, di_syn_in, i_0, refractory "
                         f"must all have n_local = {n_local} entries")
    cdef const double[:, ::1] ext = plan.begin(n_local, ALPHA_NUM_PARAMS, seg_begin, seg_end,
                                               seg_params, ring, local_gids, first_step,
                                               n_steps, spike_keys, i_ext)
    with nogil:
        update_core(seg_begin, seg_end, seg_params, V_m, i_syn_ex, di_syn_ex, i_syn_in,
                    di_syn_in, i_0, refractory, ring, local_gids, &plan.ws, first_step,
                    n_steps, seed, &plan.sink, ext)
    return plan.finish("iaf_psc_alpha")


def propagators_alpha(double tau_syn, double tau_m, double c_m, double h):
    """NEST 3.10 PropagatorAlpha::evaluate (libnestutil/propagator_stability.cpp): (P31, P32),
    the effect of dI (pA/ms) and I (pA) on V over one step h (ms), in mV per unit, with
    NEST's switch to the singular forms when tau_m ~ tau_syn."""
    cdef double alpha = 1 / (c_m * tau_m * tau_m) * (tau_syn - tau_m)
    cdef double beta = tau_syn * tau_m / (tau_m - tau_syn) if tau_m != tau_syn else math.inf
    cdef double gamma = beta / c_m
    cdef double exp_h_tau_syn = exp(-h / tau_syn)
    cdef double expm1_h_tau = expm1(-h / tau_m + h / tau_syn)
    cdef double P31 = gamma * exp_h_tau_syn * (beta * expm1_h_tau - h)
    cdef double P32 = gamma * exp_h_tau_syn * expm1_h_tau
    cdef double exp_h_tau, P31_singular, P31_linear, P32_singular, P32_linear
    if fabs(tau_m - tau_syn) < 0.1:
        exp_h_tau = exp(-h / tau_m)
        P31_singular = h * h / 2 / c_m * exp_h_tau
        if tau_m == tau_syn:
            P31 = P31_singular
        else:
            P31_linear = alpha * h * h * h * exp_h_tau / 3.
            if fabs(P31 - P31_singular) > 2 * fabs(P31_linear):
                P31 = P31_singular
        P32_singular = h / c_m * exp_h_tau
        if tau_m == tau_syn:
            P32 = P32_singular
        else:
            P32_linear = alpha * h * h * exp_h_tau / 2.
            if fabs(P32 - P32_singular) > 2 * fabs(P32_linear):
                P32 = P32_singular
    return (P31, P32)


def segment_constants(double h, double tau_m, double C_m, double tau_syn_ex,
                      double tau_syn_in, double I_e, double theta, double V_reset,
                      double lower_bound, int64_t refractory_counts):
    """The seg_params constants by column name (SEGMENT_COLUMNS) as NEST's
    iaf_psc_alpha::pre_run_hook computes them: h, tau_* in ms, C_m pF, I_e pA, theta /
    V_reset / lower_bound in mV relative to E_L, refractory_counts in steps."""
    if not (h > 0 and tau_m > 0 and C_m > 0 and tau_syn_ex > 0 and tau_syn_in > 0):
        raise ValueError(f"h, tau_m, tau_syn_ex, tau_syn_in [ms] and C_m [pF] must be "
                         f"positive, got {h}, {tau_m}, {tau_syn_ex}, {tau_syn_in}, {C_m}")
    cdef double P11ex = exp(-h / tau_syn_ex)
    cdef double P11in = exp(-h / tau_syn_in)
    cdef double expm1_tau_m = expm1(-h / tau_m)
    cdef double P30 = -tau_m / C_m * expm1(-h / tau_m)
    P31ex, P32ex = propagators_alpha(tau_syn_ex, tau_m, C_m, h)
    P31in, P32in = propagators_alpha(tau_syn_in, tau_m, C_m, h)
    cdef double e = 2.718281828459045
    return {"P11ex": P11ex, "P11in": P11in, "P21ex": h * P11ex, "P21in": h * P11in,
            "P30": P30, "P31ex": P31ex, "P32ex": P32ex, "P31in": P31in, "P32in": P32in,
            "expm1_tau_m": expm1_tau_m, "epsc_init": 1.0 * e / tau_syn_ex,
            "ipsc_init": 1.0 * e / tau_syn_in, "I_e": I_e, "theta": theta,
            "V_reset": V_reset, "lower_bound": lower_bound,
            "refractory_counts": float(refractory_counts)}
