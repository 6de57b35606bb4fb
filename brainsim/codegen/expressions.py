"""The expressions of a KernelSpec: which constructs and names they may use, the checks
made when a spec is created, and their Cython text.

An expression is parsed with Python's ast (its syntax is a subset of Cython's) and written
back with ast.unparse, which keeps the tree and so the evaluation order and grouping; only
names are renamed (an RKF45 model's integrated variables live in the ODE vector ``_y``)
and integer literals become float64 literals in float expressions, since with
``cdivision`` C would divide ``1/2`` as integers.
"""
from __future__ import annotations

import ast
import builtins
import keyword
import re

FUNCTIONS = frozenset({"exp", "expm1", "log", "log1p", "sqrt", "pow", "fabs", "fmin", "fmax",
                       "floor", "ceil", "sin", "cos", "tan", "tanh", "sinh", "cosh", "asin",
                       "acos", "atan"})
I_STIM = "I_stim"
IS_REFRACTORY = "is_refractory"
INPUT_PREFIX = "input_"
# Names the generated module or update() use themselves, or that Cython/C reserve.
UPDATE_ARGUMENTS = ("seg_begin", "seg_end", "seg_params", "ring", "local_gids", "plan",
                    "first_step", "n_steps", "seed", "spike_keys", "i_ext")
_CYTHON_WORDS = {"cdef", "cpdef", "ctypedef", "struct", "union", "enum", "extern", "include",
                 "nogil", "gil", "inline", "readonly", "public", "api", "sizeof", "NULL",
                 "new", "cimport", "noexcept", "except", "DEF", "IF", "ELIF", "ELSE", "const",
                 "signed", "unsigned", "double", "float", "int", "long", "short", "char",
                 "bint", "void", "object", "size_t", "Py_ssize_t", "int32_t", "int64_t",
                 "uint32_t", "uint64_t", "fused", "cython", "volatile", "auto", "register",
                 "static", "goto", "switch", "case", "default", "do", "typedef", "restrict"}
RESERVED = frozenset(set(keyword.kwlist) | set(keyword.softkwlist) | set(dir(builtins))
                     | _CYTHON_WORDS | FUNCTIONS | set(UPDATE_ARGUMENTS)
                     | {I_STIM, IS_REFRACTORY, "update", "SEGMENT_COLUMNS", "STATE_ARGUMENTS",
                        "NUM_COLUMNS", "MODEL"})
_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div)
_COMPARISONS = (ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq)


class KernelSpecError(ValueError):
    """A KernelSpec that cannot be generated: a bad name, an unknown symbol, an
    unsupported construct (the message says which field and what)."""


def check_name(name, what: str, reserved: bool = True) -> None:
    """A name the spec declares: a C identifier not starting with '_' and (``reserved``)
    not reserved. Receptor names are only used inside ``input_<name>``, so "in" is fine."""
    if not isinstance(name, str) or not _IDENTIFIER.match(name):
        raise KernelSpecError(f"{what} {name!r} is not a C identifier (letters, digits, '_', "
                              "starting with a letter)")
    if reserved and (name in RESERVED or name.startswith(INPUT_PREFIX)):
        raise KernelSpecError(f"{what} {name!r} is a reserved name")


