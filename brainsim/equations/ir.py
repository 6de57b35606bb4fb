"""The validated equation model as frozen data. Values are in internal units (mV, ms, pA,
pF, nS, 1/ms); expressions are strings over the model's symbols, in internal units.

EquationModel is what the file says (parse.py); ModelIR adds what follows from it
(analysis.py): every state variable including the receptors', the integration scheme,
the exact propagators or the RKF45 right-hand side, and kernel-ready expression texts."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Parameter:
    name: str
    unit: str          # internal unit, e.g. 'pF'
    default: float     # in `unit`


@dataclass(frozen=True)
class StateVariable:
    name: str
    unit: str
    initial: str       # expression over parameters, e.g. 'E_L' or '0.0'
    receptor: str | None = None   # the receptor that adds it (None: declared in `state`)


@dataclass(frozen=True)
class Receptor:
    """One receptor port. kind 'current' or 'conductance'; time constants name
    parameters (ms); `symbol` is the current (pA) or conductance (nS) it drives (None for
    delta ports); `current_symbol` names its current (pA) in equations and `current` is
    that current's expression (g*(E_rev - V_m) for a conductance). `state`: the (name,
    unit) state variables the kernel adds, `equations` their (variable, rhs); a spike of
    weight w (in `weight_unit`) adds w * `jump_factor` to state variable `jump`."""
    name: str
    kernel: str                      # delta | exp | alpha | beta
    kind: str
    time_constants: tuple            # () delta, (tau,) exp/alpha, (tau_rise, tau_decay) beta
    symbol: str | None
    current_symbol: str | None
    current: str | None
    reversal: str | None = None
    jump: str | None = None
    jump_factor: str = "1.0"         # expression over parameters (1/ms for alpha, beta)
    weight_unit: str = "pA"
    state: tuple = ()
    equations: tuple = ()


@dataclass(frozen=True)
class Threshold:
    """`left operator right`, and with `more` a conjunction: every further (left,
    operator, right) must hold too (`V_m >= 0*mV and prev(V_m) > V_m`). A side may read
    prev(X), X's value at the start of the step (`previous` lists those X)."""
    left: str
    operator: str                    # '>=', '>', '<=', '<'
    right: str
    more: tuple = ()                 # of (left, operator, right), joined by `and`
    previous: tuple = ()             # state variables read as prev(X), in first-use order

    @property
    def comparisons(self) -> tuple:
        return ((self.left, self.operator, self.right),) + tuple(self.more)

    @property
    def text(self) -> str:
        return " and ".join(f"{left} {operator} {right}"
                            for left, operator, right in self.comparisons)


@dataclass(frozen=True)
class Auxiliary:
    """A named expression (`expressions:`), usable after its definition and recordable."""
    name: str
    unit: str
    expression: str


@dataclass(frozen=True)
class Rkf45Control:
    """GSL's step control D_i = eps_rel (a_y |y_i| + a_dydt h |y'_i|) + eps_abs, and
    whether spikes are handled after every accepted RKF45 step (NEST's aeif_*) or once
    after the whole step (its iaf_cond_*)."""
    eps_abs: float = 1e-6
    eps_rel: float = 1e-6
    a_y: float = 0.0
    a_dydt: float = 1.0
    spike_within_step: bool = True


@dataclass(frozen=True)
class EquationModel:
    name: str
    parameters: tuple                # of Parameter
    state: tuple                     # of StateVariable
    equations: tuple                 # of (variable, rhs string), rhs unit = state unit / ms
    receptors: tuple                 # of Receptor
    threshold: Threshold
    reset: tuple                     # of (variable, expression), applied in order
    refractory_duration: str | None  # expression in ms, None: no refractoriness
    clamped: tuple                   # state variables held during refractoriness
    inputs: tuple = ("I_e", "I_stim")  # always available currents (pA)
    auxiliaries: tuple = ()          # of Auxiliary, in definition order
    rkf45: Rkf45Control = Rkf45Control()
    updates: tuple = ()              # of (variable, expression over dt): an `update:` model

    @property
    def recordables(self) -> tuple:
        """State variables, receptor symbols and auxiliaries, in declaration order."""
        names = [s.name for s in self.state]
        names += [r.symbol for r in self.receptors if r.symbol and r.symbol not in names]
        return tuple(names + [a.name for a in self.auxiliaries])

    def rhs(self, variable: str) -> str:
        return dict(self.equations)[variable]


