"""The whitelisted expression trees of the equation language (already checked by
dimensions.unit_of) as sympy expressions, for the linearity analysis and the propagators.
sympy is imported on first use, so runs without equation models never pay for it."""
from __future__ import annotations

import ast
from typing import Mapping

from .units import UNITS

_SYMPY_FUNCTIONS = {"exp": "exp", "log": "log", "sqrt": "sqrt", "abs": "Abs", "min": "Min",
                    "max": "Max", "tanh": "tanh", "sinh": "sinh", "cosh": "cosh",
                    "sin": "sin", "cos": "cos"}


def sympy():
    """The sympy module (imported lazily: ~0.5 s)."""
    import sympy as module
    return module


def number(value: float):
    """An exact sympy Integer for integral values, else the Float of exactly this double
    (so the C text of a propagator keeps the literal the user wrote)."""
    sp = sympy()
    if float(value).is_integer() and abs(value) < 2 ** 53:
        return sp.Integer(int(value))
    return sp.Float(float(value), 17)


def to_sympy(node: ast.AST, names: Mapping[str, object]):
    """The sympy expression of a checked tree; `names` maps every symbol to a sympy
    expression (a Symbol, or what an auxiliary expression stands for). A name that is
    not in `names` is a unit literal, its value its scale to internal units."""
    sp = sympy()
    if isinstance(node, ast.Constant):
        return number(node.value)
    if isinstance(node, ast.Name):
        if node.id in names:
            return names[node.id]
        return number(UNITS[node.id].scale)
    if isinstance(node, ast.UnaryOp):
        operand = to_sympy(node.operand, names)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp):
        left, right = to_sympy(node.left, names), to_sympy(node.right, names)
        return _binary(node.op, left, right)
    if isinstance(node, ast.Call):
        function = getattr(sp, _SYMPY_FUNCTIONS[node.func.id])
        return function(*(to_sympy(argument, names) for argument in node.args))
    raise TypeError(f"unchecked construct {ast.dump(node)}")   # unit_of refuses these first


def _binary(op, left, right):
    if isinstance(op, ast.Add):
        return left + right
    if isinstance(op, ast.Sub):
        return left - right
    if isinstance(op, ast.Mult):
        return left * right
    if isinstance(op, ast.Div):
        return left / right
    return left ** right


def parse_to_sympy(text: str, names: Mapping[str, object]):
    """`text` (an expression the parser has already checked) as sympy."""
    return to_sympy(ast.parse(text, mode="eval").body, names)