def _check_node(node: ast.AST, known: frozenset, where: str, integer: bool) -> None:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise KernelSpecError(f"{where}: constant {node.value!r} is not a number")
    elif isinstance(node, ast.Name):
        if node.id not in known:
            raise KernelSpecError(f"{where}: unknown name '{node.id}' (known here: "
                                  f"{', '.join(sorted(known))})")
    elif isinstance(node, ast.BinOp):
        if not isinstance(node.op, _OPERATORS):
            raise KernelSpecError(f"{where}: operator {type(node.op).__name__} is not "
                                  "supported (+ - * / only; pow() for powers)")
    elif isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.USub, ast.UAdd, ast.Not)):
            raise KernelSpecError(f"{where}: unary {type(node.op).__name__} is not supported")
    elif isinstance(node, ast.Compare):
        if len(node.ops) != 1 or not isinstance(node.ops[0], _COMPARISONS):
            raise KernelSpecError(f"{where}: only single comparisons < <= > >= == != "
                                  "are supported")
    elif isinstance(node, ast.Call):
        if (not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS
                or node.keywords):
            raise KernelSpecError(f"{where}: only calls of {', '.join(sorted(FUNCTIONS))} "
                                  "are supported")
        if integer:
            raise KernelSpecError(f"{where}: an int32 expression cannot call functions")
        for arg in node.args:
            _check_node(arg, known, where, integer)
        return
    elif not isinstance(node, (ast.BoolOp, ast.IfExp, ast.Load, ast.operator, ast.cmpop,
                               ast.unaryop, ast.boolop)):
        raise KernelSpecError(f"{where}: {type(node).__name__} is not supported")
    for child in ast.iter_child_nodes(node):
        _check_node(child, known, where, integer)


def parse(text, known, where: str, integer: bool = False) -> ast.AST:
    """The checked tree of one expression; KernelSpecError names ``where`` otherwise."""
    if not isinstance(text, str):
        raise KernelSpecError(f"{where}: expected an expression string, got {text!r}")
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        raise KernelSpecError(f"{where}: cannot parse {text!r} ({exc.msg})") from None
    _check_node(tree, frozenset(known), where, integer)
    return tree


class _Rewrite(ast.NodeTransformer):
    def __init__(self, rename: dict, integer: bool):
        self.rename = rename
        self.integer = integer

    def visit_Name(self, node):
        target = self.rename.get(node.id)
        return ast.parse(target, mode="eval").body if target else node

    def visit_Constant(self, node):
        if not self.integer and isinstance(node.value, int):
            return ast.Constant(float(node.value))
        return node


def cython_text(text: str, rename: dict | None = None, integer: bool = False) -> str:
    """The Cython source of a checked expression: names renamed (name -> Cython text,
    e.g. 'V_m' -> '_y[0]'), integer literals written as float64 unless ``integer``."""
    tree = ast.parse(text.strip(), mode="eval")
    tree = _Rewrite(rename or {}, integer).visit(tree)
    return ast.unparse(ast.fix_missing_locations(tree))


def names_in(text: str) -> set[str]:
    """The names a (checked) expression reads."""
    return {node.id for node in ast.walk(ast.parse(text.strip(), mode="eval"))
            if isinstance(node, ast.Name)}


def _unique(names, what: str) -> None:
    seen = set()
    for name in names:
        if name in seen:
            raise KernelSpecError(f"{what}: '{name}' is declared twice")
        seen.add(name)


def _check_assigned(pairs, allowed, known, where: str) -> None:
    for target, expression in pairs:
        if target not in allowed:
            raise KernelSpecError(f"{where}: '{target}' is not a state variable it may "
                                  f"assign ({', '.join(allowed)})")
        parse(expression, known, f"{where} '{target}'")


