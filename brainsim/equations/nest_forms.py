"""Recognising NEST's iaf_psc_exp / iaf_psc_alpha structure in a linear system, so that
its propagators are NEST's formulas (nest_formulas.py, with the equal-time-constant
cases as NEST handles them) and its update is written in the built-ins' order.

The membrane pattern: a variable V with dV/dt = -V/tau_m + (sum of receptor currents +
I_e + I_stim)/C_m in offset coordinates (V - E_L), where every other term is the current
of an exp or alpha current receptor, V feeds no other variable, and tau_m, C_m are
parameters. Exp receptors give iaf_psc_exp's P11, P21 (= propagator_32), P22, P20;
alpha receptors iaf_psc_alpha's P11, P21 = h P11, P31, P32, expm1(-h/tau_m) and P30."""
from __future__ import annotations

from dataclasses import dataclass

from .ir import DRIVE, Propagator
from .symbolic import sympy


@dataclass(frozen=True)
class Template:
    propagators: tuple       # of Propagator
    updates: dict            # variable -> kernel text
    handled: frozenset       # variable names whose columns and rows the template covers


def _parameter(expression, parameters):
    """The parameter symbol `expression` is, or None (`parameters`: name -> Symbol)."""
    return expression if expression in set(parameters.values()) else None


def membrane_template(order, matrix, drive, parameters, receptors, h) -> Template | None:
    """The NEST template of the first variable that fits the membrane pattern."""
    sp = sympy()
    index = {name: i for i, name in enumerate(order)}
    chains = [(r, index[r.symbol], index.get(f"d{r.symbol}")) for r in receptors
              if r.kind == "current" and r.kernel in ("exp", "alpha")]
    for v, name in enumerate(order):
        found = _membrane(v, matrix, drive, parameters, chains, sp)
        if found is not None:
            tau_m, c_m, used = found
            return _build(name, order, tau_m, c_m, used, h, parameters, sp)
    return None


def _membrane(v, matrix, drive, parameters, chains, sp):
    if matrix[v, v] == 0:
        return None
    tau_m = _parameter(-1 / matrix[v, v], parameters)
    if tau_m is None or any(matrix[k, v] != 0 for k in range(matrix.rows) if k != v):
        return None
    inputs = [j for j in range(matrix.cols) if j != v and matrix[v, j] != 0]
    used = [chain for chain in chains if chain[1] in inputs]
    if not used or len(used) != len(inputs):
        return None
    c_m = _parameter(1 / matrix[v, used[0][1]], parameters)
    if c_m is None or any(matrix[v, chain[1]] != 1 / c_m for chain in used):
        return None
    stimulus = parameters["I_e"], sp.Symbol("I_stim", real=True)
    other = [k for k in range(drive.rows) if k != v and drive[k] != 0]
    if other or sp.simplify(drive[v] * c_m - stimulus[0] - stimulus[1]) != 0:
        return None
    return tau_m, c_m, used


def _propagator(target, source, expression, form, arguments):
    sp = sympy()
    prefix = "Q" if source == DRIVE else "P"
    name = f"{prefix}_{target}__{target if source == DRIVE else source}"
    return Propagator(name, target, source, expression, sp.ccode(expression), form,
                      tuple(str(a) for a in arguments))


def _build(v, order, tau_m, c_m, used, h, parameters, sp) -> Template:
    """Propagators and updates of the membrane V and its receptors' chains."""
    alpha_form = all(receptor.kernel == "alpha" for receptor, _, _ in used)
    decay_m = sp.exp(-h / tau_m)
    props, updates, terms = [], {}, []
    if alpha_form:
        diagonal = _propagator(v, v, decay_m - 1, "nest_expm1", (tau_m,))
        drive = _propagator(v, DRIVE, -tau_m / c_m * (decay_m - 1), "nest_p30", (tau_m, c_m))
        props += [diagonal, drive]
        terms.append(f"{drive.name} * (I_stim + I_e)")
    else:
        diagonal = _propagator(v, v, decay_m, "nest_decay", (tau_m,))
        drive = _propagator(v, DRIVE, tau_m / c_m * (1 - decay_m), "nest_p20", (tau_m, c_m))
        props += [diagonal, drive]
        terms.append(f"{v} * {diagonal.name}")
    for receptor, x_index, dx_index in used:
        tau_s = parameters[receptor.time_constants[0]]
        x = order[x_index]
        decay_s = sp.exp(-h / tau_s)
        general = tau_s * tau_m / (c_m * (tau_m - tau_s)) * (decay_m - decay_s)
        p11 = _propagator(x, x, decay_s, "nest_decay", (tau_s,))
        if receptor.kernel == "exp":
            p21 = _propagator(v, x, general, "nest_psc_exp", (tau_s, tau_m, c_m))
            props += [p11, p21]
            terms.append(f"{p21.name} * {x}" if alpha_form else f"{x} * {p21.name}")
            updates[x] = f"{x} * {p11.name}"
            continue
        dx = order[dx_index]
        p11_d = _propagator(dx, dx, decay_s, "nest_decay", (tau_s,))
        p21 = _propagator(x, dx, h * decay_s, "nest_alpha_21", (tau_s,))
        p31 = _propagator(v, dx, _alpha_31(tau_s, tau_m, c_m, h, sp), "nest_psc_alpha_dI",
                          (tau_s, tau_m, c_m))
        p32 = _propagator(v, x, general, "nest_psc_alpha_I", (tau_s, tau_m, c_m))
        props += [p11, p11_d, p21, p31, p32]
        terms += [f"{p31.name} * {dx}", f"{p32.name} * {x}"]
        updates[x] = f"{p21.name} * {dx} + {p11.name} * {x}"
        updates[dx] = f"{dx} * {p11_d.name}"
    if alpha_form:
        terms.append(f"{diagonal.name} * {v} + {v}")
    else:
        terms.append(f"(I_e + I_stim) * {drive.name}")
    updates[v] = " + ".join(terms)
    handled = {v} | {order[x] for _, x, _ in used} | {order[d] for _, _, d in used
                                                      if d is not None}
    return Template(tuple(props), updates, frozenset(handled))


def _alpha_31(tau_s, tau_m, c_m, h, sp):
    """exp(A h)[V, dI] of the alpha chain (distinct time constants), for the record."""
    beta = tau_s * tau_m / (tau_m - tau_s)
    return beta / c_m * sp.exp(-h / tau_s) * (beta * (sp.exp(-h / tau_m + h / tau_s) - 1) - h)
