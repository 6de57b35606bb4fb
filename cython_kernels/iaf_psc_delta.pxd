# cython: language_level=3
"""NEST iaf_psc_delta: declarations (see iaf_psc_delta.pyx)."""
from libc.stdint cimport int32_t, int64_t, uint64_t

from cython_kernels.inputs cimport SpikeSink, Workspace

# columns of seg_params
cdef enum:  # IafPscDeltaParam
    DELTA_P33 = 0
    DELTA_P30 = 1
    DELTA_I_E = 2              # pA
    DELTA_THETA = 3            # V_th - E_L, mV
    DELTA_V_RESET = 4          # V_reset - E_L, mV
    DELTA_V_MIN = 5            # V_min - E_L, mV (-inf: no lower bound)
    DELTA_REFRACTORY_COUNTS = 6
    DELTA_REFRACTORY_INPUT = 7  # 0 / 1
    DELTA_TAU_M = 8            # ms
    DELTA_H = 9                # step, ms
    DELTA_NUM_PARAMS = 10


cdef void update_core(
        const int64_t[:] seg_begin, const int64_t[:] seg_end, const double[:, ::1] seg_params,
        double[::1] V_m, double[::1] i_0, int32_t[::1] refractory,
        double[::1] refr_spikes_buffer, double[:, :, ::1] ring, const int64_t[:] local_gids,
        Workspace* ws, int64_t first_step, int64_t n_steps, uint64_t seed,
        SpikeSink* out, const double[:, ::1] i_ext) noexcept nogil
