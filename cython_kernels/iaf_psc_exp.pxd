# cython: language_level=3
"""NEST iaf_psc_exp: declarations (see iaf_psc_exp.pyx)."""
from libc.stdint cimport int32_t, int64_t, uint64_t

from cython_kernels.inputs cimport SpikeSink, Workspace

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


cdef void update_core(
        const int64_t[:] seg_begin, const int64_t[:] seg_end, const double[:, ::1] seg_params,
        double[::1] V_m, double[::1] i_syn_ex, double[::1] i_syn_in, double[::1] i_0,
        int32_t[::1] refractory, double[:, :, ::1] ring, const int64_t[:] local_gids,
        Workspace* ws, int64_t first_step, int64_t n_steps, uint64_t seed,
        SpikeSink* out, const double[:, ::1] i_ext) noexcept nogil
