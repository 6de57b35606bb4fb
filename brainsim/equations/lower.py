"""Lowering a ModelIR to the code generator's KernelSpec (brainsim/codegen/kernel_spec.py)
plus the Python function that computes its per-segment columns before the run.

Exact models keep their offset variables relative in the kernel, as NEST does (the
array holds V_m - E_L; threshold and parameter-only resets become columns such as
threshold_V_m = V_th - E_L), so iaf_psc_exp/alpha written as equations compute the
built-ins' values with the built-ins' operations. RKF45 models keep absolute values.
Receptors map in order onto the ring's channels: the first reads weights >= 0, the second
weights < 0 (a conductance receptor on it subtracts its negative weights, as NEST). A
model with more than two receptors is receptor-addressed (NEST's *_multisynapse): receptor
k reads channel k, which holds the weights of either sign of the connections naming it."""
from __future__ import annotations

import ast
import dataclasses
from dataclasses import dataclass
from typing import Callable, Mapping

from brainsim.codegen.kernel_spec import (MAX_ADDRESSED_CHANNELS, RING_CHANNELS,
                                          ExactUpdate, KernelSpec,
                                          Receptor as PortSpec, Rkf45Update, StateArray,
                                          default_arguments)
from brainsim.spec.expressions import evaluate as evaluate_expression
from brainsim.timesteps import steps_rounded_up

from .dimensions import PREVIOUS
from .ir import ModelIR
from .nest_formulas import beta_normalization_factor
from .numeric import evaluate as evaluate_propagators

STEP_COLUMN = "h_step"              # the simulation step (ms), RKF45 models
REFRACTORY_COLUMN = "refractory_counts"


class LowerError(ValueError):
    """An IR the kernel cannot express (e.g. more receptors than ring channels)."""


@dataclass(frozen=True)
class LoweredModel:
    """spec: the KernelSpec. segment_constants(values, dt) -> {column: float} for the
    parameter values (internal units, every parameter) of one segment and the step dt
    (ms). stored_offsets: (variable, offset expression over parameters): the kernel's
    array holds value - offset (recording and initial values must convert)."""
    spec: KernelSpec
    segment_constants: Callable[[Mapping[str, float], float], dict]
    stored_offsets: tuple


def lower(ir: ModelIR) -> LoweredModel:
    addressed = receptor_addressed(ir)
    if len(ir.receptors) > MAX_ADDRESSED_CHANNELS:
        raise LowerError(f"model '{ir.name}' has {len(ir.receptors)} receptors; at most "
                         f"{MAX_ADDRESSED_CHANNELS} (ring channels)")
    offsets = dict(ir.linear.offsets) if ir.linear else {}
    constants = {}      # column -> function(values, dt) for the derived columns
    ports = tuple(_port(r, channel, constants, addressed)
                  for channel, r in enumerate(ir.receptors))
    threshold = _stored_threshold(ir, offsets, constants)
    reset = tuple(_stored_reset(variable, text, ir, offsets, constants)
                  for variable, text in ir.reset)
    refractory = _refractory(ir, constants)
    update = (_exact(ir) if ir.scheme == "exact" else _explicit(ir, constants)
              if ir.scheme == "explicit" else _rkf45(ir, constants))
    if ir.scheme == "explicit":
        update, ports = _fused_inputs(update, ports)
    parameter_columns = tuple(p.name for p in ir.parameters)
    propagator_columns = tuple(p.name for p in ir.linear.propagators) if ir.linear else ()
    columns = parameter_columns + propagator_columns + tuple(constants)
    variables = tuple(StateArray(s.name) for s in ir.state)
    previous = _previous_names(ir, set(columns) | {v.name for v in variables})
    spec = KernelSpec(
        model=ir.name, variables=variables,
        state_arguments=default_arguments(variables, ir.scheme == "rkf45"),
        columns=columns, receptors=ports, update=update,
        threshold=_previous_renamed(threshold, dict(previous)), reset=reset,
        refractory_steps=refractory,
        integer_columns=(REFRACTORY_COLUMN,) if refractory else (),
        previous=tuple((name, variable) for variable, name in previous.items()),
        receptor_addressed=addressed)

    def segment_constants(values: Mapping[str, float], dt: float) -> dict:
        out = {name: float(values[name]) for name in parameter_columns}
        if ir.linear:
            out.update(evaluate_propagators(ir.linear, values, dt))
        out.update({name: function(values, dt) for name, function in constants.items()})
        return {name: out[name] for name in columns}

    return LoweredModel(spec, segment_constants, tuple(offsets.items()))


def _value(text: str):
    """A function (values, dt) -> float of a parameter-only expression text."""
    return lambda values, dt: evaluate_expression(text, values)


def receptor_addressed(ir: ModelIR) -> bool:
    """More receptors than the two the weight's sign can choose: connections name them."""
    return len(ir.receptors) > RING_CHANNELS