@dataclass(frozen=True)
class Propagator:
    """One constant of the exact update: `name` (a segment column), the effect of
    `source` (a state variable, or DRIVE: the step's constant input) on `target` over
    one step h. `expression`: sympy over the parameters and h; `c_code`: its C text
    (sympy's ccode); `form`: 'general' (from exp(A h)) or the NEST formula used
    ('nest_psc_exp', 'nest_psc_alpha', ...), which `numeric.evaluate` reproduces in
    NEST's floating-point order. Unit: target unit per source unit."""
    name: str
    target: str
    source: str
    expression: object
    c_code: str
    form: str = "general"
    arguments: tuple = ()            # the parameters a NEST form takes, in its order


DRIVE = "1"   # the source of a propagator that multiplies the step's constant input


@dataclass(frozen=True)
class LinearSystem:
    """dx/dt = A x + b over `variables` (all state variables of an exact model), with b
    constant over a step (parameters, I_e, I_stim). The kernel stores x - offset (NEST
    stores V_m - E_L); in those coordinates b has no constant part. Per step every
    variable becomes `updates[variable]` (kernel text over the stored old values,
    propagator names, I_e and I_stim; all read the values before the step)."""
    variables: tuple
    offsets: tuple                   # of (variable, expression text over parameters)
    matrix: object                   # sympy Matrix A (parameters only)
    drive: object                    # sympy Matrix b in offset coordinates
    propagators: tuple               # of Propagator
    updates: tuple                   # of (variable, kernel expression text)
    degenerate: tuple                # ((tau_a, tau_b), ...): equal time constants break
                                     # the general formula; numeric.evaluate falls back


@dataclass(frozen=True)
class NonlinearSystem:
    """Integrated by RKF45: d variable/dt = rhs. `definitions`: (name, kernel text)
    computed in order before the derivatives (conductance currents, auxiliaries)."""
    variables: tuple
    rhs: tuple                       # of (variable, sympy expression)
    derivatives: tuple               # of (variable, kernel text)
    definitions: tuple               # of (name, kernel text)
    control: Rkf45Control


@dataclass(frozen=True)
class ModelIR:
    """Everything a code generator needs for one equation model.

    scheme 'explicit' (an `update:` model: one step is the written map, `explicit`),
    'exact' (every variable in one linear time-invariant system, `linear`) or
    'rkf45' (`nonlinear`, all variables coupled, as NEST's aeif_*/iaf_cond_*).
    affine: the variables whose rhs alone is affine with parameter coefficients.
    threshold, reset: kernel texts over the model's own (absolute) variables; reset
    statements run in order, each seeing the values the earlier ones set (NESTML).
    The threshold may contain `and` and calls prev(X): X's value at the start of the step
    (`previous` lists those X; the lowering turns each call into a saved copy).
    refractory_duration: ms expression text or None; clamped: held while refractory.
    While refractory no spike is emitted (the threshold is not tested, or, when it reads
    only clamped variables, sees their held values as in NEST's iaf_psc_*)."""
    model: EquationModel
    state: tuple                     # of StateVariable: declared, then the receptors'
    scheme: str
    affine: tuple
    linear: LinearSystem | None
    nonlinear: NonlinearSystem | None
    threshold: str
    reset: tuple                     # of (variable, kernel text)
    recordables: tuple               # of (name, unit, kernel text)
    previous: tuple = ()             # state variables the threshold reads as prev(X)
    explicit: tuple = ()             # scheme 'explicit': (variable, kernel text over dt)
    threshold_comparisons: tuple = ()   # of (left, operator, right) kernel texts, `and`ed

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def parameters(self) -> tuple:
        return self.model.parameters

    @property
    def receptors(self) -> tuple:
        return self.model.receptors
