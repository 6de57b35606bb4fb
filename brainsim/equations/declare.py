"""An equation model as a NeuronModel declaration (docs/architecture.md §11, §13): the
same record the built-ins are, so validation, packing, recording, checkpoints and
estimates treat a model file's own model exactly like a built-in.

The kernel is a GeneratedKernel: the generated Cython source of the lowered KernelSpec,
compiled (or found in the cache) when a run first needs it. A run loads it on every rank
together first (``load_generated_kernels``: rank 0 compiles, the others wait), so that a
compile error is one agreed error before anything is built; `brainsim validate` and
`brainsim info` never compile.
"""
from __future__ import annotations

import ast
import dataclasses
import math
import zlib
from typing import Mapping

import numpy as np

from brainsim.catalogue.neurons import BUILTIN
from brainsim.catalogue.neurons.checks import not_negative, positive
from brainsim.catalogue.neurons.declaration import (INT32, DerivedRecordable, NeuronModel,
                                                    Parameter, ReceptorPort, StateVariable,
                                                    addressed_ports)
from brainsim.codegen.kernel_spec import I_0, ODE_H, REFRACTORY, SUMMED_CHANNELS
from brainsim.spec.expressions import evaluate as evaluate_expression

from .ir import ModelIR
from .lower import LoweredModel, receptor_addressed
from .nest_formulas import beta_normalization_factor

# INIT stream items (docs/architecture.md §2.3) are fixed per state variable name: a name
# a built-in uses keeps the built-in's item; another name takes one from a hash of the
# name, far above the built-ins' (registry.check_shared_state refuses a collision).
BUILTIN_ITEMS = {v.name: v.init_stream_item for m in BUILTIN for v in m.state
                 if v.init_stream_item is not None}
FIRST_HASHED_ITEM = 1 << 12
MAX_ITEM = (1 << 24) - 1      # the item is 24 bits of the stream counter (rng.pyx)


def init_stream_item(name: str) -> int:
    if name in BUILTIN_ITEMS:
        return BUILTIN_ITEMS[name]
    span = MAX_ITEM + 1 - FIRST_HASHED_ITEM
    return FIRST_HASHED_ITEM + zlib.crc32(name.encode("utf-8")) % span


class GeneratedKernel:
    """The kernel of an equation model: its KernelSpec, generated and compiled on first
    use. ``module`` is the loaded extension module once ``load`` ran (in the process)."""

    def __init__(self, spec):
        self.spec = spec
        self.module = None

    def load(self, cache_dir: str | None = None, comm=None):
        """The compiled module (brainsim.codegen.compiled_kernel; collective with comm)."""
        if self.module is None:
            from brainsim.codegen import compiled_kernel
            self.module = compiled_kernel(self.spec, cache_dir=cache_dir, comm=comm)
        return self.module

    def __repr__(self) -> str:
        state = "loaded" if self.module is not None else "not compiled yet"
        return f"GeneratedKernel({self.spec.model}, {state})"


def declaration_of(ir: ModelIR, lowered: LoweredModel) -> NeuronModel:
    """The NeuronModel of a lowered equation model. ValueError when its receptors mix
    weight units (a projection's weight has one unit)."""
    defaults = {p.name: p.default for p in ir.parameters}
    spec, offsets = _relative_membrane(_with_both_channels(lowered.spec),
                                       dict(lowered.stored_offsets), ir)
    return NeuronModel(
        name=ir.name,
        parameters=_parameters(ir),
        state=_state(ir, spec, offsets, defaults),
        weight_unit=_weight_unit(ir),
        kernel=GeneratedKernel(spec),
        segment_constants=lambda params, dt, kernel: lowered.segment_constants(params, dt),
        charge=_charge_function(ir),
        receptors=_ports(ir),
        checks=_checks(ir) + (positive(STDP_TRACE),),
        derived=_derived(ir),
        archives_spikes=True,
    )


# NEST's ArchivingNode: every model keeps its spike history for STDP, with the time
# constant tau_minus (ms, default 20) of the postsynaptic trace.
STDP_TRACE = "tau_minus"


def _parameters(ir) -> tuple:
    """The model's parameters, plus tau_minus (NEST's ArchivingNode) when it has none."""
    parameters = tuple(Parameter(p.name, p.unit, float(p.default)) for p in ir.parameters)
    if STDP_TRACE not in {p.name for p in ir.parameters}:
        parameters += (Parameter(STDP_TRACE, "ms", 20.0, note="postsynaptic STDP trace"),)
    return parameters


