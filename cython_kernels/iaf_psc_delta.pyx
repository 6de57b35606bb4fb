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
from libc.stdint cimport int32_t, int64_t, uint64_t

from cython_kernels.inputs cimport InputPlan, SpikeSink, Workspace, emit_spike
from cython_kernels.block_input cimport gather_block_summed

from cython_kernels.columns import columns_in_order

# seg_params columns by name, in column order (enum IafPscDeltaParam, iaf_psc_delta.pxd):
# the network packs each segment's constants by name (network/neurons.bind_kernel).
SEGMENT_COLUMNS = columns_in_order(DELTA_NUM_PARAMS, P33=DELTA_P33, P30=DELTA_P30,
                                   I_e=DELTA_I_E, theta=DELTA_THETA, V_reset=DELTA_V_RESET,
                                   V_min=DELTA_V_MIN,
                                   refractory_counts=DELTA_REFRACTORY_COUNTS,
                                   refractory_input=DELTA_REFRACTORY_INPUT, tau_m=DELTA_TAU_M,
                                   h=DELTA_H)
# The state arrays `update` takes after seg_params, in its argument order (checked
# against its signature when the network binds the kernel).
STATE_ARGUMENTS = ("V_m", "i_0", "refractory", "refr_spikes_buffer")


cdef void update_core(
        const int64_t[:] seg_begin,          # IN  [begin, end) local index range per segment
        const int64_t[:] seg_end,            # IN
        const double[:, ::1] seg_params,     # IN  per segment, columns IafPscDeltaParam
        double[::1] V_m,                     # IN/OUT mV rel. E_L
        double[::1] i_0,                     # IN/OUT pA (DC of the previous step)
        int32_t[::1] refractory,             # IN/OUT steps left
        double[::1] refr_spikes_buffer,      # IN/OUT mV accumulated while refractory
        double[:, :, ::1] ring,              # IN/OUT (ring_len, n_local, 2) mV, slots read are cleared
        const int64_t[:] local_gids,         # IN
        Workspace* ws,                       # IN  the plan's inputs and scratch for this call
        int64_t first_step, int64_t n_steps, uint64_t seed,
        SpikeSink* out,                      # OUT (lag << 32) | gid, neuron-major order
        const double[:, ::1] i_ext) noexcept nogil:  # IN [n_steps, n_local] pA or 0 rows
    """Blocked like iaf_psc_exp.update_core; the per-neuron operation order is unchanged."""
    cdef double P33, P30, I_e, theta, V_reset, V_min, h, tau_m
    cdef int32_t refractory_counts
    cdef bint refractory_input
    cdef double V, i0, buf, inp, stim
    cdef bint has_ext = i_ext.shape[0] > 0
    cdef int32_t r
    cdef int64_t seg, b, i, j
    cdef int nb, lane
    cdef const double* inp_all = ws.ex
    cdef const double* dc
    for seg in range(ws.n_seg):
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
        b = seg_begin[seg]
        while b < seg_end[seg]:
            nb = <int>(seg_end[seg] - b if seg_end[seg] - b < ws.nb_max else ws.nb_max)
            # input = ring channel 0 + channel 1 (slot then cleared), then Poisson in entry order
            gather_block_summed(ring, local_gids, b, nb, first_step, n_steps, ws, seed, seg)
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
                        emit_spike(out, (<uint64_t>j << 32) | <uint64_t>local_gids[i])
                    i0 = dc[j]
                V_m[i] = V
                i_0[i] = i0
                refractory[i] = r
                refr_spikes_buffer[i] = buf
            b += nb


def update(const int64_t[:] seg_begin not None, const int64_t[:] seg_end not None,
           const double[:, ::1] seg_params not None,
           double[::1] V_m not None, double[::1] i_0 not None,
           int32_t[::1] refractory not None, double[::1] refr_spikes_buffer not None,
           double[:, :, ::1] ring not None, const int64_t[:] local_gids not None,
           InputPlan plan not None, int64_t first_step, int64_t n_steps, uint64_t seed,
           uint64_t[::1] spike_keys not None, i_ext=None):
    """Advance all iaf_psc_delta neurons of this rank by ``n_steps`` steps from ``first_step``.

    seg_params columns: P33, P30, I_e (pA), theta = V_th - E_L (mV), V_reset - E_L (mV),
    V_min - E_L (mV, -inf allowed), refractory_counts (steps), refractory_input (0/1),
    tau_m (ms), h (ms) -- the last two for NEST's exp(-r * h / tau_m) discount of input
    arriving while refractory. State: V_m (mV rel. E_L), i_0 (pA), refractory (int32 steps),
    refr_spikes_buffer (mV). ``ring`` is (ring_len, n_local, 2) in mV, both channels summed;
    Poisson weights in mV. Plan, i_ext and spikes as in iaf_psc_exp.update.
    """
    cdef Py_ssize_t n_local = V_m.shape[0]
    if not (i_0.shape[0] == n_local and refractory.shape[0] == n_local
            and refr_spikes_buffer.shape[0] == n_local):
        raise ValueError(f"V_m, i_0, refractory, refr_spikes_buffer must all have "
                         f"n_local = {n_local} entries")
    cdef const double[:, ::1] ext = plan.begin(n_local, DELTA_NUM_PARAMS, seg_begin, seg_end,
                                               seg_params, ring, local_gids, first_step,
                                               n_steps, spike_keys, i_ext)
    with nogil:
        update_core(seg_begin, seg_end, seg_params, V_m, i_0, refractory, refr_spikes_buffer,
                    ring, local_gids, &plan.ws, first_step, n_steps, seed, &plan.sink, ext)
    return plan.finish("iaf_psc_delta")


def propagators(double h, double tau_m, double C_m):
    """(P33, P30) of iaf_psc_delta for step h (ms), tau_m (ms), C_m (pF), as NEST:
    P33 = exp(-h/tau_m), P30 = 1/C_m * (1 - P33) * tau_m."""
    if not (h > 0 and tau_m > 0 and C_m > 0):
        raise ValueError(f"h, tau_m [ms] and C_m [pF] must be positive, got {h}, {tau_m}, {C_m}")
    cdef double P33 = exp(-h / tau_m)
    return (P33, 1 / C_m * (1 - P33) * tau_m)
