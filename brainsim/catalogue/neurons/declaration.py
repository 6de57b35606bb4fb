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


# weight_sign of a port that takes weights of either sign and is reached by name (a
# connection's `receptor:`, NEST's receptor_type), not by the weight's sign.
ANY_SIGN = 0


@dataclass(frozen=True)
class ReceptorPort:
    """Where a synaptic input goes: the ring-buffer channel it arrives in and which weights
    reach it (weight_sign +1: w >= 0, -1: w < 0, NEST's sign rule; ANY_SIGN (0): weights
    of either sign, when a connection names the port, as NEST's receptor_type of
    iaf_psc_exp_multisynapse); time_constant and reversal name the parameters of its
    tau_syn (ms) and reversal potential (mV, for conductance-based ports), used by the PSP
    conversion and the DC-compensation charge."""
    name: str
    channel: int
    weight_sign: int
    time_constant: str | None = None
    reversal: str | None = None

    @property
    def addressed(self) -> bool:
        """Reached by name (`receptor:`), not by the weight's sign."""
        return self.weight_sign == ANY_SIGN


def addressed_ports(receptors, time_constants=None) -> tuple:
    """Ports reached by name, one per receptor name in order, on channels 0, 1, ...,
    each taking weights of either sign (time_constants: the parameter of each one's
    tau_syn, or None)."""
    names = tuple(receptors)
    taus = tuple(time_constants) if time_constants is not None else (None,) * len(names)
    return tuple(ReceptorPort(name, channel, ANY_SIGN, tau)
                 for channel, (name, tau) in enumerate(zip(names, taus)))


def sign_chosen_ports(time_constants=(None, None), reversals=(None, None)) -> tuple:
    """The two ports every built-in has: 'ex' (channel 0, w >= 0) and 'in' (channel 1,
    w < 0), with the parameters of their time constants and reversal potentials."""
    return (ReceptorPort("ex", 0, +1, time_constants[0], reversals[0]),
            ReceptorPort("in", 1, -1, time_constants[1], reversals[1]))


@dataclass(frozen=True)
class DerivedRecordable:
    """A recordable quantity computed from the state when sampled (an equation model's
    expression or conductance current, e.g. I_syn_ex = g_ex * (E_ex - V_m) in pA): reads
    names the state variables it needs; compute(values, params) -> values, with values
    mapping each of them to an array of NEST's (absolute) values and params the
    population's parameters."""
    name: str
    unit: str
    reads: tuple
    compute: Callable = field(repr=False)


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
    derived: DerivedRecordable quantities `recording.state` may also sample.
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
    derived: tuple = ()

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
        """The recordable state variables, then the derived quantities."""
        return tuple(v.name for v in self.state if v.recordable) + tuple(
            d.name for d in self.derived)

    def derived_quantity(self, name: str):
        """The DerivedRecordable of that name, or None (a state variable or unknown)."""
        return next((d for d in self.derived if d.name == name), None)

    def unit_of(self, recordable: str) -> str:
        derived = self.derived_quantity(recordable)
        return derived.unit if derived is not None else self.state_variable(recordable).unit

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

    @property
    def receptor_addressed(self) -> bool:
        """Its ports are reached by name: every projection, spike_generator and Poisson
        input onto it names one (`receptor:`); weights of either sign add there."""
        return any(port.addressed for port in self.receptors)

    @property
    def receptor_names(self) -> tuple[str, ...]:
        return tuple(port.name for port in self.receptors)

    @property
    def ring_channels(self) -> int:
        """Ring-buffer channels its kernel reads: 2 for the sign-chosen models (ex, in),
        the number of ports of a receptor-addressed one (at least 2: the ring's minimum)."""
        return max([2] + [port.channel + 1 for port in self.receptors])

    def receptor_named(self, name: str) -> ReceptorPort:
        for port in self.receptors:
            if port.name == name:
                return port
        raise KeyError(f"{self.name} has no receptor {name!r} (it has "
                       f"{', '.join(self.receptor_names)})")

    def receptor_for(self, weight: float, receptor: str | None = None) -> ReceptorPort:
        """The port a connection reaches: the one it names (receptor-addressed models),
        else the one a weight of this sign reaches (>= 0: weight_sign +1, < 0: -1)."""
        if receptor is not None:
            return self.receptor_named(receptor)
        if self.receptor_addressed:
            raise ValueError(f"{self.name} takes input only at a named receptor (one of "
                             f"{', '.join(self.receptor_names)})")
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
    for derived in model.derived:
        if derived.name in names or derived.name in params:
            fail(f"derived quantity {derived.name!r} shares its name with a state "
                 "variable or parameter")
        if not set(derived.reads) <= names:
            fail(f"derived quantity {derived.name!r} reads "
                 f"{sorted(set(derived.reads) - names)}, which are not state variables")
    _check_ports(model, params, fail)
    if model.psp_conversion is not None and any(p.time_constant is None
                                                for p in model.receptors):
        fail("a PSP conversion needs every receptor's time constant")


def _check_ports(model: NeuronModel, params: dict, fail) -> None:
    """Ports are either all chosen by the weight's sign (one each for +1 and -1, distinct
    channels: what delivery by sign needs) or all reached by name (ANY_SIGN, channels
    0 .. n-1, one each: the ring's channels of a receptor-addressed model)."""
    channels, signs, names = set(), set(), set()
    for port in model.receptors:
        if port.name in names or not port.name.isidentifier():
            fail(f"receptor {port.name!r}: names must be distinct identifiers")
        if port.weight_sign not in (1, -1, ANY_SIGN):
            fail(f"receptor {port.name!r}: weight_sign must be +1, -1 or 0 (any sign)")
        if port.channel in channels or (not port.addressed and port.weight_sign in signs):
            fail(f"receptor {port.name!r} shares a channel or weight sign with another")
        if port.channel < 0:
            fail(f"receptor {port.name!r}: channel {port.channel} is negative")
        channels.add(port.channel)
        signs.add(port.weight_sign)
        names.add(port.name)
        for ref in (port.time_constant, port.reversal):
            if ref is not None and ref not in params:
                fail(f"receptor {port.name!r} refers to parameter {ref!r}, not declared")
    if ANY_SIGN in signs and signs != {ANY_SIGN}:
        fail("receptors mix ports reached by name (weight_sign 0) and by the weight's sign")
    if ANY_SIGN in signs and channels != set(range(len(channels))):
        fail(f"receptors reached by name need channels 0 .. {len(channels) - 1}, got "
             f"{sorted(channels)}")