def _with_both_channels(spec):
    """A model with one receptor takes weights of both signs there (NEST's single-port
    models add every weight with its sign): it reads channels 0 and 1 summed."""
    if len(spec.receptors) != 1:
        return spec
    port = dataclasses.replace(spec.receptors[0], channel=SUMMED_CHANNELS)
    return dataclasses.replace(spec, receptors=(port,))


def _relative_membrane(spec, offsets: dict, ir):
    """An RKF45 model whose V_m starts at E_L (`state: {V_m: E_L}`) stores it relative to
    E_L and integrates it absolute (the kernel adds E_L when it loads the value, subtracts
    it when it stores it), as brainsim's built-in conductance and aeif models do: their
    equation twins then give the built-ins' bits. Any other RKF45 model stores V_m
    absolute, as NEST does (hh_psc_alpha starts at -65 mV: NEST's bits)."""
    initial = {s.name: s.initial.strip() for s in ir.state}
    if (not spec.uses_rkf45 or "E_L" not in spec.columns or offsets
            or initial.get("V_m") != "E_L"):
        return spec, offsets
    variables = tuple(dataclasses.replace(v, offset="E_L") if v.name == "V_m" else v
                      for v in spec.variables)
    return dataclasses.replace(spec, variables=variables), {"V_m": "E_L"}


def _initial(text: str, defaults: Mapping[str, float]):
    """A parameter's name (the state starts at that parameter's default, as NEST's
    built-ins: V_m = E_L), else the expression's value at the defaults."""
    text = text.strip()
    if text in defaults:
        return text
    return evaluate_expression(text, defaults)


def _state(ir, spec, offsets, defaults) -> tuple:
    variables = []
    for s in ir.state:
        offset = offsets.get(s.name)
        variables.append(StateVariable(
            s.name, s.unit, initial=_initial(s.initial, defaults),
            init_stream_item=init_stream_item(s.name), recordable=True,
            relative_to=offset))
    extra = {I_0: StateVariable(I_0, "pA", init_stream_item=BUILTIN_ITEMS[I_0]),
             REFRACTORY: StateVariable(REFRACTORY, "steps", dtype=INT32),
             ODE_H: StateVariable(ODE_H, "ms")}
    declared = {s.name for s in ir.state}
    for name in spec.state_arguments:
        if name not in declared:
            variables.append(extra[name])
    return tuple(variables)


def _weight_unit(ir) -> str:
    units = {r.weight_unit for r in ir.receptors}
    if len(units) > 1:
        raise ValueError(f"receptors take weights in {' and '.join(sorted(units))}; a "
                         "model's receptors must share one weight unit")
    return units.pop() if units else "pA"


def _ports(ir) -> tuple:
    """Receptors in order onto the ring's channels (lower.py): the first takes weights
    >= 0, the second weights < 0; a single receptor takes both. More than two are reached
    by name (receptor-addressed: weights of either sign, receptor k on channel k)."""
    receptors = ir.receptors
    if receptor_addressed(ir):      # NEST's *_multisynapse: connections name receptor k
        return tuple(dataclasses.replace(port, reversal=r.reversal) for port, r in zip(
            addressed_ports([r.name for r in receptors],
                            [_time_constant(r) for r in receptors]), receptors))
    first = receptors[0]
    if len(receptors) == 1:
        return (ReceptorPort(first.name, 0, +1, _time_constant(first), first.reversal),
                ReceptorPort(negative_twin(first.name), 1, -1, _time_constant(first),
                             first.reversal))
    return tuple(ReceptorPort(r.name, channel, sign, _time_constant(r), r.reversal)
                 for channel, (sign, r) in enumerate(((+1, first), (-1, receptors[1]))))


def negative_twin(name: str) -> str:
    """The name of the port by which the weights < 0 reach a model's single receptor."""
    return f"{name}_negative"


def _time_constant(receptor) -> str | None:
    return receptor.time_constants[-1] if receptor.time_constants else None


