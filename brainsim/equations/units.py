"""Dimensional units of the equation language. A Unit is a dimension (exponents of
voltage, time, current) and the factor that converts a value to brainsim's internal units
(mV, ms, pA; hence pF = pA*ms/mV, nS = pA/mV, GOhm = mV/pA, 1/ms for rates)."""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class Unit:
    """dims: exponents of (voltage, time, current); scale: internal units per unit."""
    dims: tuple = (Fraction(0), Fraction(0), Fraction(0))
    scale: float = 1.0

    def __mul__(self, other: "Unit") -> "Unit":
        return Unit(tuple(a + b for a, b in zip(self.dims, other.dims)), self.scale * other.scale)

    def __truediv__(self, other: "Unit") -> "Unit":
        return Unit(tuple(a - b for a, b in zip(self.dims, other.dims)), self.scale / other.scale)

    def __pow__(self, exponent) -> "Unit":
        e = Fraction(exponent)
        return Unit(tuple(a * e for a in self.dims), self.scale ** float(e))

    def same_dimension(self, other: "Unit") -> bool:
        return self.dims == other.dims

    @property
    def internal(self) -> "Unit":
        """This dimension with scale 1 (values already converted)."""
        return Unit(self.dims, 1.0)

    def __str__(self) -> str:
        return internal_name(self.dims)


def _u(v, t, i, scale=1.0) -> Unit:
    return Unit((Fraction(v), Fraction(t), Fraction(i)), scale)


DIMENSIONLESS = _u(0, 0, 0)
UNITS = {
    "mV": _u(1, 0, 0), "V": _u(1, 0, 0, 1e3),
    "ms": _u(0, 1, 0), "s": _u(0, 1, 0, 1e3),
    "pA": _u(0, 0, 1), "nA": _u(0, 0, 1, 1e3),
    "pF": _u(-1, 1, 1), "nF": _u(-1, 1, 1, 1e3),
    "nS": _u(-1, 0, 1), "uS": _u(-1, 0, 1, 1e3),
    "Hz": _u(0, -1, 0, 1e-3),                       # 1/s = 1e-3 per ms
    "MOhm": _u(1, 0, -1, 1e-3), "GOhm": _u(1, 0, -1),  # 1 MOhm = 1 mV/nA = 1e-3 mV/pA
}
# How an internal dimension is shown in messages and in the IR.
_NAMES = {(1, 0, 0): "mV", (0, 1, 0): "ms", (0, 0, 1): "pA", (-1, 1, 1): "pF",
          (-1, 0, 1): "nS", (0, -1, 0): "1/ms", (1, 0, -1): "GOhm", (0, 0, 0): "1",
          (1, -1, 0): "mV/ms", (0, -1, 1): "pA/ms", (-1, -1, 1): "nS/ms"}


def internal_name(dims) -> str:
    """The internal unit of a dimension, e.g. 'mV/ms' (else a product of powers)."""
    key = tuple(int(d) if d.denominator == 1 else d for d in dims)
    if key in _NAMES:
        return _NAMES[key]
    parts = [n if d == 1 else f"{n}^{d}" for n, d in zip(("mV", "ms", "pA"), key) if d != 0]
    return " ".join(parts)


class UnitError(ValueError):
    """A unit or quantity string that cannot be read; str is what was expected."""


def parse_unit(text: str) -> Unit:
    """'pF', '1/ms', 'mV/ms', 'nS*mV', 'ms**-1' as a Unit."""
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        raise UnitError(f"unit '{text}' is not a unit expression") from None
    return _unit_of(tree, text)


def _unit_of(node, text: str) -> Unit:
    if isinstance(node, ast.Name) and node.id in UNITS:
        return UNITS[node.id]
    if isinstance(node, ast.Constant) and node.value == 1:
        return DIMENSIONLESS
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Div)):
        left, right = _unit_of(node.left, text), _unit_of(node.right, text)
        return left * right if isinstance(node.op, ast.Mult) else left / right
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
        exponent = node.right
        sign = 1
        if isinstance(exponent, ast.UnaryOp) and isinstance(exponent.op, ast.USub):
            sign, exponent = -1, exponent.operand
        if isinstance(exponent, ast.Constant) and isinstance(exponent.value, int):
            return _unit_of(node.left, text) ** (sign * exponent.value)
    raise UnitError(f"unknown unit '{text}' (known: {', '.join(UNITS)}, 1/ms, products, "
                    "quotients, integer powers)")


QUANTITY = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(.*?)\s*$")


def parse_quantity(value) -> tuple[float, Unit] | None:
    """'250 pF' -> (250.0, pF) in internal units (value * scale); a bare number is
    dimensionless; None when `value` is not a number followed by a unit."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value), DIMENSIONLESS
    if not isinstance(value, str):
        return None
    match = QUANTITY.match(value)
    if not match:
        return None
    number, unit_text = float(match.group(1)), match.group(2)
    if not unit_text:
        return number, DIMENSIONLESS
    if unit_text == "1/ms" or not unit_text.startswith(("/", "*")):
        unit = parse_unit(unit_text)
        return number * unit.scale, unit.internal
    return None
