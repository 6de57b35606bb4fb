# cython: language_level=3
"""NEST ``parrot_neuron``: re-emits every incoming spike in the step it arrives.

Same calling convention as iaf_psc_exp.update, without state arrays. Per step s
(slot = s % ring_len): n = round(ring[slot, i, 0] - ring[slot, i, 1] + the Poisson
count*|weight| terms), the slot is cleared, and the neuron emits n spikes at lag s - first
(n equal keys: a spike of multiplicity n, as NEST's SpikeEvent with multiplicity). NEST
ignores the weight of connections onto a parrot; this kernel counts spikes through it, so
the build stores weight 1 for everything onto a parrot_neuron (then n is the number of
arriving spikes, with multiplicity; the keys may outnumber spike_keys, see update). Input read in step s is re-emitted in step s: a spike stamped t with delay d
onto a parrot leaves it stamped t + d. DC inputs and i_ext (noise_generator currents)
have no effect (NEST's parrot_neuron has no current input).
"""
from libc.stdint cimport int64_t, uint64_t

from cython_kernels.inputs cimport InputPlan, SpikeSink, Workspace, emit_spike
from cython_kernels.block_input cimport gather_block

from cython_kernels.columns import columns_in_order

# seg_params columns by name: none, a parrot has no per-segment constants.
SEGMENT_COLUMNS = columns_in_order(PARROT_NUM_PARAMS)
# The state arrays `update` takes after seg_params, in its argument order (checked
# against its signature when the network binds the kernel).
STATE_ARGUMENTS = ()


cdef void update_core(
        const int64_t[:] seg_begin, const int64_t[:] seg_end,
        double[:, :, ::1] ring,              # IN/OUT (ring_len, n_local, 2), slots read are cleared
        const int64_t[:] local_gids,
        Workspace* ws,                       # IN  the plan's inputs and scratch for this call
        int64_t first_step, int64_t n_steps, uint64_t seed,
        SpikeSink* out,                      # OUT (lag << 32) | gid, neuron-major order
        const double[:, ::1] i_ext) noexcept nogil:  # IN [n_steps, n_local] pA or 0 rows
    cdef int64_t seg, b, i, j, k, n
    cdef int nb, lane
    cdef uint64_t key
    for seg in range(ws.n_seg):
        b = seg_begin[seg]
        while b < seg_end[seg]:
            nb = <int>(seg_end[seg] - b if seg_end[seg] - b < ws.nb_max else ws.nb_max)
            gather_block(ring, local_gids, b, nb, first_step, n_steps, ws, seed, seg)
            for lane in range(nb):
                i = b + lane
                for j in range(n_steps):
                    n = <int64_t>(ws.ex[j * nb + lane] - ws.inh[j * nb + lane] + 0.5)
                    if n <= 0:
                        continue
                    key = (<uint64_t>j << 32) | <uint64_t>local_gids[i]
                    for k in range(n):
                        emit_spike(out, key)
            b += nb


def update(const int64_t[:] seg_begin not None, const int64_t[:] seg_end not None,
           const double[:, ::1] seg_params not None,
           double[:, :, ::1] ring not None,
           const int64_t[:] local_gids not None,
           InputPlan plan not None, int64_t first_step, int64_t n_steps, uint64_t seed,
           uint64_t[::1] spike_keys not None, i_ext=None):
    """Re-emit the spikes arriving at all parrot neurons of this rank during ``n_steps``
    steps from ``first_step``. seg_params has one row per segment and no columns needed;
    ``plan`` holds the Poisson inputs (weight 1: spikes); its DC inputs and ``i_ext`` are
    ignored. Writes (lag << 32) | gid once per re-emitted spike (neuron-major order) and
    returns their number n; with multiplicities n may exceed len(spike_keys): the keys that
    do not fit wait in ``plan.spilled_keys()``."""
    cdef Py_ssize_t n_local = ring.shape[1]
    cdef const double[:, ::1] ext = plan.begin(n_local, PARROT_NUM_PARAMS, seg_begin, seg_end,
                                               seg_params, ring, local_gids, first_step,
                                               n_steps, spike_keys, i_ext)
    with nogil:
        update_core(seg_begin, seg_end, ring, local_gids, &plan.ws, first_step, n_steps,
                    seed, &plan.sink, ext)
    return plan.finish("parrot_neuron")