def check_spec(spec) -> None:
    """Every check a KernelSpec gets when it is made (KernelSpecError on the first)."""
    from brainsim.codegen import kernel_spec as ks
    check_name(spec.model, "model name")
    variables = spec.variable_names
    for name in variables:
        check_name(name, "state variable")
    for name in spec.columns:
        check_name(name, "column")
    for receptor in spec.receptors:
        check_name(receptor.name, "receptor", reserved=False)
    _unique(variables + tuple(spec.columns), "state variables and columns")
    _unique([r.name for r in spec.receptors], "receptors")
    if reserved := {ks.I_0, ks.REFRACTORY, ks.ODE_H} & set(variables):
        raise KernelSpecError(f"variables: {sorted(reserved)} are the kernel's own arrays, "
                              "named in state_arguments only")
    expected = set(variables) | {ks.I_0, ks.REFRACTORY} | ({ks.ODE_H} if spec.uses_rkf45
                                                            else set())
    _unique(spec.state_arguments, "state_arguments")
    if set(spec.state_arguments) != expected:
        raise KernelSpecError(f"state_arguments {tuple(spec.state_arguments)} must name "
                              f"exactly {sorted(expected)}")
    columns = frozenset(spec.columns)
    if not set(spec.integer_columns) <= columns:
        raise KernelSpecError(f"integer_columns {sorted(set(spec.integer_columns) - columns)} "
                              "are not columns")
    for variable in spec.variables:
        if variable.offset is not None and variable.offset not in columns:
            raise KernelSpecError(f"offset of '{variable.name}': '{variable.offset}' is not "
                                  "a column")
    inputs = {INPUT_PREFIX + r.name for r in spec.receptors}
    step_names = frozenset(set(variables) | columns | inputs | {I_STIM})
    for receptor in spec.receptors:
        # -1: kernel_spec.SUMMED_CHANNELS (channels 0 and 1 summed)
        if not (isinstance(receptor.channel, int) and receptor.channel >= -1):
            raise KernelSpecError(f"receptor '{receptor.name}': channel {receptor.channel!r} "
                                  "is not a channel index")
        if receptor.target is not None and receptor.target not in variables:
            raise KernelSpecError(f"receptor '{receptor.name}': target '{receptor.target}' "
                                  "is not a state variable")
        parse(receptor.factor, columns, f"receptor '{receptor.name}' factor")
    for name, variable in spec.previous:
        check_name(name, "previous-value name")
        if variable not in variables:
            raise KernelSpecError(f"previous '{name}': '{variable}' is not a state variable")
    _unique(variables + tuple(spec.columns) + tuple(n for n, _ in spec.previous),
            "state variables, columns and previous-value names")
    parse(spec.threshold, step_names | {n for n, _ in spec.previous}, "threshold")
    _check_assigned(spec.reset, variables, step_names, "reset")
    if spec.refractory_steps is not None:
        parse(spec.refractory_steps, columns, "refractory_steps", integer=True)
    if isinstance(spec.update, ks.ExactUpdate):
        _check_exact(spec.update, variables, step_names)
    elif isinstance(spec.update, ks.Rkf45Update):
        _check_rkf45(spec.update, variables, columns, step_names)
    else:
        raise KernelSpecError(f"update: {spec.update!r} is neither ExactUpdate nor "
                              "Rkf45Update")


def _check_exact(update, variables, step_names) -> None:
    _unique([target for target, _ in update.assignments], "exact assignments")
    _check_assigned(update.assignments, variables, step_names, "exact assignment")
    for name in update.clamped:
        if name not in variables:
            raise KernelSpecError(f"clamped: '{name}' is not a state variable")
    _check_assigned(update.after, variables, step_names, "after")


RKF45_MAX_DIM = 8      # cython_kernels/rkf45.pxd


def _check_rkf45(update, variables, columns, step_names) -> None:
    integrated = [name for name, _ in update.derivatives]
    _unique(integrated, "derivatives")
    if not 1 <= len(integrated) <= RKF45_MAX_DIM:
        raise KernelSpecError(f"derivatives: {len(integrated)} integrated variables; RKF45 "
                              f"takes 1 to {RKF45_MAX_DIM}")
    for name in integrated:
        if name not in variables:
            raise KernelSpecError(f"derivatives: '{name}' is not a state variable")
    known = set(integrated) | columns | {I_STIM, IS_REFRACTORY}
    for name, expression in update.definitions:
        check_name(name, "definition")
        if name in known:
            raise KernelSpecError(f"definition '{name}' repeats a name it can see")
        parse(expression, known, f"definition '{name}'")
        known.add(name)
    for name, expression in update.derivatives:
        parse(expression, known, f"derivative of '{name}'")
    if update.dt not in columns:
        raise KernelSpecError(f"dt: '{update.dt}' is not a column")
    for field in ("eps_abs", "eps_rel", "a_y", "a_dydt"):
        parse(getattr(update, field), columns, field)
    _check_assigned(update.held, variables, step_names, "held")
    if update.unstable is not None:
        parse(update.unstable, set(variables) | columns, "unstable")
