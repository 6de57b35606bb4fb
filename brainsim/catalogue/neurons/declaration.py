"""What a neuron model is to brainsim: one NeuronModel declaration, from which validation
and defaults (spec), packing and state arrays (network), recording, checkpoints, memory
estimates and the docs tables are derived (docs/architecture.md §11).

A declaration is plain data plus three functions (segment constants, charge, PSP
conversion) and a kernel, so it can be built at run time (models from equations) as well
as written as a module constant (the built-ins, one file each in this package). This
module imports neither numpy nor the compiled kernels: the spec layer uses it.
"""
from __future__ import annotations

import ast
import math
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Callable, Mapping

# -> [(param or tuple of the params involved, found, expected), ...]
Check = Callable[[Mapping[str, float]], list]
FLOAT64, INT32 = "float64", "int32"
STATE_DTYPES = (FLOAT64, INT32)


class DeclarationError(ValueError):
    """A neuron model declaration that contradicts itself (a programming error in a
    built-in, or a generated model the equation front end should have refused)."""


@dataclass(frozen=True)
class Parameter:
    """One parameter: NEST's name, its unit ('mV', 'pF', 'ms', 'pA', 'nS', '1/s', ...;
    '' when dimensionless or a flag), NEST 3.10's default, whether it is a boolean flag,
    whether -inf is allowed (V_min: no lower bound); note: a remark for the docs table."""
    name: str
    unit: str
    default: float | bool
    flag: bool = False
    may_be_minus_inf: bool = False
    note: str = ""


@dataclass(frozen=True)
class StateVariable:
    """One state array of the model's kernel, indexed by local neuron.

    unit: of the value as NEST reports it (mV, pA, nS, ms, 'steps').
    initial: the default initial value, a number or the name of the parameter whose
        *default* it starts at (NEST: V_m = E_L); None when it cannot be given in
        `initial:` (the kernel's own bookkeeping, e.g. ode_h, refractory).
    init_stream_item: item of the INIT random stream its drawn initial values use
        (docs/architecture.md §2.3), fixed per variable name across all models so that
        adding a variable never changes another's draws; required when initialisable.
    recordable: may be sampled by `recording.state` (NEST's recordables).
    relative_to: the parameter subtracted before storing (V_m relative to E_L, as NEST's
        iaf models keep it), or an expression over parameters (an equation model's
        equilibrium offset); recording adds it back, checkpoints keep the stored value.
    dtype: 'float64', or 'int32' for step counters (refractory).
    """
    name: str
    unit: str
    initial: float | str | None = None
    init_stream_item: int | None = None
    recordable: bool = False
    relative_to: str | None = None
    dtype: str = FLOAT64

    @property
    def initialisable(self) -> bool:
        return self.initial is not None


@dataclass(frozen=True)
class ReceptorPort:
    """Where a synaptic input goes: the ring-buffer channel it arrives in and which weights
    reach it (weight_sign +1: w >= 0, -1: w < 0, NEST's sign rule); time_constant and
    reversal name the parameters of its tau_syn (ms) and reversal potential (mV, for
    conductance-based ports), used by the PSP conversion and the DC-compensation charge."""
    name: str
    channel: int
    weight_sign: int
    time_constant: str | None = None
    reversal: str | None = None


def sign_chosen_ports(time_constants=(None, None), reversals=(None, None)) -> tuple:
    """The two ports every built-in has: 'ex' (channel 0, w >= 0) and 'in' (channel 1,
    w < 0), with the parameters of their time constants and reversal potentials."""
    return (ReceptorPort("ex", 0, +1, time_constants[0], reversals[0]),
            ReceptorPort("in", 1, -1, time_constants[1], reversals[1]))