def _derived(ir) -> tuple:
    """The IR's recordables that are not state (expressions, conductance currents),
    computed from the sampled state with NumPy."""
    state = {s.name for s in ir.state}
    parameters = {p.name for p in ir.parameters}
    derived = []
    for name, unit, text in ir.recordables:
        if name in state:
            continue
        reads = tuple(sorted(_names(text) & state))
        derived.append(DerivedRecordable(name, unit, reads, array_expression(text,
                                                                             parameters)))
    return tuple(derived)


def _names(text: str) -> set:
    return {n.id for n in ast.walk(ast.parse(text, mode="eval")) if isinstance(n, ast.Name)}


# the kernel texts' functions (brainsim.codegen.expressions) on arrays
_ARRAY_FUNCTIONS = {
    "exp": np.exp, "expm1": np.expm1, "log": np.log, "log1p": np.log1p, "sqrt": np.sqrt,
    "pow": np.power, "fabs": np.fabs, "fmin": np.fmin, "fmax": np.fmax, "floor": np.floor,
    "ceil": np.ceil, "sin": np.sin, "cos": np.cos, "tan": np.tan, "tanh": np.tanh,
    "sinh": np.sinh, "cosh": np.cosh, "asin": np.arcsin, "acos": np.arccos,
    "atan": np.arctan}
_ARRAY_OPERATORS = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply,
                    ast.Div: np.divide}
_COMPARE = {ast.Lt: np.less, ast.LtE: np.less_equal, ast.Gt: np.greater,
            ast.GtE: np.greater_equal, ast.Eq: np.equal, ast.NotEq: np.not_equal}


def array_expression(text: str, parameters: set):
    """(values, params) -> array: a kernel text (already checked by the front end) over
    state arrays and parameters, evaluated node by node with NumPy (never as code)."""
    tree = ast.parse(text, mode="eval").body

    def evaluate(node, values, params):
        if isinstance(node, ast.Constant):
            return float(node.value)
        if isinstance(node, ast.Name):
            return values[node.id] if node.id in values else float(params[node.id])
        if isinstance(node, ast.UnaryOp):
            operand = evaluate(node.operand, values, params)
            if isinstance(node.op, ast.Not):
                return np.logical_not(operand)
            return np.negative(operand) if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp):
            return _ARRAY_OPERATORS[type(node.op)](evaluate(node.left, values, params),
                                                   evaluate(node.right, values, params))
        if isinstance(node, ast.Call):
            return _ARRAY_FUNCTIONS[node.func.id](
                *(evaluate(a, values, params) for a in node.args))
        if isinstance(node, ast.Compare):
            return _COMPARE[type(node.ops[0])](evaluate(node.left, values, params),
                                               evaluate(node.comparators[0], values, params))
        if isinstance(node, ast.BoolOp):
            combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
            result = evaluate(node.values[0], values, params)
            for value in node.values[1:]:
                result = combine(result, evaluate(value, values, params))
            return result
        if isinstance(node, ast.IfExp):
            return np.where(evaluate(node.test, values, params),
                            evaluate(node.body, values, params),
                            evaluate(node.orelse, values, params))
        raise TypeError(f"unchecked construct in {text!r}")   # the front end refuses these

    def compute(values, params):
        shape = np.shape(next(iter(values.values()))) if values else ()
        return np.broadcast_to(evaluate(tree, values, params), shape).astype(np.float64)
    return compute


def _checks(ir) -> tuple:
    taus = sorted({t for r in ir.receptors for t in r.time_constants})
    checks = [positive(*taus)] if taus else []
    duration = ir.model.refractory_duration
    if duration is not None:
        if duration.strip() in {p.name for p in ir.parameters}:
            checks.append(not_negative(duration.strip()))
        else:
            checks.append(_refractory_not_negative(duration, ir))
    return tuple(checks)


def _refractory_not_negative(text: str, ir):
    names = sorted({n.id for n in ast.walk(ast.parse(text, mode="eval"))
                    if isinstance(n, ast.Name)} & {p.name for p in ir.parameters})

    def check(p):
        value = evaluate_expression(text, p)
        if value < 0:
            return [(tuple(names), f"refractory duration {text} = {value:g} ms", ">= 0")]
        return []
    return check


# --- charge per unit weight (DC compensation of down-scaled in-degrees) -----------------

