# cython: language_level=3
"""NEST iaf_psc_delta: declarations (see iaf_psc_delta.pyx)."""
from libc.stdint cimport int32_t, int64_t, uint64_t

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


cdef int64_t update_core(
        const int64_t[:] seg_begin, const int64_t[:] seg_end, const double[:, ::1] seg_params,
        double[::1] V_m, double[::1] i_0, int32_t[::1] refractory,
        double[::1] refr_spikes_buffer, double[:, :, ::1] ring, const int64_t[:] local_gids,
        const int64_t[:] poisson_seg, const int64_t[:] poisson_item,
        const double[:] poisson_weight, const int64_t[:] poisson_delay_steps,
        const int64_t[:] poisson_first_step, const int64_t[:] poisson_stop_step,
        const double[:, ::1] poisson_cdf, const int64_t[:] poisson_table_len,
        const double[:] poisson_lambda,
        const int64_t[:] dc_seg, const double[:] dc_amplitude,
        const int64_t[:] dc_first_step, const int64_t[:] dc_stop_step,
        int64_t first_step, int64_t n_steps, uint64_t seed,
        uint64_t[::1] spike_keys, const double[:, ::1] i_ext) noexcept nogil
