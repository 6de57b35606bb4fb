"""Parse and check one `neuron_models.<name>` mapping into an EquationModel. Every problem
is one SpecError at the YAML path of the entry the user has to edit."""
from __future__ import annotations

import ast
import re

from brainsim.spec.checker import Checker, describe

from .dimensions import PREVIOUS, ExpressionProblem, parse_expression, unit_of
from .ir import Auxiliary, EquationModel, Parameter, StateVariable, Threshold
from .receptors import read_receptors
from .solver import read_rkf45_control
from .units import UNITS, Unit, UnitError, parse_quantity, parse_unit

MODEL_KEYS = ("parameters", "state", "expressions", "equations", "update", "receptors",
              "threshold", "reset", "refractory", "rkf45")
ALWAYS_AVAILABLE = {"I_e": UNITS["pA"], "I_stim": UNITS["pA"]}  # I_e defaults to 0 pA
EQUATION = re.compile(r"^\s*d\s*([A-Za-z_][A-Za-z0-9_]*)\s*/\s*dt\s*=(.*)$")
ASSIGNMENT = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$")
STEP = "dt"   # the resolution (ms), readable in `update:` lines
COMPARISONS = {ast.GtE: ">=", ast.Gt: ">", ast.LtE: "<=", ast.Lt: "<"}
PER_MS = UNITS["ms"] ** -1


def parse_neuron_model(ck: Checker, name: str, spec) -> EquationModel:
    """The model `neuron_models.<name>` of the document read through `ck`."""
    path = ("neuron_models", name)
    ck.mapping(spec, path, MODEL_KEYS, required=("parameters", "state", "threshold"))
    if ("equations" in spec) == ("update" in spec):
        ck.fail(path, "both 'equations' and 'update'" if "equations" in spec else
                "neither 'equations' nor 'update'", "one of them: 'equations' (dX/dt = ...) "
                "or 'update' (X = ..., one step of dt)")
    parameters = _read_parameters(ck, spec, path + ("parameters",))
    units = {p.name: p_unit for p, p_unit in parameters.values()}
    state = _read_state(ck, spec, path + ("state",), units)
    state_units = {s.name: unit for s, unit in state.values()}
    receptors = read_receptors(ck, spec, path + ("receptors",), units, state_units)
    symbols = {**units, **state_units, **_receptor_symbols(ck, receptors, units, state_units,
                                                           path + ("receptors",))}
    auxiliaries = _read_auxiliaries(ck, spec, path + ("expressions",), symbols)
    symbols.update({a.name: unit for a, unit in auxiliaries})
    if "update" in spec:
        _only_delta_receptors(ck, receptors, path + ("receptors",))
        equations = ()
        updates = _read_updates(ck, spec, path + ("update",), state_units, symbols)
    else:
        equations = _read_equations(ck, spec, path + ("equations",), state_units, symbols)
        updates = ()
    return EquationModel(
        updates=updates,
        auxiliaries=tuple(a for a, _ in auxiliaries),
        rkf45=read_rkf45_control(ck, spec, path + ("rkf45",)),
        name=name, parameters=tuple(p for p, _ in parameters.values()),
        state=tuple(s for s, _ in state.values()), equations=equations, receptors=receptors,
        threshold=_read_threshold(ck, spec, path, symbols, _state_variables(
            state_units, receptors)),
        reset=_read_reset(ck, spec, path + ("reset",), state_units, symbols),
        **_read_refractory(ck, spec, path + ("refractory",), units, state_units))


def _expression_unit(ck, text, path, symbols) -> tuple[ast.expr, Unit]:
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        text = repr(float(text))
    if not isinstance(text, str):
        ck.fail(path, describe(text), "an expression")
    try:
        tree = parse_expression(text)
        return tree, unit_of(tree, symbols)
    except ExpressionProblem as problem:
        ck.fail(path, problem.found, problem.expected)


