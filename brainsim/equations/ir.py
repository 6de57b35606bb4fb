"""The validated equation model as frozen data. Values are in internal units (mV, ms, pA,
pF, nS, 1/ms); expressions are strings over the model's symbols, in internal units."""
from __future__ import annotations

import ast
from dataclasses import dataclass

from .linearity import affine_in_state


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


@dataclass(frozen=True)
class Receptor:
    """One receptor port. kind 'current' or 'conductance'; time constants name
    parameters (ms); `symbol` is the current (pA) or conductance (nS) it drives (None for
    delta ports, which add the weight to state variable `jump`); `current_symbol` names its
    current (pA) in equations and `current` is that current's expression."""
    name: str
    kernel: str                      # delta | exp | alpha | beta
    kind: str
    time_constants: tuple            # () delta, (tau,) exp/alpha, (tau_rise, tau_decay) beta
    symbol: str | None
    current_symbol: str | None
    current: str | None
    reversal: str | None = None
    jump: str | None = None


@dataclass(frozen=True)
class Threshold:
    left: str
    operator: str                    # '>=', '>', '<=', '<'
    right: str


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

    @property
    def recordables(self) -> tuple:
        """State variables and receptor symbols, in declaration order."""
        names = [s.name for s in self.state]
        return tuple(names + [r.symbol for r in self.receptors
                                     if r.symbol and r.symbol not in names])

    def rhs(self, variable: str) -> str:
        return dict(self.equations)[variable]

    def linear_variables(self) -> tuple:
        """State variables whose rhs, with conductance currents expanded to g*(E_rev - V),
        is affine in the state variables with coefficients built from parameters and
        numbers only; receptor symbols, I_e and I_stim may enter as additive inputs but
        never multiply a state variable (so g*(E - V_m) is not linear)."""
        parameters = {p.name for p in self.parameters}
        state = {s.name for s in self.state}
        expansions = {r.current_symbol: ast.parse(r.current, mode="eval").body
                      for r in self.receptors if r.kind == "conductance"}
        return tuple(variable for variable, rhs in self.equations
                     if affine_in_state(ast.parse(rhs, mode="eval").body, parameters, state,
                                        expansions))
