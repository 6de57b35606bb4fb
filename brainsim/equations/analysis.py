"""From a parsed EquationModel to the ModelIR: every state variable (declared, then the
receptors'), the sympy right-hand sides, the classification, and either the exact
linear system with its propagators or the RKF45 system, with kernel-ready texts."""
from __future__ import annotations

from .classify import affine_variables, linear_subsystem
from .exact import drive_matrix, equal_rate_pairs, propagator_matrix
from .ir import (DRIVE, EquationModel, LinearSystem, ModelIR, NonlinearSystem, Propagator,
                 StateVariable)
from .kernel_text import kernel_text
from .parse import STEP
from .nest_forms import membrane_template
from .symbolic import parse_to_sympy, sympy
from .units import parse_unit

STEP = "h"   # the step (ms) in propagator expressions
_POSITIVE_DIMENSIONS = ("ms", "pF", "nS", "GOhm")   # time constants, capacitances, ...


def all_state(model: EquationModel) -> tuple:
    """Declared state variables, then each receptor's (initial value 0)."""
    added = tuple(StateVariable(name, unit, "0.0", receptor.name)
                  for receptor in model.receptors for name, unit in receptor.state)
    return tuple(model.state) + added


def analyse(model: EquationModel) -> ModelIR:
    """The IR of a parsed model (sympy work: about a second for iaf_psc_alpha)."""
    sp = sympy()
    state = all_state(model)
    parameters = {p.name: sp.Symbol(p.name, real=True,
                                    positive=True if p.unit in _POSITIVE_DIMENSIONS else None)
                  for p in model.parameters}
    symbols = {s.name: sp.Symbol(s.name, real=True) for s in state}
    i_stim = sp.Symbol("I_stim", real=True)
    names = {**parameters, **symbols, "I_stim": i_stim}
    for receptor in model.receptors:
        if receptor.kind == "conductance":
            names[receptor.current_symbol] = parse_to_sympy(receptor.current, names)
    for auxiliary in model.auxiliaries:
        names[auxiliary.name] = parse_to_sympy(auxiliary.expression, names)
    if model.updates:
        return _explicit(model, state, set(parameters) | set(symbols) | {"I_stim"})
    texts = dict(model.equations)
    texts.update({v: rhs for r in model.receptors for v, rhs in r.equations})
    rhs = {s.name: parse_to_sympy(texts[s.name], names) for s in state}
    affine = affine_variables(rhs, symbols, (i_stim,))
    exact = len(linear_subsystem(rhs, symbols, affine)) == len(state)
    known = set(parameters) | set(symbols) | {"I_stim"}
    inline = _inlined(model)
    return ModelIR(
        model=model, state=state, scheme="exact" if exact else "rkf45", affine=affine,
        linear=_linear(model, state, rhs, parameters, symbols) if exact else None,
        nonlinear=None if exact else _nonlinear(model, state, rhs, known),
        **_spike_texts(model, state, known, inline))


def _spike_texts(model: EquationModel, state: tuple, known: set, inline: dict) -> dict:
    """The ModelIR fields every scheme has: threshold, reset and recordables as kernel
    texts."""
    def text(value: str) -> str:
        return kernel_text(value, known, inline)
    return dict(
        threshold=text(model.threshold.text),
        threshold_comparisons=tuple((text(left), operator, text(right))
                                    for left, operator, right in model.threshold.comparisons),
        previous=model.threshold.previous,
        reset=tuple((v, text(value)) for v, value in model.reset),
        recordables=_recordables(model, state, known, inline))


def _explicit(model: EquationModel, state: tuple, known: set) -> ModelIR:
    """The IR of an `update:` model: its lines as kernel texts (dt stays a name, the
    lowering makes it the step column); nothing to classify or integrate."""
    inline = _inlined(model)
    with_step = known | {STEP}
    return ModelIR(
        model=model, state=state, scheme="explicit", affine=(), linear=None, nonlinear=None,
        explicit=tuple((v, kernel_text(text, with_step, inline)) for v, text in model.updates),
        **_spike_texts(model, state, known, inline))


def kernel_symbols(model: EquationModel) -> tuple:
    """(known, inline) as kernel_text takes them for the model's threshold and reset:
    the model's own symbols, and the texts put in place of conductance currents and
    auxiliaries."""
    known = ({p.name for p in model.parameters} | {s.name for s in all_state(model)}
             | {"I_stim"})
    return known, _inlined(model)


def _inlined(model) -> dict:
    """name -> expression text put in place of conductance currents and auxiliaries."""
    out = {r.current_symbol: r.current for r in model.receptors if r.kind == "conductance"}
    for auxiliary in model.auxiliaries:
        out[auxiliary.name] = auxiliary.expression
    return out


def _recordables(model, state, known, inline) -> tuple:
    out = [(s.name, s.unit, s.name) for s in state]
    out += [(r.current_symbol, "pA", kernel_text(r.current, known, inline))
            for r in model.receptors if r.kind == "conductance"]
    out += [(a.name, a.unit, kernel_text(a.expression, known, inline))
            for a in model.auxiliaries]
    return tuple(out)