def _literal(ck, value, path) -> tuple | None:
    """A '<number> <unit>' string as (value, Unit), None for an expression."""
    if not isinstance(value, str):
        return None
    try:
        return parse_quantity(value)
    except UnitError as err:
        ck.fail(path, str(err), "a number and a unit, or an expression")


def _read_parameters(ck, spec, path) -> dict:
    body = spec["parameters"]
    ck.mapping(body, path, list(body) if isinstance(body, dict) else [])
    out = {}
    if "I_stim" in body:
        ck.fail(path + ("I_stim",), "parameter 'I_stim' clashes with the summed input "
                "current I_stim", "another name")
    for key, value in {"I_e": "0 pA", **body}.items():
        try:
            quantity = parse_quantity(value)
        except UnitError as err:
            ck.fail(path + (key,), str(err), "a number and a unit, e.g. '250 pF'")
        if quantity is None:
            ck.fail(path + (key,), describe(value), "a number and a unit, e.g. '250 pF'")
        if key == "I_e" and not quantity[1].same_dimension(UNITS["pA"]):
            ck.fail(path + (key,), f"dimension mismatch: I_e in {quantity[1]}", "a current")
        out[key] = (Parameter(key, str(quantity[1]), quantity[0]), quantity[1])
    return out


def _read_state(ck, spec, path, units) -> dict:
    body = spec["state"]
    ck.mapping(body, path, list(body) if isinstance(body, dict) else [])
    out = {}
    for key, value in body.items():
        if key in units:
            ck.fail(path + (key,), f"state variable '{key}' clashes with parameter '{key}'",
                    "distinct names")
        quantity = _literal(ck, value, path + (key,))
        if quantity is not None:
            out[key] = (StateVariable(key, str(quantity[1]), repr(quantity[0])), quantity[1])
            continue
        tree, unit = _expression_unit(ck, value, path + (key,), units)
        out[key] = (StateVariable(key, str(unit), ast.unparse(tree)), unit)
    return out


def _receptor_symbols(ck, receptors, units, state_units, path) -> dict:
    """Receptor symbols and their units; a clash with another name is an error."""
    out = dict(ALWAYS_AVAILABLE)
    for receptor in receptors:
        own = {name: parse_unit(unit) for name, unit in receptor.state}
        if receptor.current_symbol:
            own[receptor.current_symbol] = UNITS["pA"]
        for symbol, unit in own.items():
            if symbol in units or symbol in state_units or symbol in out:
                ck.fail(path + (receptor.name,), f"receptor symbol '{symbol}' clashes with "
                        "a parameter, state variable or other symbol", "distinct names")
            out[symbol] = unit
    return out


def _read_auxiliaries(ck, spec, path, symbols) -> list:
    """`expressions:` name -> expression, each usable after its definition."""
    body = spec.get("expressions", {})
    ck.mapping(body, path, list(body) if isinstance(body, dict) else [],
               what="a mapping of name to expression")
    known, out = dict(symbols), []
    for name, text in body.items():
        here = path + (name,)
        if name in known:
            ck.fail(here, f"expression name '{name}' clashes with another symbol",
                    "a new name")
        if not re.match(r"^[A-Za-z][A-Za-z0-9_]*$", name):
            ck.fail(here, f"expression name '{name}'", "an identifier")
        tree, unit = _expression_unit(ck, text, here, known)
        known[name] = unit
        out.append((Auxiliary(name, str(unit), ast.unparse(tree)), unit))
    return out


def _block_lines(ck, text, path, form: str) -> list[str]:
    """The lines of a `|` block without comments and blank lines (`path[i]` counts them)."""
    if not isinstance(text, str):
        ck.fail(path, describe(text), f"a block of lines {form}")
    lines = [line.split("#")[0] for line in text.splitlines()]
    return [line for line in lines if line.strip()]


