# cython: language_level=3
"""NEST iaf_cond_alpha: declarations (see iaf_cond_alpha.pyx)."""

# columns of seg_params (potentials absolute, mV)
cdef enum:  # IafCondAlphaParam
    CALPHA_V_TH = 0
    CALPHA_V_RESET = 1
    CALPHA_E_EX = 2
    CALPHA_E_IN = 3
    CALPHA_E_L = 4
    CALPHA_G_L = 5             # nS
    CALPHA_C_M = 6             # pF
    CALPHA_TAU_SYN_EX = 7      # ms
    CALPHA_TAU_SYN_IN = 8      # ms
    CALPHA_I_E = 9             # pA
    CALPHA_REFRACTORY_COUNTS = 10
    CALPHA_H = 11              # simulation step, ms
    CALPHA_PSC_INIT_EX = 12    # e / tau_syn_ex, 1/ms
    CALPHA_PSC_INIT_IN = 13    # e / tau_syn_in, 1/ms
    CALPHA_NUM_PARAMS = 14
