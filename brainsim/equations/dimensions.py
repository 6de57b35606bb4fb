"""Whitelisted expression trees of the equation language and their units: every node is
checked against the allowed constructs (never eval'd) and its unit is derived."""
from __future__ import annotations

import ast
from fractions import Fraction
from typing import Mapping

from .units import DIMENSIONLESS, UNITS, Unit

FUNCTIONS = ("exp", "log", "sqrt", "abs", "min", "max", "tanh", "sinh", "cosh", "sin",
             "cos")
PREVIOUS = "prev"    # prev(X): X at the start of the step, in the threshold only (parse.py)
_DIMENSIONLESS_ARGUMENT = ("exp", "log", "tanh", "sinh", "cosh", "sin", "cos")


class ExpressionProblem(ValueError):
    """What is wrong with an expression: `found` and `expected`, as Checker.fail takes."""

    def __init__(self, found: str, expected: str | None = None):
        super().__init__(found)
        self.found, self.expected = found, expected


def parse_expression(text: str) -> ast.expr:
    """The ast of one expression (SyntaxError as ExpressionProblem)."""
    try:
        return ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        raise ExpressionProblem(f"'{text.strip()}' is not an expression",
                                "an arithmetic expression") from None


def _numeric_exponent(node) -> Fraction | None:
    sign = 1
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        sign, node = -1, node.operand
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
            and not isinstance(node.value, bool):
        return sign * Fraction(node.value).limit_denominator(1000)
    return None


def unit_of(node, symbols: Mapping[str, Unit]) -> Unit:
    """The internal unit of a whitelisted expression over `symbols` (name -> Unit)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
            and not isinstance(node.value, bool):
        return DIMENSIONLESS
    if isinstance(node, ast.Name):
        if node.id not in symbols and node.id in UNITS:
            return UNITS[node.id]      # a unit literal (`140*mV/ms`): its value is its scale
        if node.id not in symbols:
            raise ExpressionProblem(f"unknown symbol '{node.id}'",
                                    "a parameter, state variable, receptor symbol, I_e or "
                                    "I_stim")
        return symbols[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return unit_of(node.operand, symbols)
    if isinstance(node, ast.BinOp):
        return _binary_unit(node, symbols)
    if isinstance(node, ast.Call):
        return _call_unit(node, symbols)
    shown = ast.unparse(node) if isinstance(node, ast.AST) else repr(node)
    raise ExpressionProblem(f"unsupported construct '{shown}'",
                            "numbers, names, + - * / **number, unary -, "
                            + " ".join(FUNCTIONS))


def _binary_unit(node: ast.BinOp, symbols) -> Unit:
    if isinstance(node.op, ast.Pow):
        exponent = _numeric_exponent(node.right)
        if exponent is None:
            raise ExpressionProblem(f"unsupported construct '{ast.unparse(node)}'",
                                    "a numeric exponent")
        return unit_of(node.left, symbols) ** exponent
    left, right = unit_of(node.left, symbols), unit_of(node.right, symbols)
    if isinstance(node.op, (ast.Add, ast.Sub)):
        if not left.same_dimension(right):
            raise ExpressionProblem(
                f"dimension mismatch in '{ast.unparse(node)}': {left} and {right}",
                "terms of one dimension")
        return left
    if isinstance(node.op, ast.Mult):
        return left * right
    if isinstance(node.op, ast.Div):
        return left / right
    raise ExpressionProblem(f"unsupported construct '{ast.unparse(node)}'",
                            "numbers, names, + - * / **number, unary -")


def _call_unit(node: ast.Call, symbols) -> Unit:
    name = node.func.id if isinstance(node.func, ast.Name) else None
    if name == PREVIOUS:
        raise ExpressionProblem(f"'{ast.unparse(node)}' outside the threshold",
                                "prev() only in `threshold` (the value at the start of "
                                "the step)")
    if name not in FUNCTIONS or node.keywords:
        raise ExpressionProblem(f"unsupported construct '{ast.unparse(node)}'",
                                "a call of one of " + ", ".join(FUNCTIONS))
    wanted = 2 if name in ("min", "max") else 1
    if len(node.args) != wanted:
        raise ExpressionProblem(f"{name}() with {len(node.args)} arguments",
                                f"{wanted} argument{'s' if wanted > 1 else ''}")
    units = [unit_of(arg, symbols) for arg in node.args]
    if name in _DIMENSIONLESS_ARGUMENT and not units[0].same_dimension(DIMENSIONLESS):
        raise ExpressionProblem(f"dimension mismatch: {name}() of {units[0]}",
                                "a dimensionless argument")
    if name == "sqrt":
        return units[0] ** Fraction(1, 2)
    if len(units) == 2 and not units[0].same_dimension(units[1]):
        raise ExpressionProblem(f"dimension mismatch: {name}() of {units[0]} and {units[1]}",
                                "arguments of one dimension")
    return units[0]
