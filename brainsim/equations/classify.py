"""Which state variables are linear: a variable's rhs is affine when every derivative of
it by a state variable is free of state variables and of I_stim (then its row of
dx/dt = A x + b has parameter-only coefficients); the linear time-invariant subsystem is
the largest set of affine variables whose rhs read only variables of the set."""
from __future__ import annotations

from typing import Mapping


def affine_variables(rhs: Mapping[str, object], state: Mapping[str, object],
                     inputs: tuple) -> tuple:
    """The variables (in rhs order) whose sympy rhs is affine in the `state` symbols
    (name -> Symbol) with coefficients free of state and of the `inputs` symbols."""
    moving = set(state.values()) | set(inputs)
    out = []
    for variable, expression in rhs.items():
        coefficients = [expression.diff(symbol) for symbol in state.values()]
        if all(not (c.free_symbols & moving) for c in coefficients):
            out.append(variable)
    return tuple(out)


def linear_subsystem(rhs: Mapping[str, object], state: Mapping[str, object],
                     affine: tuple) -> tuple:
    """The affine variables closed under 'reads': a variable leaves the set when its rhs
    reads a variable outside it (then it is part of a nonlinear coupled system)."""
    members = set(affine)
    changed = True
    while changed:
        changed = False
        for variable in sorted(members):
            read = {name for name, symbol in state.items()
                    if symbol in rhs[variable].free_symbols}
            if not read <= members:
                members.discard(variable)
                changed = True
    return tuple(name for name in rhs if name in members)