@dataclass(frozen=True)
class NeuronModel:
    """A neuron model as brainsim implements it (docs/architecture.md §11).

    name: NEST's model name. parameters, state: in documentation order; the kernel's
        argument order comes from the kernel itself (STATE_ARGUMENTS), checked by name.
    weight_unit: native synaptic weight unit: 'pA' (current jump), 'mV' (voltage jump),
        'nS' (conductance jump) or 'spikes' (weight ignored).
    kernel: the compiled module (or its dotted name, imported by the network layer) with
        update(seg_begin, seg_end, seg_params, *STATE_ARGUMENTS arrays, ring, local_gids,
        plan, first_step, n_steps, seed, spike_keys, i_ext) (docs/architecture.md §7),
        SEGMENT_COLUMNS and STATE_ARGUMENTS.
    segment_constants: (params, dt ms, kernel module) -> {column name: value}, the
        per-population constants the kernel reads (propagators, thresholds, steps).
    charge: (params, port) -> charge (fC = pA*ms) one spike delivers per unit of native
        weight through that port (DC compensation of down-scaled in-degrees).
    receptors: the receptor ports (ReceptorPort).
    checks: NEST's parameter checks, each params -> [(param(s), found, expected), ...].
    psp_conversion: (params, port) -> native weight per mV of peak PSP, for models whose
        weights may also be given in mV of peak PSP (None: native unit only).
    ignores_weight: every incoming spike is one event whatever its weight (NEST's
        parrot_neuron); the build stores weight 1 onto such a population.
    archives_spikes: keeps NEST's ArchivingNode history of its spikes (tau_minus, ms), so
        STDP synapses may target it.
    """
    name: str
    parameters: tuple[Parameter, ...]
    state: tuple[StateVariable, ...]
    weight_unit: str
    kernel: object
    segment_constants: Callable = field(repr=False)
    charge: Callable = field(repr=False)
    receptors: tuple[ReceptorPort, ...] = ()
    checks: tuple = field(default=(), repr=False)
    psp_conversion: Callable | None = field(default=None, repr=False)
    ignores_weight: bool = False
    archives_spikes: bool = False

    def __post_init__(self):
        object.__setattr__(self, "parameters", tuple(self.parameters))
        object.__setattr__(self, "state", tuple(self.state))
        object.__setattr__(self, "receptors", tuple(self.receptors))
        object.__setattr__(self, "checks", tuple(self.checks))
        _check_declaration(self)

    # --- what the spec layer reads ---------------------------------------------------------
    @property
    def defaults(self) -> Mapping[str, float]:
        """parameter -> NEST default (floats; booleans for flags)."""
        return MappingProxyType({p.name: p.default for p in self.parameters})

    @property
    def units(self) -> Mapping[str, str]:
        return MappingProxyType({p.name: p.unit for p in self.parameters})

    @property
    def flags(self) -> frozenset:
        return frozenset(p.name for p in self.parameters if p.flag)

    @property
    def may_be_minus_inf(self) -> frozenset:
        return frozenset(p.name for p in self.parameters if p.may_be_minus_inf)

    @property
    def state_variables(self) -> Mapping[str, str]:
        """Initialisable state variable -> unit (the keys `initial:` accepts)."""
        return MappingProxyType({v.name: v.unit for v in self.state if v.initialisable})

    @property
    def initial_values(self) -> Mapping[str, object]:
        """Initialisable state variable -> default initial value or parameter name."""
        return MappingProxyType({v.name: v.initial for v in self.state if v.initialisable})

    @property
    def recordables(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.state if v.recordable)

    @property
    def weight_units(self) -> tuple:
        """Units a weight onto this model may be given in (native first)."""
        return (self.weight_unit, "mV") if self.psp_conversion else (self.weight_unit,)

    def check(self, params: Mapping[str, float]) -> list:
        """NEST's consistency checks: [(param or (params involved), found, expected), ...],
        empty if valid."""
        problems = []
        for check in self.checks:
            problems.extend(check(params))
        return problems

    def initial_defaults(self, params: Mapping[str, float]) -> dict:
        """State variable -> default initial value, as a NEST node has it after Create:
        a value named by a parameter (V_m: "E_L") is that parameter's *default*, because
        NEST constructs the state before applying the given parameters and keeps the
        absolute V_m when E_L is changed (iaf_psc_exp with E_L = -65 still starts at
        -70 mV). Set `initial: {V_m: ...}` to start elsewhere."""
        defaults = self.defaults
        return {v.name: float(defaults[v.initial]) if isinstance(v.initial, str)
                else float(v.initial) for v in self.state if v.initialisable}

    def receptor_for(self, weight: float) -> ReceptorPort:
        """The port a weight of this sign reaches (>= 0: weight_sign +1, < 0: -1)."""
        sign = 1 if weight >= 0 else -1
        for port in self.receptors:
            if port.weight_sign == sign:
                return port
        raise ValueError(f"{self.name} has no receptor for weights of sign {sign:+d}")

    # --- what the network and engine read --------------------------------------------------
    @property
    def state_arrays(self) -> Mapping[str, str]:
        """State array name -> dtype, in declaration order."""
        return MappingProxyType({v.name: v.dtype for v in self.state})

    def state_variable(self, name: str) -> StateVariable:
        for variable in self.state:
            if variable.name == name:
                return variable
        raise KeyError(f"{self.name} has no state variable {name!r}")

    def stored_offset(self, name: str, params: Mapping[str, float]) -> float:
        """What to add to the stored value of a state variable to get NEST's value (mV of
        E_L for a V_m kept relative to E_L; 0 otherwise or when the model lacks it)."""
        names = {v.name: v for v in self.state}
        variable = names.get(name)
        if variable is None or variable.relative_to is None:
            return 0.0
        if variable.relative_to in params:
            return float(params[variable.relative_to])
        from brainsim.spec.expressions import evaluate   # an equation model's offset
        return float(evaluate(variable.relative_to, params))


