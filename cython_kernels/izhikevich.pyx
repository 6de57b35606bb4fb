# cython: language_level=3
"""NEST ``izhikevich`` (3.10): Izhikevich (2003) neuron with NEST's own Euler update.

Same calling convention as iaf_psc_exp.update. V_m (mV, absolute: the model has no E_L)
and U_m; input = ring[slot, i, 0] + ring[slot, i, 1] + the Poisson count*weight terms in
entry order (mV jumps, both signs in one sum, as NEST's single buffer). Per step s, exactly
NEST's ``izhikevich::update``:

    consistent_integration (default):
        v_old = V; u_old = U
        V += h*(0.04*v_old*v_old + 5.0*v_old + 140.0 - u_old + i_stim + I_e) + input
        U += h*a*(b*v_old - u_old)
    else (Izhikevich 2003 numerics, two half steps):
        V += h*0.5*(0.04*V*V + 5.0*V + 140.0 - U + i_stim + I_e + input)   (twice)
        U += h*a*(b*V - U)
    V = max(V, V_min)
    if V >= V_th:  V = c; U = U + d; emit spike at lag s - first
    i_0 = sum of the DC amplitudes active at s

i_stim = i_0 + i_ext[s - first, i] when i_ext has rows (noise_generator current, pA), else
i_0, as NEST's single current buffer S_.I_ (see iaf_psc_exp).
"""
from libc.stdint cimport int32_t, int64_t, uint64_t

from cython_kernels.inputs cimport InputPlan, SpikeSink, Workspace, emit_spike
from cython_kernels.block_input cimport gather_block

from cython_kernels.columns import columns_in_order

# seg_params columns by name, in column order (enum IzhikevichParam, izhikevich.pxd):
# the network packs each segment's constants by name (network/neurons.bind_kernel).
SEGMENT_COLUMNS = columns_in_order(IZH_NUM_PARAMS, a=IZH_A, b=IZH_B, c=IZH_C, d=IZH_D,
                                   I_e=IZH_I_E, V_th=IZH_V_TH, V_min=IZH_V_MIN,
                                   consistent_integration=IZH_CONSISTENT, h=IZH_H)
# The state arrays `update` takes after seg_params, in its argument order (checked
# against its signature when the network binds the kernel).
STATE_ARGUMENTS = ("V_m", "U_m", "i_0")


cdef void update_core(
        const int64_t[:] seg_begin, const int64_t[:] seg_end,
        const double[:, ::1] seg_params,     # IN  per segment, columns IzhikevichParam
        double[::1] V_m,                     # IN/OUT mV (absolute)
        double[::1] U_m,                     # IN/OUT recovery variable
        double[::1] i_0,                     # IN/OUT pA (DC of the previous step)
        double[:, :, ::1] ring,              # IN/OUT (ring_len, n_local, 2) mV, slots read are cleared
        const int64_t[:] local_gids,
        Workspace* ws,                       # IN  the plan's inputs and scratch for this call
        int64_t first_step, int64_t n_steps, uint64_t seed,
        SpikeSink* out,                      # OUT (lag << 32) | gid, neuron-major order
        const double[:, ::1] i_ext) noexcept nogil:  # IN [n_steps, n_local] pA or 0 rows
    cdef double a, bb, c, d, I_e, V_th, V_min, h, V, U, v_old, u_old, i0, inp, stim
    cdef bint has_ext = i_ext.shape[0] > 0
    cdef bint consistent
    cdef int64_t seg, b, i, j
    cdef int nb, lane
    cdef const double* dc
    for seg in range(ws.n_seg):
        a = seg_params[seg, IZH_A]
        bb = seg_params[seg, IZH_B]
        c = seg_params[seg, IZH_C]
        d = seg_params[seg, IZH_D]
        I_e = seg_params[seg, IZH_I_E]
        V_th = seg_params[seg, IZH_V_TH]
        V_min = seg_params[seg, IZH_V_MIN]
        consistent = seg_params[seg, IZH_CONSISTENT] != 0.0
        h = seg_params[seg, IZH_H]
        dc = ws.dc_current + seg * n_steps
        b = seg_begin[seg]
        while b < seg_end[seg]:
            nb = <int>(seg_end[seg] - b if seg_end[seg] - b < ws.nb_max else ws.nb_max)
            gather_block(ring, local_gids, b, nb, first_step, n_steps, ws, seed, seg)
            for lane in range(nb):
                i = b + lane
                V = V_m[i]
                U = U_m[i]
                i0 = i_0[i]
                for j in range(n_steps):
                    inp = ws.ex[j * nb + lane] + ws.inh[j * nb + lane]
                    stim = i0 + i_ext[j, i] if has_ext else i0
                    if consistent:
                        v_old = V
                        u_old = U
                        V += h * (0.04 * v_old * v_old + 5.0 * v_old + 140.0 - u_old + stim
                                  + I_e) + inp
                        U += h * a * (bb * v_old - u_old)
                    else:
                        V += h * 0.5 * (0.04 * V * V + 5.0 * V + 140.0 - U + stim + I_e + inp)
                        V += h * 0.5 * (0.04 * V * V + 5.0 * V + 140.0 - U + stim + I_e + inp)
                        U += h * a * (bb * V - U)
                    V = V_min if V < V_min else V
                    if V >= V_th:
                        V = c
                        U = U + d
                        emit_spike(out, (<uint64_t>j << 32) | <uint64_t>local_gids[i])
                    i0 = dc[j]
                V_m[i] = V
                U_m[i] = U
                i_0[i] = i0
            b += nb


def update(const int64_t[:] seg_begin not None, const int64_t[:] seg_end not None,
           const double[:, ::1] seg_params not None,
           double[::1] V_m not None, double[::1] U_m not None, double[::1] i_0 not None,
           double[:, :, ::1] ring not None,
           const int64_t[:] local_gids not None,
           InputPlan plan not None, int64_t first_step, int64_t n_steps, uint64_t seed,
           uint64_t[::1] spike_keys not None, i_ext=None):
    """Advance all izhikevich neurons of this rank by ``n_steps`` steps from ``first_step``.

    seg_params columns: a, b, c (mV), d, I_e, V_th (mV), V_min (mV, -inf allowed),
    consistent_integration (0/1), h (ms). State: V_m (mV, absolute), U_m, i_0 (pA).
    ``ring`` is (ring_len, n_local, 2) in mV, both channels summed; Poisson weights in mV.
    Plan, i_ext and spikes as in iaf_psc_exp.update.
    """
    cdef Py_ssize_t n_local = V_m.shape[0]
    if not (U_m.shape[0] == n_local and i_0.shape[0] == n_local):
        raise ValueError(f"V_m, U_m, i_0 must all have n_local = {n_local} entries")
    cdef const double[:, ::1] ext = plan.begin(n_local, IZH_NUM_PARAMS, seg_begin, seg_end,
                                               seg_params, ring, local_gids, first_step,
                                               n_steps, spike_keys, i_ext)
    with nogil:
        update_core(seg_begin, seg_end, seg_params, V_m, U_m, i_0, ring, local_gids,
                    &plan.ws, first_step, n_steps, seed, &plan.sink, ext)
    return plan.finish("izhikevich")
