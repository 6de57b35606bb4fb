# cython: language_level=3
"""NEST aeif_cond_exp: declarations (see aeif_cond_exp.pyx)."""

# columns of seg_params (potentials absolute, mV)
cdef enum:  # AeifCondExpParam
    AEIF_V_PEAK = 0          # bound of V inside the dynamics
    AEIF_V_SPIKE = 1         # spike detection: V_peak if Delta_T > 0, else V_th
    AEIF_V_RESET = 2
    AEIF_V_TH = 3
    AEIF_E_EX = 4
    AEIF_E_IN = 5
    AEIF_E_L = 6
    AEIF_G_L = 7             # nS
    AEIF_C_M = 8             # pF
    AEIF_DELTA_T = 9         # mV
    AEIF_TAU_W = 10          # ms
    AEIF_A = 11              # nS
    AEIF_B = 12              # pA
    AEIF_TAU_SYN_EX = 13     # ms
    AEIF_TAU_SYN_IN = 14     # ms
    AEIF_I_E = 15            # pA
    AEIF_GSL_ERROR_TOL = 16
    AEIF_REFRACTORY_COUNTS = 17
    AEIF_H = 18              # simulation step, ms
    AEIF_NUM_PARAMS = 19
