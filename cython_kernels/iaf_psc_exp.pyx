# cython: language_level=3
"""NEST ``iaf_psc_exp`` (3.x): leaky integrate-and-fire, exponential current synapses.

One call advances every neuron of every population segment of this model over one epoch of
``n_steps`` steps, neuron by neuron (each neuron runs all its steps in one go). Per step s
(absolute step; slot = s % ring_len), exactly NEST's ``iaf_psc_exp::update``:

    if refractory == 0:  V = V*P22 + i_ex*P21ex + i_in*P21in + (I_e + i_stim)*P20
    else:                refractory -= 1
    i_ex *= P11ex;  i_in *= P11in
    in_ex = ring[slot, i, 0] + sum of count*weight of the Poisson inputs with weight >= 0
    in_in = ring[slot, i, 1] + sum of count*weight of the Poisson inputs with weight < 0
    i_ex += in_ex;  i_in += in_in;  ring[slot, i, :] = 0
    if V >= theta:  refractory = refractory_counts; V = V_reset; emit spike at lag s - first
    i_0 = sum of the DC amplitudes active at s

i_stim = i_0 + i_ext[s - first, i] when i_ext has rows (noise_generator current of step s),
else i_0: NEST sums every current generator into one buffer (dc_generator first, then
noise_generator, in creation order) and uses it as i_0 in the next step's update.

Units: V (mV, relative to E_L), currents pA, times ms, steps integers.
"""
from libc.math cimport exp, expm1, fabs
from libc.stdint cimport int32_t, int64_t, uint64_t

from cython_kernels.inputs cimport InputPlan, SpikeSink, Workspace, emit_spike
from cython_kernels.block_input cimport gather_block

from cython_kernels.columns import columns_in_order

# seg_params columns by name, in column order (enum IafPscExpParam, iaf_psc_exp.pxd):
# the network packs each segment's constants by name (network/neurons.bind_kernel).
SEGMENT_COLUMNS = columns_in_order(EXP_NUM_PARAMS, P22=EXP_P22, P21ex=EXP_P21EX,
                                   P21in=EXP_P21IN, P20=EXP_P20, P11ex=EXP_P11EX,
                                   P11in=EXP_P11IN, I_e=EXP_I_E, theta=EXP_THETA,
                                   V_reset=EXP_V_RESET,
                                   refractory_counts=EXP_REFRACTORY_COUNTS)
# The state arrays `update` takes after seg_params, in its argument order (checked
# against its signature when the network binds the kernel).
STATE_ARGUMENTS = ("V_m", "i_syn_ex", "i_syn_in", "i_0", "refractory")


cdef void update_core(
        const int64_t[:] seg_begin,          # IN  [begin, end) local index range per segment
        const int64_t[:] seg_end,            # IN
        const double[:, ::1] seg_params,     # IN  per segment, columns IafPscExpParam
        double[::1] V_m,                     # IN/OUT mV rel. E_L
        double[::1] i_syn_ex,                # IN/OUT pA
        double[::1] i_syn_in,                # IN/OUT pA
        double[::1] i_0,                     # IN/OUT pA (DC of the previous step)
        int32_t[::1] refractory,             # IN/OUT steps left
        double[:, :, ::1] ring,              # IN/OUT (ring_len, n_local, 2), slots read are cleared
        const int64_t[:] local_gids,         # IN
        Workspace* ws,                       # IN  the plan's inputs and scratch for this call
        int64_t first_step, int64_t n_steps, uint64_t seed,
        SpikeSink* out,                      # OUT (lag << 32) | gid, neuron-major order
        const double[:, ::1] i_ext) noexcept nogil:  # IN [n_steps, n_local] pA or 0 rows
    """Neurons are processed in blocks of up to ws.nb_max: the block's ring input and
    Poisson input for the whole epoch are gathered first (Poisson draws batched across the
    block's neurons), then each neuron of the block runs its n_steps. Every neuron sees
    exactly the operations listed in the module docstring, in that order.
    """
    cdef double P22, P21ex, P21in, P20, P11ex, P11in, I_e, theta, V_reset
    cdef int32_t refractory_counts
    cdef double V, ie, ii, i0, stim
    cdef bint has_ext = i_ext.shape[0] > 0
    cdef int32_t r
    cdef int64_t seg, b, i, j
    cdef int nb, lane
    cdef const double* ex = ws.ex
    cdef const double* inh = ws.inh
    cdef const double* dc
    for seg in range(ws.n_seg):
        P22 = seg_params[seg, EXP_P22]
        P21ex = seg_params[seg, EXP_P21EX]
        P21in = seg_params[seg, EXP_P21IN]
        P20 = seg_params[seg, EXP_P20]
        P11ex = seg_params[seg, EXP_P11EX]
        P11in = seg_params[seg, EXP_P11IN]
        I_e = seg_params[seg, EXP_I_E]
        theta = seg_params[seg, EXP_THETA]
        V_reset = seg_params[seg, EXP_V_RESET]
        refractory_counts = <int32_t>seg_params[seg, EXP_REFRACTORY_COUNTS]
        dc = ws.dc_current + seg * n_steps
        b = seg_begin[seg]
        while b < seg_end[seg]:
            nb = <int>(seg_end[seg] - b if seg_end[seg] - b < ws.nb_max else ws.nb_max)
            gather_block(ring, local_gids, b, nb, first_step, n_steps, ws, seed, seg)
            # advance each neuron of the block over the epoch
            for lane in range(nb):
                i = b + lane
                V = V_m[i]
                ie = i_syn_ex[i]
                ii = i_syn_in[i]
                i0 = i_0[i]
                r = refractory[i]
                for j in range(n_steps):
                    if r == 0:
                        stim = i0 + i_ext[j, i] if has_ext else i0
                        V = V * P22 + ie * P21ex + ii * P21in + (I_e + stim) * P20
                    else:
                        r -= 1
                    ie = ie * P11ex
                    ii = ii * P11in
                    ie = ie + ex[j * nb + lane]
                    ii = ii + inh[j * nb + lane]
                    if V >= theta:
                        r = refractory_counts
                        V = V_reset
                        emit_spike(out, (<uint64_t>j << 32) | <uint64_t>local_gids[i])
                    i0 = dc[j]
                V_m[i] = V
                i_syn_ex[i] = ie
                i_syn_in[i] = ii
                i_0[i] = i0
                refractory[i] = r
            b += nb


