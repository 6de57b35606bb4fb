# cython: language_level=3
"""NEST iaf_psc_alpha: declarations (see iaf_psc_alpha.pyx)."""

# columns of seg_params
cdef enum:  # IafPscAlphaParam
    ALPHA_P11EX = 0          # exp(-h/tau_syn_ex) (= P22ex)
    ALPHA_P11IN = 1
    ALPHA_P21EX = 2          # h * P11ex
    ALPHA_P21IN = 3
    ALPHA_P30 = 4            # -tau_m/C_m * expm1(-h/tau_m)
    ALPHA_P31EX = 5
    ALPHA_P32EX = 6
    ALPHA_P31IN = 7
    ALPHA_P32IN = 8
    ALPHA_EXPM1_TAU_M = 9    # expm1(-h/tau_m)
    ALPHA_EPSC_INIT = 10     # e / tau_syn_ex, 1/ms
    ALPHA_IPSC_INIT = 11     # e / tau_syn_in
    ALPHA_I_E = 12           # pA
    ALPHA_THETA = 13         # V_th - E_L, mV
    ALPHA_V_RESET = 14       # V_reset - E_L, mV
    ALPHA_LOWER_BOUND = 15   # V_min - E_L, mV (-inf allowed)
    ALPHA_REFRACTORY_COUNTS = 16
    ALPHA_NUM_PARAMS = 17
