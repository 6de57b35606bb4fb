"""A small, safe evaluator for numeric expressions in model files, e.g. "g * J".

Allowed: numbers, names of the document's `parameters`, + - * / **, unary + and -,
parentheses, and the functions exp, log, sqrt, abs, min, max. Everything else (attributes,
subscripts, comparisons, strings, keyword arguments, other functions) is refused. Every
value is a float; a result must be finite.
"""
from __future__ import annotations

import ast
import difflib
import math
import operator
from typing import Mapping

MAX_LENGTH = 1000
MAX_DEPTH = 100       # nested operations; far below Python's recursion limit

def _psc_per_psp_exp(C_m, tau_m, tau_syn):
    from .neuron_models import psc_over_psp
    return psc_over_psp(C_m, tau_m, tau_syn)


def _psc_per_psp_alpha(C_m, tau_m, tau_syn):
    from .neuron_models import psc_over_psp_alpha
    return psc_over_psp_alpha(C_m, tau_m, tau_syn)


# name -> (function, number of arguments or None for any). psc_per_psp_exp/alpha(C_m pF,
# tau_m ms, tau_syn ms): PSC amplitude (pA) per mV of peak PSP, the conversions that
# `unit: mV` weights use, for models that need the current itself (e.g. a threshold rate).
FUNCTIONS = {"exp": (math.exp, 1), "log": (math.log, 1), "sqrt": (math.sqrt, 1),
             "abs": (abs, 1), "min": (min, None), "max": (max, None),
             "psc_per_psp_exp": (_psc_per_psp_exp, 3),
             "psc_per_psp_alpha": (_psc_per_psp_alpha, 3)}

_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.Div: operator.truediv, ast.Pow: operator.pow}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos}


class ExpressionError(ValueError):
    """`found` and `expected` are the two halves of a SpecError message."""

    def __init__(self, found: str, expected: str):
        super().__init__(f"{found}; expected {expected}")
        self.found, self.expected = found, expected


def suggest(word: str, choices) -> str:
    """" (did you mean 'x'?)" or ""."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def evaluate(text: str, names: Mapping[str, float]) -> float:
    """Value of expression `text` with the given names; raises ExpressionError."""
    shown = text if len(text) <= 80 else text[:77] + "..."
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression of {len(text)} characters",
                              f"at most {MAX_LENGTH}")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise ExpressionError(f"'{shown}' (not a number nor a valid expression)",
                              "a number or an arithmetic expression over `parameters`") from None
    depth = _depth(tree.body)
    if depth > MAX_DEPTH:     # _eval recurses once per level
        raise ExpressionError(f"'{shown}' nests {depth} operations deep",
                              f"at most {MAX_DEPTH} (e.g. fewer repeated unary minuses)")
    try:
        value = _eval(tree.body, names, shown)
    except (ZeroDivisionError, OverflowError, ValueError, TypeError) as err:
        if isinstance(err, ExpressionError):
            raise
        raise ExpressionError(f"'{shown}' fails to evaluate ({err})",
                              "an expression with a finite value") from None
    if isinstance(value, complex) or not math.isfinite(value):
        raise ExpressionError(f"'{shown}' evaluates to {value}", "a finite real number")
    return float(value)


def _depth(root) -> int:
    """Nesting depth of an expression tree, measured without recursion."""
    deepest, todo = 0, [(root, 1)]
    while todo:
        node, depth = todo.pop()
        deepest = max(deepest, depth)
        todo.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


def _eval(node, names, shown):
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise ExpressionError(f"'{shown}' contains {node.value!r}",
                                  "only numbers and parameter names")
        return float(node.value)
    if isinstance(node, ast.Name):
        if node.id in names:
            return float(names[node.id])
        if node.id in FUNCTIONS:
            raise ExpressionError(f"'{shown}' uses function '{node.id}' without calling it",
                                  f"{node.id}(...)")
        known = ", ".join(names) or "none defined"
        raise ExpressionError(f"'{shown}' uses unknown name '{node.id}'{suggest(node.id, names)}",
                              f"a name from `parameters` (defined before this use: {known})")
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        result = _BINARY[type(node.op)](_eval(node.left, names, shown),
                                        _eval(node.right, names, shown))
        if isinstance(result, complex):
            raise ExpressionError(f"'{shown}' has a complex value", "a real number")
        return result
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_eval(node.operand, names, shown))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
            and node.func.id in FUNCTIONS and not node.keywords:
        func, arity = FUNCTIONS[node.func.id]
        args = [_eval(a, names, shown) for a in node.args]
        if (arity is not None and len(args) != arity) or (arity is None and len(args) < 2):
            want = f"{arity} argument" if arity else "at least 2 arguments"
            raise ExpressionError(f"'{shown}' calls {node.func.id} with {len(args)} arguments",
                                  want)
        return func(*args)
    if isinstance(node, ast.Call):
        name = node.func.id if isinstance(node.func, ast.Name) else type(node.func).__name__
        raise ExpressionError(f"'{shown}' calls '{name}'{suggest(name, FUNCTIONS)}",
                              "one of the functions " + ", ".join(FUNCTIONS))
    raise ExpressionError(f"'{shown}' contains a {type(node).__name__} construct",
                          "numbers, parameter names, + - * / **, parentheses and "
                          + ", ".join(FUNCTIONS))
