"""KernelSpec checks (no compile): bad names, unknown symbols, unsupported constructs and
inconsistent argument lists are refused when the spec is made, naming the field; the
generated source is deterministic, exports the names the network binds by, and keeps
each expression's grouping."""
import dataclasses

import pytest

import hand_specs
from brainsim.codegen.expressions import KernelSpecError, cython_text
from brainsim.codegen.generate import GenerateError, kernel_source
from brainsim.codegen.kernel_spec import ExactUpdate, Receptor, StateArray
from cython_kernels import aeif_cond_exp, iaf_psc_exp

IAF = hand_specs.IAF_PSC_EXP
AEIF = hand_specs.AEIF_COND_EXP


@pytest.mark.parametrize("change, message", [
    (dict(threshold="V_m ** 2 > theta"), "threshold: operator Pow"),
    (dict(threshold="V_m >= V_th"), "threshold: unknown name 'V_th'"),
    (dict(threshold="__import__('os').system('x')"), "threshold: only calls of"),
    (dict(threshold="0 < V_m < theta"), "single comparisons"),
    (dict(reset=(("V_m", "V_reset[0]"),)), "reset 'V_m': Subscript"),
    (dict(reset=(("theta", "0"),)), "reset: 'theta' is not a state variable"),
    (dict(refractory_steps="exp(refractory_counts)"), "int32 expression cannot call"),
    (dict(model="iaf psc"), "model name 'iaf psc' is not a C identifier"),
    (dict(columns=IAF.columns[:-1] + ("range",)), "column 'range' is a reserved name"),
    (dict(variables=IAF.variables + (StateArray("_hidden"),)), "not a C identifier"),
    (dict(variables=IAF.variables + (StateArray("i_0"),)), "the kernel.s own arrays"),
    (dict(state_arguments=IAF.state_arguments[:-1]), "must name exactly"),
    (dict(state_arguments=IAF.state_arguments + ("ode_h",)), "must name exactly"),
    (dict(integer_columns=("not_a_column",)), "integer_columns"),
    (dict(receptors=IAF.receptors + (Receptor("nmda", 0, "g_nmda"),)),
     "target 'g_nmda' is not a state variable"),
    (dict(receptors=(Receptor("ex", 0, "i_syn_ex", factor="V_m"),)),
     "receptor 'ex' factor: unknown name 'V_m'"),
    (dict(update=ExactUpdate(assignments=(("V_m", "V_m * P22"), ("V_m", "0")))),
     "'V_m' is declared twice"),
    (dict(update=ExactUpdate(assignments=(), clamped=("w",))), "clamped: 'w'"),
    (dict(previous=(("prev_V_m", "w"),)), "previous 'prev_V_m': 'w' is not a state"),
    (dict(previous=(("theta", "V_m"),)), "'theta' is declared twice"),
    (dict(previous=(("_v", "V_m"),)), "previous-value name '_v' is not a C identifier"),
    (dict(previous=(("prev_V_m", "V_m"),), reset=(("V_m", "prev_V_m"),)),
     "reset 'V_m': unknown name 'prev_V_m'"),
])
def test_bad_specs_are_refused_naming_the_field(change, message):
    with pytest.raises(KernelSpecError, match=message.replace("(", r"\(").replace("*", r"\*")):
        dataclasses.replace(IAF, **change)


def test_rkf45_names_are_checked():
    with pytest.raises(KernelSpecError, match="derivative of 'g_ex': unknown name 'input_ex'"):
        dataclasses.replace(AEIF, update=dataclasses.replace(
            AEIF.update, derivatives=AEIF.update.derivatives[:1]
            + (("g_ex", "-g_ex / tau_syn_ex + input_ex"),) + AEIF.update.derivatives[2:]))
    with pytest.raises(KernelSpecError, match="dt: 'dt' is not a column"):
        dataclasses.replace(AEIF, update=dataclasses.replace(AEIF.update, dt="dt"))
    with pytest.raises(KernelSpecError, match="RKF45 takes 1 to 8"):
        dataclasses.replace(AEIF, update=dataclasses.replace(AEIF.update, derivatives=()))


def test_a_third_ring_channel_is_refused_by_the_generator():
    spec = dataclasses.replace(IAF, receptors=IAF.receptors + (Receptor("nmda", 2, "V_m"),))
    with pytest.raises(GenerateError, match="reads ring channel 2; the ring has 2 channels"):
        kernel_source(spec)


def test_source_is_deterministic_and_exports_the_bound_names():
    source = kernel_source(IAF)
    assert source == kernel_source(dataclasses.replace(IAF))
    assert f"SEGMENT_COLUMNS = {tuple(iaf_psc_exp.SEGMENT_COLUMNS)!r}" in source
    assert f"STATE_ARGUMENTS = {tuple(iaf_psc_exp.STATE_ARGUMENTS)!r}" in source
    rkf = kernel_source(AEIF)
    assert f"STATE_ARGUMENTS = {tuple(aeif_cond_exp.STATE_ARGUMENTS)!r}" in rkf
    assert "with nogil:" in source and "noexcept nogil" in source


def test_expressions_keep_their_grouping_and_become_float64():
    assert cython_text("a - (b - c) + 1/2") == "a - (b - c) + 1.0 / 2.0"
    assert cython_text("(a + b) + c") == "a + b + c"          # left-associative: same tree
    assert cython_text("a + (b + c)") == "a + (b + c)"
    assert cython_text("n + 1 if n > 0 else 0", integer=True) == "n + 1 if n > 0 else 0"
    assert cython_text("V * 2", {"V": "_y[0]"}) == "_y[0] * 2.0"


def test_previous_values_are_saved_at_the_start_of_each_step():
    exact = dataclasses.replace(IAF, previous=(("prev_V_m", "V_m"),),
                                threshold="V_m >= theta and prev_V_m < theta")
    source = kernel_source(exact)
    step = source.index("for _j in range(_n_steps):")
    assert source.index("prev_V_m = V_m", step) < source.index("_new_", step)
    assert "if V_m >= theta and prev_V_m < theta:" in source and "_free" not in source
    gated = dataclasses.replace(exact, update=dataclasses.replace(
        IAF.update, test_while_refractory=False))
    source = kernel_source(gated)
    assert "_free = _r == 0" in source
    assert "if _free and (V_m >= theta and prev_V_m < theta):" in source
    rkf = kernel_source(dataclasses.replace(AEIF, previous=(("prev_V_m", "V_m"),)))
    step = rkf.index("for _j in range(_n_steps):")
    assert rkf.index("prev_V_m = _y[0]", step) < rkf.index("evolve_apply", step)
