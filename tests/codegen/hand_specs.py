"""KernelSpecs written by hand for two built-ins, with the built-in kernels' own
expressions and grouping (cython_kernels/iaf_psc_exp.pyx, aeif_cond_exp.pyx), so their
generated kernels must reproduce the built-ins bit for bit."""
from brainsim.codegen.kernel_spec import (ExactUpdate, KernelSpec, Receptor, Rkf45Update,
                                          StateArray, default_arguments)
from cython_kernels import aeif_cond_exp, iaf_psc_exp

IAF_PSC_EXP = KernelSpec(
    model="iaf_psc_exp",
    variables=(StateArray("V_m"), StateArray("i_syn_ex"), StateArray("i_syn_in")),
    state_arguments=default_arguments(("V_m", "i_syn_ex", "i_syn_in"), rkf45=False),
    columns=tuple(iaf_psc_exp.SEGMENT_COLUMNS),
    integer_columns=("refractory_counts",),
    receptors=(Receptor("ex", 0, "i_syn_ex"), Receptor("in", 1, "i_syn_in")),
    update=ExactUpdate(
        assignments=(("V_m", "V_m * P22 + i_syn_ex * P21ex + i_syn_in * P21in"
                             " + (I_e + I_stim) * P20"),
                     ("i_syn_ex", "i_syn_ex * P11ex"),
                     ("i_syn_in", "i_syn_in * P11in")),
        clamped=("V_m",)),
    threshold="V_m >= theta",
    reset=(("V_m", "V_reset"),),
    refractory_steps="refractory_counts",
)

AEIF_COND_EXP = KernelSpec(
    model="aeif_cond_exp",
    variables=(StateArray("V_m", offset="E_L"), StateArray("g_ex"), StateArray("g_in"),
               StateArray("w")),
    state_arguments=default_arguments(("V_m", "g_ex", "g_in", "w"), rkf45=True),
    columns=tuple(aeif_cond_exp.SEGMENT_COLUMNS),
    integer_columns=("refractory_counts",),
    receptors=(Receptor("ex", 0, "g_ex"), Receptor("in", 1, "g_in", factor="-1.0")),
    update=Rkf45Update(
        definitions=(("V", "V_reset if is_refractory else (V_m if V_m < V_peak else V_peak)"),
                     ("I_syn_exc", "g_ex * (V - E_ex)"),
                     ("I_syn_inh", "g_in * (V - E_in)"),
                     ("I_spike", "g_L * Delta_T * exp((V - V_th) / Delta_T)"
                                 " if Delta_T != 0.0 else 0.0")),
        derivatives=(("V_m", "0.0 if is_refractory else (-g_L * (V - E_L) + I_spike"
                             " - I_syn_exc - I_syn_inh - w + I_e + I_stim) / C_m"),
                     ("g_ex", "-g_ex / tau_syn_ex"),
                     ("g_in", "-g_in / tau_syn_in"),
                     ("w", "(a * (V - E_L) - w) / tau_w")),
        dt="h", eps_abs="gsl_error_tol", eps_rel="gsl_error_tol", a_y="0", a_dydt="1",
        spike_within_step=True,
        held=(("V_m", "V_reset"),),
        unstable="V_m < -1e3 or w < -1e6 or w > 1e6"),
    threshold="V_m >= V_spike",
    reset=(("V_m", "V_reset"), ("w", "w + b")),
    refractory_steps="refractory_counts + 1 if refractory_counts > 0 else 0",
)
