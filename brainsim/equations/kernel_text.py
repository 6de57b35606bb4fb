"""Expressions of the equation language written in the KernelSpec expression subset
(brainsim.codegen.expressions): the tree and so the grouping and evaluation order are
kept, so an equation written with a built-in's grouping evaluates to the built-in's bits.
`**` becomes pow(), abs/min/max become fabs/fmin/fmax, unit literals their scale, and
names can be replaced by other expressions (auxiliaries inlined, conductance currents)."""
from __future__ import annotations

import ast
from typing import Mapping

from .units import UNITS

_RENAMED_FUNCTIONS = {"abs": "fabs", "min": "fmin", "max": "fmax"}


class _ToKernel(ast.NodeTransformer):
    def __init__(self, known: frozenset, replacements: Mapping[str, ast.expr]):
        self.known, self.replacements = known, replacements

    def visit_Name(self, node):
        if node.id in self.replacements:
            return _ToKernel(self.known, self.replacements).visit(
                _copy(self.replacements[node.id]))
        if node.id not in self.known and node.id in UNITS:
            return ast.Constant(float(UNITS[node.id].scale))
        return node

    def visit_Constant(self, node):
        return ast.Constant(float(node.value))    # C would divide integer literals as ints

    def visit_BinOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, ast.Pow):
            return ast.Call(ast.Name("pow", ast.Load()), [node.left, node.right], [])
        return node

    def visit_Call(self, node):
        self.generic_visit(node)
        node.func = ast.Name(_RENAMED_FUNCTIONS.get(node.func.id, node.func.id), ast.Load())
        return node


def _copy(tree: ast.expr) -> ast.expr:
    return ast.parse(ast.unparse(tree), mode="eval").body


def kernel_text(text: str, known, replacements: Mapping[str, str] | None = None) -> str:
    """`text` (checked by the parser) in the KernelSpec subset. `known`: the model's
    symbols (so a parameter named like a unit stays a name); `replacements`: name ->
    expression text put in its place (parenthesised by the tree)."""
    trees = {name: ast.parse(value, mode="eval").body
             for name, value in (replacements or {}).items()}
    tree = _ToKernel(frozenset(known), trees).visit(ast.parse(text, mode="eval").body)
    return ast.unparse(ast.fix_missing_locations(tree))
