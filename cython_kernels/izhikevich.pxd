# cython: language_level=3
"""NEST izhikevich: declarations (see izhikevich.pyx)."""

# columns of seg_params
cdef enum:  # IzhikevichParam
    IZH_A = 0
    IZH_B = 1
    IZH_C = 2                # mV, reset
    IZH_D = 3                # mV/ms... (jump of U_m)
    IZH_I_E = 4              # pA (enters dV/dt directly, as in NEST)
    IZH_V_TH = 5             # mV
    IZH_V_MIN = 6            # mV (-inf allowed)
    IZH_CONSISTENT = 7       # 1: consistent_integration (NEST default), 0: Izhikevich 2003
    IZH_H = 8                # ms
    IZH_NUM_PARAMS = 9