def _read_equations(ck, spec, path, state_units, symbols) -> tuple:
    lines = _block_lines(ck, spec["equations"], path, "'dX/dt = expression'")
    out = {}
    for index, line in enumerate(lines):
        here = path + (index,)
        match = EQUATION.match(line)
        if not match:
            ck.fail(here, f"'{line.strip()}' is not an equation", "'dX/dt = expression'")
        variable, rhs = match.group(1), match.group(2)
        if variable not in state_units:
            ck.fail(here, f"equation for unknown variable '{variable}'",
                    "one of the state variables " + ", ".join(state_units))
        if variable in out:
            ck.fail(here, f"duplicate equation for '{variable}'", "one equation per variable")
        tree, unit = _expression_unit(ck, rhs, here, symbols)
        wanted = state_units[variable] * PER_MS
        if not unit.same_dimension(wanted):
            ck.fail(here, f"dimension mismatch: d{variable}/dt is in {unit}",
                    f"{wanted} (unit of {variable} per ms)")
        out[variable] = ast.unparse(tree)
    missing = [name for name in state_units if name not in out]
    if missing:
        ck.fail(path, f"state variable '{missing[0]}' without equation",
                f"a line 'd{missing[0]}/dt = ...'")
    return tuple(out.items())


def _only_delta_receptors(ck, receptors, path) -> None:
    """An `update:` model integrates nothing itself: its receptors must be delta ports."""
    for receptor in receptors:
        if receptor.kernel != "delta":
            ck.fail(tuple(path) + (receptor.name, "kernel"), f"kernel {receptor.kernel} in a "
                    "model with 'update'", "delta (an 'update' model has no equations to "
                    "integrate a receptor's current; write it with 'equations')")


def _read_updates(ck, spec, path, state_units, symbols) -> tuple:
    """`update:` lines 'X = expression': X after one step of dt (ms, readable as `dt`),
    every right-hand side reading the values at the start of the step (forward Euler or
    any explicit map, e.g. NEST's izhikevich). Variables without a line keep their value."""
    lines = _block_lines(ck, spec["update"], path, "'X = expression'")
    known = {**symbols, STEP: UNITS["ms"]}
    out = {}
    for index, line in enumerate(lines):
        here = path + (index,)
        match = ASSIGNMENT.match(line)
        if not match:
            ck.fail(here, f"'{line.strip()}' is not an assignment", "'X = expression'")
        variable, rhs = match.group(1), match.group(2)
        if variable not in state_units:
            ck.fail(here, f"update of unknown variable '{variable}'",
                    "one of the state variables " + ", ".join(state_units))
        if variable in out:
            ck.fail(here, f"'{variable}' updated twice", "one line per variable")
        tree, unit = _expression_unit(ck, rhs, here, known)
        if not unit.same_dimension(state_units[variable]):
            ck.fail(here, f"dimension mismatch: the new {variable} is in {unit}",
                    f"{state_units[variable]} (the unit of {variable})")
        out[variable] = ast.unparse(tree)
    if not out:
        ck.fail(path, "no update lines", "'X = expression' for the state variables")
    return tuple(out.items())


def _state_variables(state_units, receptors) -> dict:
    """Every state variable (declared, then the receptors') -> its Unit."""
    out = dict(state_units)
    for receptor in receptors:
        out.update({name: parse_unit(unit) for name, unit in receptor.state})
    return out