def _port(receptor, channel, constants, addressed: bool = False) -> PortSpec:
    if receptor.kernel == "beta":
        rise, decay = receptor.time_constants
        factor = lambda values, dt: beta_normalization_factor(values[rise], values[decay])
    elif receptor.jump_factor != "1.0":
        factor = _value(receptor.jump_factor)
    else:
        factor = None
    # by sign, channel 1 holds negative conductance weights; addressed ones add with sign
    negative = receptor.kind == "conductance" and channel == 1 and not addressed
    if factor is None:
        return PortSpec(receptor.name, channel, receptor.jump, "-1.0" if negative else "1.0")
    column = f"jump_{receptor.name}"
    constants[column] = factor
    return PortSpec(receptor.name, channel, receptor.jump, f"-{column}" if negative else column)


def _parameter_only(text: str, ir: ModelIR) -> bool:
    """Names of parameters only, and no calls (a call's name is no parameter): the
    spec evaluator computes it before the run."""
    parameters = {p.name for p in ir.parameters}
    names = {n.id for n in ast.walk(ast.parse(text, mode="eval")) if isinstance(n, ast.Name)}
    return names <= parameters


def _shifted(text: str, offsets: dict, constants) -> str:
    """`text` over absolute values, written over the stored (relative) ones; prev(X) of
    an offset variable reads the stored copy too."""
    class Shift(ast.NodeTransformer):
        def visit_Name(self, node):
            if node.id not in offsets:
                return node
            return _plus_offset(node, node.id, offsets, constants)

        def visit_Call(self, node):
            if _previous_of(node) in offsets:
                return _plus_offset(node, _previous_of(node), offsets, constants)
            return self.generic_visit(node)
    tree = Shift().visit(ast.parse(text, mode="eval").body)
    return ast.unparse(ast.fix_missing_locations(tree))


def _plus_offset(node, variable, offsets, constants):
    column = _offset_column(variable, offsets, constants)
    return ast.BinOp(node, ast.Add(), ast.Name(column, ast.Load()))


def _previous_of(node) -> str | None:
    """X for a call prev(X), else None."""
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id == PREVIOUS and len(node.args) == 1
            and isinstance(node.args[0], ast.Name)):
        return node.args[0].id
    return None


def _offset_column(variable, offsets, constants) -> str:
    column = f"offset_{variable}"
    constants.setdefault(column, _value(offsets[variable]))
    return column


def _stored_threshold(ir, offsets, constants) -> str:
    """Each comparison over the stored values, joined by `and`; prev(X) calls are left
    for _previous_renamed."""
    comparisons = ir.threshold_comparisons or ((ir.threshold, None, None),)
    parts = []
    for left, operator, right in comparisons:
        if operator is None:
            parts.append(_shifted(left, offsets, constants))
            continue
        folded = _folded_comparison(left, operator, right, ir, offsets, constants)
        parts.append(folded if folded is not None
                     else _shifted(f"{left} {operator} {right}", offsets, constants))
    return " and ".join(parts)          # `and` binds less than any comparison


def _folded_comparison(left, operator, right, ir, offsets, constants) -> str | None:
    """`X op R` with X stored relative to offset c: the parameter-only part of R minus c
    becomes a column, so `V_m >= V_th` is `V_m >= threshold_V_m` (= V_th - E_L, NEST's
    theta) and `V_m >= omega + a + b` is `V_m >= threshold_V_m + a + b` (mat2_psc_exp's
    omega_ + V_th_2_ + V_th_1_), when nothing else in R has an offset. None otherwise."""
    if left not in offsets:
        return None
    tree = ast.parse(right, mode="eval").body
    if _parameter_only(right, ir):
        lead, rest = tree, None
    else:
        chain = tree
        while isinstance(chain, ast.BinOp) and isinstance(chain.op, ast.Add) \
                and isinstance(chain.left, ast.BinOp) and isinstance(chain.left.op, ast.Add):
            chain = chain.left
        if not (isinstance(chain, ast.BinOp) and isinstance(chain.op, ast.Add)
                and _parameter_only(ast.unparse(chain.left), ir)):
            return None
        lead, rest = chain.left, chain
        others = [n for n in ast.walk(tree) if n is not lead]
        if any(isinstance(n, ast.Name) and n.id in offsets for n in others) or \
                any(_previous_of(n) in offsets for n in others):
            return None
    column = _fresh(f"threshold_{left}", constants)
    value, offset = _value(ast.unparse(lead)), _value(offsets[left])
    constants[column] = lambda values, dt: value(values, dt) - offset(values, dt)
    if rest is None:
        return f"{left} {operator} {column}"
    rest.left = ast.Name(column, ast.Load())
    return f"{left} {operator} {ast.unparse(ast.fix_missing_locations(tree))}"


def _fresh(name: str, constants) -> str:
    out, k = name, 2
    while out in constants:
        out, k = f"{name}_{k}", k + 1
    return out


def _previous_names(ir, taken: set) -> dict:
    """variable -> the kernel's local holding its value at the start of the step
    (prev_<X>, made unique against the spec's other names)."""
    out = {}
    for variable in ir.previous:
        name = f"prev_{variable}"
        while name in taken or name in out.values():
            name += "_"
        out[variable] = name
    return out