def _charge_function(ir):
    """(params, port) -> fC per unit weight through that port, as the built-ins define it:
    the integral of the receptor's current for a weight of 1 (exp: tau, alpha: e*tau,
    beta: g0*tau_rise*tau_decay), for conductances times the driving force at rest
    (E_rev - E_L; NaN without an E_L parameter), for delta ports the charge that moves
    the jumped variable as far (1 / its coefficient of I_e). NaN when unknown: the spec
    refuses compensation onto such a model."""
    by_name = {r.name: r for r in ir.receptors}
    if len(ir.receptors) == 1:
        by_name[negative_twin(ir.receptors[0].name)] = ir.receptors[0]
    delta_coefficients = {r.name: _coefficient_of_input(ir, r.jump)
                          for r in ir.receptors if r.kernel == "delta"}
    has_rest = "E_L" in {p.name for p in ir.parameters}

    def charge(params, port) -> float:
        receptor = by_name[port.name]
        if receptor.kernel == "delta":
            coefficient = delta_coefficients[receptor.name](params)
            return 1.0 / coefficient if coefficient else math.nan
        integral = _kernel_integral(receptor, params)
        if receptor.kind == "conductance":
            if not has_rest:
                return math.nan
            # inhibitory conductance weights are negative nS: the charge's sign follows
            # E_rev - E_L (conductance_charge of the built-ins)
            sign = -1.0 if port.channel == 1 and len(ir.receptors) == 2 else 1.0
            return sign * integral * (params[receptor.reversal] - params["E_L"])
        return integral
    return charge


def _kernel_integral(receptor, params) -> float:
    taus = [params[t] for t in receptor.time_constants]
    if receptor.kernel == "exp":
        return taus[0]
    if receptor.kernel == "alpha":
        return math.e * taus[0]
    rise, decay = taus
    return beta_normalization_factor(rise, decay) * rise * decay


def _coefficient_of_input(ir, variable: str):
    """params -> d(d variable/dt)/d I_e (1/pF for a membrane potential), from the
    variable's equation (0 when I_e does not enter it)."""
    from .symbolic import parse_to_sympy, sympy
    sp = sympy()
    model = ir.model
    known = ({p.name for p in model.parameters} | {s.name for s in ir.state}
             | {r.symbol for r in model.receptors if r.symbol}
             | {r.current_symbol for r in model.receptors if r.current_symbol}
             | {a.name for a in model.auxiliaries} | set(model.inputs))
    symbols = {name: sp.Symbol(name, real=True) for name in known}
    rhs = dict(model.equations).get(variable)
    if rhs is None:
        return lambda params: 0.0
    derivative = sp.diff(parse_to_sympy(rhs, symbols), symbols["I_e"])
    parameters = [symbols[p.name] for p in model.parameters if p.name in symbols]
    function = sp.lambdify(parameters, derivative, modules="math")
    names = [str(s) for s in parameters]
    return lambda params: float(function(*(params[n] for n in names)))


def compile_in_parallel(kernels, cache_dir: str | None = None) -> None:
    """Compile the not yet cached generated kernels at once, one compiler process per
    core (each takes ~10-20 s). Failures are left to the kernel's own load, which
    reports them (agreed on every rank)."""
    import os
    from concurrent.futures import ThreadPoolExecutor

    from brainsim.codegen.cache import KernelCompileError, cache_directory, ensure_compiled
    from brainsim.codegen.generate import kernel_source

    pending = [k for k in kernels if k.module is None]
    workers = min(len(pending), os.cpu_count() or 1)
    if workers < 2:
        return
    directory = cache_directory(cache_dir)

    def compile_one(kernel):
        try:
            ensure_compiled(kernel_source(kernel.spec), kernel.spec.model, directory)
        except (KernelCompileError, OSError):
            pass
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(compile_one, pending))


def uncached_models(kernels, cache_dir: str | None = None) -> list[str]:
    """Names of the models whose generated kernel is not in the cache folder yet (their
    first use compiles them)."""
    import os

    from brainsim.codegen.cache import cache_directory, cache_key, module_name, published_path
    from brainsim.codegen.generate import kernel_source

    directory = cache_directory(cache_dir)
    missing = []
    for kernel in kernels:
        if kernel.module is not None:
            continue
        name = module_name(kernel.spec.model, cache_key(kernel_source(kernel.spec)))
        if not os.path.isfile(published_path(directory, name)):
            missing.append(kernel.spec.model)
    return missing