def _read_threshold(ck, spec, path, symbols, state) -> Threshold:
    """One comparison, or comparisons joined by `and`; prev(X) of a state variable X
    stands for X at the start of the step."""
    here = path + ("threshold",)
    tree = None
    if isinstance(spec["threshold"], str):
        try:
            tree = parse_expression(spec["threshold"])
        except ExpressionProblem as problem:
            ck.fail(here, problem.found, problem.expected)
    parts = (tree.values if isinstance(tree, ast.BoolOp) and isinstance(tree.op, ast.And)
             else [tree])
    if not all(isinstance(part, ast.Compare) and len(part.ops) == 1
               and type(part.ops[0]) in COMPARISONS for part in parts):
        ck.fail(here, f"threshold {describe(spec['threshold'])} is not a comparison",
                "'a >= b' (>=, >, <= or <), or such comparisons joined by 'and'")
    previous = []
    known = dict(symbols)
    comparisons = []
    for part in parts:
        sides = []
        for side in (part.left, part.comparators[0]):
            for variable in _previous_calls(ck, side, here, state):
                if variable not in previous:
                    previous.append(variable)
                known[f"{PREVIOUS}({variable})"] = state[variable]
            text = ast.unparse(side)
            sides.append((text, _side_unit(ck, side, here, known)))
        (left_text, left), (right_text, right) = sides
        if not left.same_dimension(right):
            ck.fail(here, f"dimension mismatch: {left} compared with {right}",
                    "both sides of one dimension")
        comparisons.append((left_text, COMPARISONS[type(part.ops[0])], right_text))
    first, *more = comparisons
    return Threshold(*first, more=tuple(more), previous=tuple(previous))


def _previous_calls(ck, tree, here, state) -> list:
    """The variables of the prev() calls in `tree` (each one state variable)."""
    out = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id == PREVIOUS):
            continue
        argument = node.args[0] if len(node.args) == 1 and not node.keywords else None
        if not isinstance(argument, ast.Name):
            ck.fail(here, f"'{ast.unparse(node)}'", "prev(<state variable>): one state "
                    "variable")
        if argument.id not in state:
            ck.fail(here, f"prev() of '{argument.id}', not a state variable",
                    "one of the state variables " + ", ".join(state))
        out.append(argument.id)
    return out


class _PreviousAsName(ast.NodeTransformer):
    """prev(X) -> the name 'prev(X)' (its unit is X's; no symbol can be named so)."""

    def visit_Call(self, node):
        if isinstance(node.func, ast.Name) and node.func.id == PREVIOUS:
            return ast.Name(f"{PREVIOUS}({node.args[0].id})", ast.Load())
        return self.generic_visit(node)


def _side_unit(ck, side, here, known) -> Unit:
    tree = _PreviousAsName().visit(parse_expression(ast.unparse(side)))
    try:
        return unit_of(tree, known)
    except ExpressionProblem as problem:
        ck.fail(here, problem.found, problem.expected)


def _read_reset(ck, spec, path, state_units, symbols) -> tuple:
    body = spec.get("reset", {})
    ck.mapping(body, path, list(state_units), what="a mapping of state variable to value")
    out = []
    for variable, value in body.items():
        tree, unit = _expression_unit(ck, value, path + (variable,), symbols)
        if not unit.same_dimension(state_units[variable]):
            ck.fail(path + (variable,), f"dimension mismatch: {variable} reset to {unit}",
                    f"a value in {state_units[variable]}")
        out.append((variable, ast.unparse(tree)))
    return tuple(out)


def _read_refractory(ck, spec, path, units, state_units) -> dict:
    if "refractory" not in spec:
        return {"refractory_duration": None, "clamped": ()}
    body = spec["refractory"]
    ck.mapping(body, path, ("duration", "clamp"), required=("duration",))
    literal = _literal(ck, body["duration"], path + ("duration",))
    if literal is not None:
        tree, unit = ast.Constant(literal[0]), literal[1]
    else:
        tree, unit = _expression_unit(ck, body["duration"], path + ("duration",), units)
    if not unit.same_dimension(UNITS["ms"]):
        ck.fail(path + ("duration",), f"dimension mismatch: duration in {unit}", "a time (ms)")
    clamped = ck.list_of(body, "clamp", path)
    for index, variable in enumerate(clamped):
        if variable not in state_units:
            ck.fail(path + ("clamp", index), f"clamp of unknown variable {describe(variable)}",
                    "one of the state variables " + ", ".join(state_units))
    return {"refractory_duration": ast.unparse(tree), "clamped": tuple(clamped)}