def _previous_renamed(text: str, names: dict) -> str:
    class Rename(ast.NodeTransformer):
        def visit_Call(self, node):
            variable = _previous_of(node)
            if variable is not None:
                return ast.Name(names[variable], ast.Load())
            return self.generic_visit(node)
    tree = Rename().visit(ast.parse(text, mode="eval").body)
    return ast.unparse(ast.fix_missing_locations(tree))


def _stored_reset(variable, text, ir, offsets, constants) -> tuple:
    if variable not in offsets:
        return variable, _shifted(text, offsets, constants)
    if _parameter_only(text, ir):
        column = f"reset_{variable}"
        value, offset = _value(text), _value(offsets[variable])
        constants[column] = lambda values, dt: value(values, dt) - offset(values, dt)
        return variable, column
    shifted = _shifted(text, offsets, constants)
    return variable, f"({shifted}) - {_offset_column(variable, offsets, constants)}"


def _refractory(ir, constants) -> str | None:
    duration = ir.model.refractory_duration
    if duration is None:
        return None
    length = _value(duration)
    constants[REFRACTORY_COLUMN] = lambda values, dt: float(
        steps_rounded_up(length(values, dt), dt))
    if ir.scheme == "rkf45" and ir.nonlinear.control.spike_within_step:
        # the counter is decremented in the spike's own step (NEST's aeif_*)
        return f"{REFRACTORY_COLUMN} + 1 if {REFRACTORY_COLUMN} > 0 else 0"
    return REFRACTORY_COLUMN


def _explicit(ir, constants) -> ExactUpdate:
    """An `update:` model's lines as simultaneous assignments (they read the values at the
    start of the step, as ExactUpdate's), dt read from the step column."""
    from .kernel_text import kernel_text
    from .parse import STEP
    constants[STEP_COLUMN] = lambda values, dt: float(dt)
    names = {p.name for p in ir.parameters} | {s.name for s in ir.state} | {"I_stim"}
    assignments = tuple((v, kernel_text(text, names, {STEP: STEP_COLUMN}))
                        for v, text in ir.explicit)
    return ExactUpdate(assignments=assignments, clamped=ir.model.clamped,
                       test_while_refractory=_test_while_refractory(ir))


def _fused_inputs(update: ExactUpdate, ports: tuple) -> tuple:
    """In an `update:` model a delta receptor's input joins the line of the variable it
    jumps: `X = X + E` becomes `X = X + (E + input)`, NEST's izhikevich order
    (v += h*f + input), the same value up to rounding as adding it after the line."""
    assigned = dict(update.assignments)
    fused, kept = {}, []
    for port in ports:
        text = assigned.get(port.target)
        tree = ast.parse(text, mode="eval").body if text is not None else None
        sole = sum(p.target == port.target for p in ports) == 1
        if (sole and port.factor == "1.0" and isinstance(tree, ast.BinOp)
                and isinstance(tree.op, ast.Add) and isinstance(tree.left, ast.Name)
                and tree.left.id == port.target):
            joined = ast.BinOp(tree.right, ast.Add(), ast.Name(f"input_{port.name}", ast.Load()))
            fused[port.target] = ast.unparse(ast.BinOp(tree.left, ast.Add(), joined))
            kept.append(dataclasses.replace(port, target=None))
        else:
            kept.append(port)
    assignments = tuple((v, fused.get(v, text)) for v, text in update.assignments)
    return dataclasses.replace(update, assignments=assignments), tuple(kept)


def _exact(ir) -> ExactUpdate:
    return ExactUpdate(assignments=ir.linear.updates, clamped=ir.model.clamped,
                       test_while_refractory=_test_while_refractory(ir))


def _test_while_refractory(ir) -> bool:
    """No spike while refractory: a threshold over clamped variables only may be tested
    (they hold their reset values, NEST's iaf_psc_*); any other is gated."""
    if ir.model.refractory_duration is None:
        return True
    tree = ast.parse(ir.threshold, mode="eval")
    read = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    read |= {_previous_of(n) for n in ast.walk(tree)} - {None}
    state = {s.name for s in ir.state}
    return (read & state) <= set(ir.model.clamped)


def _rkf45(ir, constants) -> Rkf45Update:
    system = ir.nonlinear
    constants[STEP_COLUMN] = lambda values, dt: float(dt)
    clamped = set(ir.model.clamped)
    derivatives = tuple((v, f"0.0 if is_refractory else ({text})" if v in clamped else text)
                        for v, text in system.derivatives)
    control = system.control
    return Rkf45Update(derivatives=derivatives, dt=STEP_COLUMN,
                       eps_abs=repr(control.eps_abs), eps_rel=repr(control.eps_rel),
                       a_y=repr(control.a_y), a_dydt=repr(control.a_dydt),
                       spike_within_step=control.spike_within_step,
                       definitions=system.definitions)
