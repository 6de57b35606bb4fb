import ast

import pytest

from brainsim.equations.linearity import affine_in_state

PARAMETERS = {"tau", "C_m", "E_L", "a"}
STATE = {"V", "w"}
EXPANSIONS = {"I_cond": ast.parse("g * (E_L - V)", mode="eval").body}


@pytest.mark.parametrize("rhs, affine", [
    ("-(V - E_L)/tau + (I_ex + I_e)/C_m", True),
    ("(a*(V - E_L) - w)/tau", True),
    ("-w/tau + 2*exp(E_L/tau)", True),       # a function of parameters is a coefficient
    ("-V/tau + I_ex*I_in/C_m", True),        # inputs may combine while no state is involved
    ("I_ex*V/C_m", False),                   # an input multiplies a state variable
    ("I_cond/C_m", False),                   # conductance current g*(E_L - V), expanded
    ("V*w/C_m", False), ("V**2/tau", False), ("V**1/tau", True),
    ("V/w", False), ("exp(V/a)", False), ("V/I_ex", False), ("abs(V)/tau", False)])
def test_affine_in_state_with_parameter_coefficients(rhs, affine):
    assert affine_in_state(ast.parse(rhs, mode="eval").body, PARAMETERS, STATE,
                           EXPANSIONS) is affine
