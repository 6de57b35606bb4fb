# cython: language_level=3
"""NEST iaf_cond_exp: declarations (see iaf_cond_exp.pyx)."""

# columns of seg_params (potentials absolute, mV)
cdef enum:  # IafCondExpParam
    CEXP_V_TH = 0
    CEXP_V_RESET = 1
    CEXP_E_EX = 2
    CEXP_E_IN = 3
    CEXP_E_L = 4
    CEXP_G_L = 5             # nS
    CEXP_C_M = 6             # pF
    CEXP_TAU_SYN_EX = 7      # ms
    CEXP_TAU_SYN_IN = 8      # ms
    CEXP_I_E = 9             # pA
    CEXP_REFRACTORY_COUNTS = 10
    CEXP_H = 11              # simulation step, ms
    CEXP_NUM_PARAMS = 12
