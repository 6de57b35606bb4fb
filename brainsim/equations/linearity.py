"""Is an expression affine in the state variables, with parameter-only coefficients?
Each node is classed PARAMETER (numbers, parameters), INPUT (also inputs such as receptor
currents, no state) or AFFINE (linear in state); None means not affine."""
from __future__ import annotations

import ast

PARAMETER, INPUT, AFFINE = 0, 1, 2


def affine_in_state(node, parameters, state, expansions) -> bool:
    return _kind(node, parameters, state, expansions) is not None


def _kind(node, parameters, state, expansions):
    if isinstance(node, ast.Constant):
        return PARAMETER
    if isinstance(node, ast.Name):
        if node.id in expansions:
            return _kind(expansions[node.id], parameters, state, expansions)
        if node.id in state:
            return AFFINE
        return PARAMETER if node.id in parameters else INPUT
    if isinstance(node, ast.UnaryOp):
        return _kind(node.operand, parameters, state, expansions)
    if isinstance(node, ast.BinOp):
        left = _kind(node.left, parameters, state, expansions)
        right = _kind(node.right, parameters, state, expansions)
        if left is None or right is None:
            return None
        return _binary(node, left, right)
    if isinstance(node, ast.Call):
        kinds = [_kind(a, parameters, state, expansions) for a in node.args]
        if any(k is None or k == AFFINE for k in kinds):
            return None
        return max(kinds, default=PARAMETER)
    return None


def _binary(node, left, right):
    if isinstance(node.op, (ast.Add, ast.Sub)):
        return max(left, right)
    if isinstance(node.op, ast.Mult):
        if PARAMETER in (left, right):
            return max(left, right)
        return INPUT if AFFINE not in (left, right) else None
    if isinstance(node.op, ast.Div):
        if right == PARAMETER:
            return left
        return INPUT if AFFINE not in (left, right) else None
    if isinstance(node.op, ast.Pow):
        if left == AFFINE:
            return AFFINE if isinstance(node.right, ast.Constant) and node.right.value == 1 \
                else None
        return max(left, right) if right != AFFINE else None
    return None
