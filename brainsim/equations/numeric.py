"""Numeric values of an exact model's propagators for given parameters and step h (ms):
NEST's forms in NEST's floating-point order (nest_formulas.FORMS); general ones from
their sympy expressions evaluated at 40 digits, or, where two rates of connected variables (nearly) coincide
and the general formula divides by (nearly) zero, from mpmath's matrix exponential at
40 digits (the numeric fallback of the degenerate case)."""
from __future__ import annotations

from typing import Mapping

from .ir import DRIVE, LinearSystem
from .nest_formulas import FORMS
from .symbolic import sympy

DEGENERATE_RELATIVE = 1e-3   # rates closer than this: the general formula loses > ~1e-13
DIGITS = 40


def evaluate(system: LinearSystem, values: Mapping[str, float], h: float) -> dict:
    """{propagator name: float} for parameter `values` (internal units) and step h."""
    general = [p for p in system.propagators if p.form == "general"]
    out = {}
    for p in system.propagators:
        if p.form != "general":
            function = FORMS[p.form][0]
            out[p.name] = function(h, *(values[a] for a in p.arguments))
    if general:
        degenerate = is_degenerate(system, values)
        numbers = _expm_entries(system, values, h) if degenerate else None
        for p in general:
            out[p.name] = numbers[p.name] if degenerate else _general(p.expression, values, h)
    return out


def is_degenerate(system: LinearSystem, values: Mapping[str, float]) -> bool:
    for a, b in system.degenerate:
        x, y = (float(_substitute(e, values)) for e in (a, b))
        if abs(x - y) <= DEGENERATE_RELATIVE * max(abs(x), abs(y)):
            return True
    return False


def _substitute(expression, values, h=None):
    sp = sympy()
    mapping = {s: values[s.name] for s in expression.free_symbols if s.name in values}
    if h is not None:
        mapping[sp.Symbol("h", positive=True)] = h
    return expression.subs(mapping)


def _general(expression, values, h) -> float:
    """At 40 digits: sympy's simplified forms can cancel (~1e-13 relative in double)."""
    import mpmath
    sp = sympy()
    symbols = sorted(expression.free_symbols, key=lambda s: s.name)
    function = sp.lambdify(symbols, expression, modules="mpmath")
    with mpmath.workdps(DIGITS):
        arguments = [mpmath.mpf(h if s.name == "h" else values[s.name]) for s in symbols]
        return float(function(*arguments))


def _expm_entries(system: LinearSystem, values, h) -> dict:
    """P and Q entries by name from exp([[A, 1], [0, 0]] h), each on its reachable block."""
    import mpmath
    n = len(system.variables)
    with mpmath.workdps(DIGITS):
        a = mpmath.matrix(n, n)
        for i in range(n):
            for j in range(n):
                a[i, j] = mpmath.mpf(str(float(_substitute(system.matrix[i, j], values))))
        big = mpmath.matrix(2 * n, 2 * n)
        for i in range(n):
            for j in range(n):
                big[i, j] = a[i, j] * h
            big[i, n + i] = h
        e = mpmath.expm(big)
        out = {}
        for p in system.propagators:
            i = system.variables.index(p.target)
            if p.source == DRIVE:
                k = system.variables.index(p.name.split("__", 1)[1])
                out[p.name] = float(e[i, n + k])
            else:
                out[p.name] = float(e[i, system.variables.index(p.source)])
    return out