def update(const int64_t[:] seg_begin not None, const int64_t[:] seg_end not None,
           const double[:, ::1] seg_params not None,
           double[::1] V_m not None, double[::1] i_syn_ex not None, double[::1] i_syn_in not None,
           double[::1] i_0 not None, int32_t[::1] refractory not None,
           double[:, :, ::1] ring not None, const int64_t[:] local_gids not None,
           InputPlan plan not None, int64_t first_step, int64_t n_steps, uint64_t seed,
           uint64_t[::1] spike_keys not None, i_ext=None):
    """Advance all iaf_psc_exp neurons of this rank by ``n_steps`` steps from ``first_step``.

    seg_params columns: P22, P21ex, P21in, P20, P11ex, P11in, I_e (pA), theta = V_th - E_L
    (mV), V_reset - E_L (mV), refractory_counts (steps). State arrays are indexed by local
    index; ``ring`` is (ring_len, n_local, 2) (channel 0 excitatory, 1 inhibitory, pA).
    ``plan``: the group's InputPlan (Poisson weights in pA, DC in pA). ``i_ext``: None, or
    [n_steps, n_local] pA, the extra current of each neuron in each step (noise_generator).
    Writes (lag << 32) | gid of each spike to ``spike_keys`` in neuron-major order (not
    sorted) and returns their number n; keys that do not fit (n > len(spike_keys)) wait in
    ``plan.spilled_keys()``.
    """
    cdef Py_ssize_t n_local = V_m.shape[0]
    if not (i_syn_ex.shape[0] == n_local and i_syn_in.shape[0] == n_local
            and i_0.shape[0] == n_local and refractory.shape[0] == n_local):
        raise ValueError(f"V_m, i_syn_ex, i_syn_in, i_0, refractory must all have "
                         f"n_local = {n_local} entries")
    cdef const double[:, ::1] ext = plan.begin(n_local, EXP_NUM_PARAMS, seg_begin, seg_end,
                                               seg_params, ring, local_gids, first_step,
                                               n_steps, spike_keys, i_ext)
    with nogil:
        update_core(seg_begin, seg_end, seg_params, V_m, i_syn_ex, i_syn_in, i_0, refractory,
                    ring, local_gids, &plan.ws, first_step, n_steps, seed, &plan.sink, ext)
    return plan.finish("iaf_psc_exp")


def propagator_32(double tau_syn, double tau_m, double c_m, double h):
    """NEST's P32 (PropagatorExp::evaluate, libnestutil/propagator_stability.cpp): the
    effect of a synaptic current on V over one step h (ms) in mV/pA, switching to the
    singular form h/C_m exp(-h/tau_m) when tau_m ~ tau_syn makes the regular one unstable."""
    cdef double alpha = 1 / (c_m * tau_m * tau_m) * (tau_syn - tau_m)
    cdef double beta = tau_syn * tau_m / (tau_m - tau_syn)
    cdef double gamma = beta / c_m
    cdef double exp_h_tau_syn = exp(-h / tau_syn)
    cdef double expm1_h_tau = expm1(-h / tau_m + h / tau_syn)
    cdef double P32 = gamma * exp_h_tau_syn * expm1_h_tau
    cdef double exp_h_tau, P32_singular, P32_linear, dev_P32
    if fabs(tau_m - tau_syn) < 0.1:
        exp_h_tau = exp(-h / tau_m)
        P32_singular = h / c_m * exp_h_tau
        if tau_m == tau_syn:
            P32 = P32_singular
        else:
            P32_linear = alpha * h * h * exp_h_tau / 2.
            dev_P32 = fabs(P32 - P32_singular)
            if dev_P32 > 2 * fabs(P32_linear):
                P32 = P32_singular
    return P32


def propagators(double h, double tau_m, double tau_syn, double C_m):
    """Propagators of iaf_psc_exp for one step h (ms), tau_m, tau_syn (ms), C_m (pF).

    Returns (P11, P21, P22, P20) = (exp(-h/tau_syn), propagator_32(...), exp(-h/tau_m),
    tau_m/C_m * (1 - P22)) as in NEST's iaf_psc_exp::pre_run_hook; call once per synapse
    type for P11ex/P21ex and P11in/P21in.
    """
    if not (h > 0 and tau_m > 0 and tau_syn > 0 and C_m > 0):
        raise ValueError(f"h, tau_m, tau_syn [ms] and C_m [pF] must be positive, got "
                         f"{h}, {tau_m}, {tau_syn}, {C_m}")
    cdef double P11 = exp(-h / tau_syn)
    cdef double P22 = exp(-h / tau_m)
    cdef double P21 = propagator_32(tau_syn, tau_m, C_m, h)
    cdef double P20 = tau_m / C_m * (1.0 - P22)
    return (P11, P21, P22, P20)