def _names_in(text: str) -> set:
    """The names an expression text reads ({'?'} when it is not an expression)."""
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        return {"?"}
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}


def _check_declaration(model: NeuronModel) -> None:
    """Refuse a declaration that contradicts itself, naming the model and the field."""
    def fail(message: str):
        raise DeclarationError(f"neuron model {model.name!r}: {message}")

    if not model.name or not model.name.isidentifier():
        fail("the name must be an identifier")
    if not model.weight_unit:
        fail("weight_unit is empty")
    params = {}
    for p in model.parameters:
        if p.name in params:
            fail(f"parameter {p.name!r} declared twice")
        params[p.name] = p
        if p.flag != isinstance(p.default, bool):
            fail(f"parameter {p.name!r}: a flag needs a boolean default and only a flag "
                 f"has one (default {p.default!r}, flag={p.flag})")
        if not p.flag and math.isnan(p.default):
            fail(f"parameter {p.name!r}: default is NaN")
    names = set()
    for v in model.state:
        if v.name in names:
            fail(f"state variable {v.name!r} declared twice")
        names.add(v.name)
        if v.dtype not in STATE_DTYPES:
            fail(f"state variable {v.name!r}: dtype {v.dtype!r} is not one of {STATE_DTYPES}")
        if isinstance(v.initial, str) and v.initial not in params:
            fail(f"state variable {v.name!r} starts at parameter {v.initial!r}, "
                 "which is not declared")
        if v.relative_to is not None and not _names_in(v.relative_to) <= set(params):
            fail(f"state variable {v.name!r} is stored relative to {v.relative_to!r}, "
                 "which is not an expression over parameters")
        if v.initialisable and v.init_stream_item is None:
            fail(f"state variable {v.name!r} is initialisable but has no init_stream_item")
    channels, signs = set(), set()
    for port in model.receptors:
        if port.channel in channels or port.weight_sign in signs:
            fail(f"receptor {port.name!r} shares a channel or weight sign with another")
        if port.weight_sign not in (1, -1):
            fail(f"receptor {port.name!r}: weight_sign must be +1 or -1")
        channels.add(port.channel)
        signs.add(port.weight_sign)
        for ref in (port.time_constant, port.reversal):
            if ref is not None and ref not in params:
                fail(f"receptor {port.name!r} refers to parameter {ref!r}, not declared")
    if model.psp_conversion is not None and any(p.time_constant is None
                                                for p in model.receptors):
        fail("a PSP conversion needs every receptor's time constant")