def _nonlinear(model, state, rhs, known) -> NonlinearSystem:
    definitions = [(r.current_symbol, kernel_text(r.current, known))
                   for r in model.receptors if r.kind == "conductance"]
    defined = set(known) | {name for name, _ in definitions}
    for auxiliary in model.auxiliaries:
        definitions.append((auxiliary.name, kernel_text(auxiliary.expression, defined)))
        defined.add(auxiliary.name)
    texts = dict(model.equations)
    texts.update({v: text for r in model.receptors for v, text in r.equations})
    derivatives = tuple((s.name, kernel_text(texts[s.name], defined)) for s in state)
    return NonlinearSystem(tuple(s.name for s in state), tuple(rhs.items()), derivatives,
                           tuple(definitions), model.rkf45)


def _linear(model, state, rhs, parameters, symbols) -> LinearSystem:
    sp = sympy()
    order = tuple(s.name for s in state)
    matrix = sp.Matrix([[rhs[i].diff(symbols[j]) for j in order] for i in order])
    drive = sp.Matrix([sp.expand(rhs[i].subs({symbols[j]: 0 for j in order})) for i in order])
    offsets = _offsets(matrix, drive, parameters)
    drive = sp.Matrix([sp.simplify(drive[i] + (matrix * offsets)[i]) for i in range(len(order))])
    h = sp.Symbol(STEP, positive=True)
    template = membrane_template(order, matrix, drive, parameters, model.receptors, h)
    propagators = list(template.propagators) if template else []
    updates = dict(template.updates) if template else {}
    handled = {order.index(v) for v in template.handled} if template else set()
    propagators += _general(order, matrix, drive, h, handled, updates, parameters)
    updates_in_order = tuple((v, updates[v]) for v in _update_order(order, matrix))
    offset_texts = tuple((name, sp.ccode(offsets[i])) for i, name in enumerate(order)
                         if offsets[i] != 0)
    return LinearSystem(order, offset_texts, matrix, drive, tuple(propagators),
                        updates_in_order, equal_rate_pairs(matrix))


def _offsets(matrix, drive, parameters):
    """The equilibrium of the parameter-only part of b (NEST stores V_m - E_L), when A is
    invertible; zeros otherwise (then the constant part stays in the drive)."""
    sp = sympy()
    inputs = {sp.Symbol("I_stim", real=True): 0, parameters["I_e"]: 0}
    constant = drive.subs(inputs)
    if all(value == 0 for value in constant) or matrix.det() == 0:
        return sp.zeros(matrix.rows, 1)
    return (-matrix.inv() * constant).applyfunc(sp.simplify)


def _decay_constant(expression, h, parameters):
    """tau when `expression` is exp(-h/tau) of one parameter tau (else None): then the
    propagator is NEST's std::exp(-h/tau) in double (mat2_psc_exp's P11th, P22th)."""
    sp = sympy()
    if expression.func != sp.exp:
        return None
    tau = sp.simplify(-h / expression.args[0])
    return tau if tau in set(parameters.values()) else None


def _general(order, matrix, drive, h, handled, updates, parameters) -> list:
    """Propagators from exp(A h) for the variables no template covers, and their
    updates: diagonal term first, then the other sources, then the drive terms. A lone
    decay exp(-h/tau) of a parameter tau takes NEST's form (nest_decay)."""
    sp = sympy()
    entries = propagator_matrix(matrix, h, skip=handled)
    drives = drive_matrix(matrix, drive, h, skip=handled)
    out = []
    for i, target in enumerate(order):
        if i in handled:
            continue
        terms = []
        sources = sorted((j for (row, j) in entries if row == i), key=lambda j: (j != i, j))
        for j in sources:
            tau = _decay_constant(entries[(i, j)], h, parameters)
            form = ("nest_decay", (str(tau),)) if tau is not None else ("general", ())
            p = Propagator(f"P_{target}__{order[j]}", target, order[j], entries[(i, j)],
                           sp.ccode(entries[(i, j)]), *form)
            out.append(p)
            terms.append(f"{p.name} * {order[j]}")
        for k in sorted(k for (row, k) in drives if row == i):
            q = Propagator(f"Q_{target}__{order[k]}", target, DRIVE, drives[(i, k)],
                           sp.ccode(drives[(i, k)]))
            out.append(q)
            terms.append(f"{q.name} * ({sp.ccode(drive[k])})")
        updates[target] = " + ".join(terms) if terms else "0.0"
    return out


def _update_order(order, matrix) -> list:
    """Variables in an order where each is updated before the variables it reads are
    (the texts read old values; a kernel with simultaneous assignment may ignore it)."""
    remaining, out = list(range(len(order))), []
    while remaining:
        for i in remaining:
            readers = [k for k in remaining if k != i and matrix[k, i] != 0]
            if not readers:
                out.append(order[i])
                remaining.remove(i)
                break
        else:
            out += [order[i] for i in remaining]
            break
    return out
