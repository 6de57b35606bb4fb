# cython: language_level=3
"""NEST iaf_psc_exp: declarations (see iaf_psc_exp.pyx)."""
from libc.stdint cimport int32_t, int64_t, uint64_t

# columns of seg_params
cdef enum:  # IafPscExpParam
    EXP_P22 = 0
    EXP_P21EX = 1
    EXP_P21IN = 2
    EXP_P20 = 3
    EXP_P11EX = 4
    EXP_P11IN = 5
    EXP_I_E = 6              # pA
    EXP_THETA = 7            # V_th - E_L, mV
    EXP_V_RESET = 8          # V_reset - E_L, mV
    EXP_REFRACTORY_COUNTS = 9
    EXP_NUM_PARAMS = 10


cdef int64_t update_core(
        const int64_t[:] seg_begin, const int64_t[:] seg_end, const double[:, ::1] seg_params,
        double[::1] V_m, double[::1] i_syn_ex, double[::1] i_syn_in, double[::1] i_0,
        int32_t[::1] refractory, double[:, :, ::1] ring, const int64_t[:] local_gids,
        const int64_t[:] poisson_seg, const int64_t[:] poisson_item,
        const double[:] poisson_weight, const int64_t[:] poisson_delay_steps,
        const int64_t[:] poisson_first_step, const int64_t[:] poisson_stop_step,
        const double[:, ::1] poisson_cdf, const int64_t[:] poisson_table_len,
        const double[:] poisson_lambda,
        const int64_t[:] dc_seg, const double[:] dc_amplitude,
        const int64_t[:] dc_first_step, const int64_t[:] dc_stop_step,
        int64_t first_step, int64_t n_steps, uint64_t seed,
        uint64_t[::1] spike_keys, const double[:, ::1] i_ext) noexcept nogil
