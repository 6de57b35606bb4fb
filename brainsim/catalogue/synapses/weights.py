"""What a plastic synapse model requires of its initial weights (pA, mV or nS: the target
model's native unit), checked by the loader on a constant weight and over the range of a
SONATA edges file's syn_weight; the messages name the model and NEST's reason."""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Mapping


@dataclass(frozen=True)
class WeightRule(ABC):
    """Base of the weight rules: `of_weight` checks one constant weight, `of_file` the
    (lowest, highest) weights of an edges file; both return [(found, expected), ...].
    parameter: the synapse parameter the rule reads (None: none); summary: for the docs."""
    model: str
    parameter: str | None = None

    @property
    @abstractmethod
    def summary(self) -> str: ...

    @abstractmethod
    def of_weight(self, params: Mapping[str, float], weight: float) -> list: ...

    @abstractmethod
    def of_file(self, params: Mapping[str, float], low: float, high: float,
                edges_file: str) -> list: ...


@dataclass(frozen=True)
class NonNegativeWeights(WeightRule):
    """w >= 0 (stdp_pl_synapse_hom takes w ** mu). reason: NEST's reason, for messages."""
    reason: str = ""

    @property
    def summary(self) -> str:
        return f"w ≥ 0 ({self.reason})"

    def of_weight(self, params, weight):
        if weight < 0:
            return [(f"weight {weight}", f"a weight >= 0 ({self.model}: {self.reason})")]
        return []

    def of_file(self, params, low, high, edges_file):
        if low < 0:
            return [(f"syn_weight {low:g} in {edges_file}",
                     f"weights >= 0 for {self.model} ({self.reason})")]
        return []


@dataclass(frozen=True)
class SameSignAs(WeightRule):
    """Every weight has the sign of `parameter` (stdp_synapse: Wmax; 0 counts as
    positive)."""

    @property
    def summary(self) -> str:
        return f"w has the sign of `{self.parameter}`"

    def of_weight(self, params, weight):
        bound = params[self.parameter]
        if (weight >= 0) != (bound >= 0):
            return [(f"weight {weight} and {self.parameter} {bound} of different sign",
                     f"the same sign (NEST's {self.model})")]
        return []

    def of_file(self, params, low, high, edges_file):
        bound = params[self.parameter]
        bad = low if bound >= 0 else high
        if (bad >= 0) != (bound >= 0):
            return [(f"syn_weight {bad:g} in {edges_file} and {self.parameter} {bound:g} of "
                     "different sign", f"the same sign (NEST's {self.model})")]
        return []
