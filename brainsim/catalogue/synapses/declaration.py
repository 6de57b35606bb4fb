"""What a synapse model is to brainsim: one SynapseModel declaration, from which validation
(spec), the per-source state and CSR of a projection (network), its delivery (engine), its
checkpointed state, memory estimates and the docs tables are derived (docs/architecture.md
§12).

A declaration is plain data plus a few functions (checks, kernel constants, delivery); the
compiled kernel is named by its dotted module and function name and imported only when
first delivered, so the spec layer can use this module without numpy or the kernels.
"""
from __future__ import annotations

import importlib
import math
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Callable, Mapping

from brainsim.catalogue.synapses.weights import WeightRule

FLOAT64, INT64 = "float64", "int64"
ITEM_BYTES = {FLOAT64: 8, INT64: 8}
# -> [(param or None for the params as a whole, found, expected), ...]
Check = Callable[[Mapping[str, float]], list]


class SynapseDeclarationError(ValueError):
    """A synapse model declaration that contradicts itself (a programming error)."""


@dataclass(frozen=True)
class SynapseParameter:
    """One parameter of a projection's synapses: NEST's name, its unit as the checker
    names it ('ms' for time constants, '' when dimensionless or in the weight's unit),
    NEST 3.10's default, and the bounds the loader enforces (minimum, maximum inclusive,
    above exclusive); note: a remark for the docs table."""
    name: str
    unit: str
    default: float
    minimum: float | None = None
    above: float | None = None
    maximum: float | None = None
    note: str = ""


@dataclass(frozen=True)
class PerSourceState:
    """One array per (projection, source gid): state that depends only on the source's
    spike train, so NEST's per-synapse copies are all equal (docs/architecture.md §10).

    initial: the value every source starts at, a number or the name of the parameter whose
        value it starts at (tsodyks_synapse's x, y, u).
    unit: of the values ('steps' for spike stamps, '' for dimensionless traces).
    dtype: 'float64', or 'int64' for step stamps.
    """
    name: str
    unit: str
    initial: float | str = 0.0
    dtype: str = FLOAT64
    note: str = ""


@dataclass(frozen=True)
class SynapseModel:
    """A synapse model as brainsim implements it (docs/architecture.md §12).

    name: NEST's model name. parameters: in the order the loader reads and names them.
    per_source: the per-source state arrays, in checkpoint order ('t_last', the stamp step
        of the source's last spike, first for every plastic model).
    uses_post_trace: reads the targets' archived spikes (NEST's ArchivingNode, K_minus with
        the target's tau_minus), so it needs a target model that archives spikes and the
        network keeps post histories for its targets.
    checks: NEST's checks across parameters, each params -> [(param or None, found,
        expected)].
    weight_rules: what the initial weights must satisfy (weights.WeightRule).
    kernel, kernel_function: the compiled module's dotted name and the function in it.
    delivery: (kernel function, engine, projection, received spike keys, scratch) -> None,
        the call of the kernel for one plastic projection and one epoch (engine: step,
        ring, dt, network.post_history); None for static_synapse, whose projections share
        the static CSR and its one kernel call per epoch.
    kernel_constants: params -> {kernel argument name: value}, computed once per
        projection at build; the delivery reads them by these names (the catalogue test
        checks they are the kernel's argument names).
    scratch: (kernel module, number of local neurons) -> a reusable per-rank scratch for
        the kernel (one per kernel, shared by its models); None: none.
    """
    name: str
    kernel: str
    kernel_function: str
    parameters: tuple[SynapseParameter, ...] = ()
    per_source: tuple[PerSourceState, ...] = ()
    uses_post_trace: bool = False
    checks: tuple = field(default=(), repr=False)
    weight_rules: tuple[WeightRule, ...] = ()
    delivery: Callable | None = field(default=None, repr=False)
    kernel_constants: Callable = field(default=lambda params: {}, repr=False)
    scratch: Callable | None = field(default=None, repr=False)

    def __post_init__(self):
        for name in ("parameters", "per_source", "checks", "weight_rules"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        _check_declaration(self)

    # --- what the spec layer reads ---------------------------------------------------------
    @property
    def plastic(self) -> bool:
        """Delivered per projection with its own CSR and state (not the static CSR)."""
        return self.delivery is not None

    @property
    def defaults(self) -> Mapping[str, float]:
        return MappingProxyType({p.name: p.default for p in self.parameters})

    def check(self, params: Mapping[str, float]) -> list:
        """[(param or None, found, expected), ...] of NEST's checks; empty if valid."""
        problems = []
        for check in self.checks:
            problems.extend(check(params))
        return problems

    def accepts_target(self, neuron_model) -> bool:
        """Whether projections of this model may target `neuron_model` (a NeuronModel):
        a model with a postsynaptic trace needs the target's spike archive."""
        return neuron_model.archives_spikes or not self.uses_post_trace

    def target_models(self, neuron_models: Mapping) -> tuple[str, ...]:
        """Names among `neuron_models` (name -> NeuronModel) it accepts as targets."""
        return tuple(name for name, model in neuron_models.items()
                     if self.accepts_target(model))

    # --- what the network and engine read --------------------------------------------------
    def initial_state(self, params: Mapping[str, float]) -> dict:
        """Per-source array name -> (initial value, dtype), in checkpoint order."""
        return {s.name: (float(params[s.initial]) if isinstance(s.initial, str)
                         else s.initial, s.dtype) for s in self.per_source}

    @property
    def per_source_bytes(self) -> int:
        """Bytes of per-source state per source of a projection."""
        return sum(ITEM_BYTES[s.dtype] for s in self.per_source)

    @cached_property
    def compiled(self) -> Callable:
        """The kernel function, imported once (a frozen dataclass keeps it in __dict__)."""
        return getattr(importlib.import_module(self.kernel), self.kernel_function)

    def make_scratch(self, num_local: int):
        """A new scratch for this model's kernel (None when it needs none)."""
        if self.scratch is None:
            return None
        return self.scratch(importlib.import_module(self.kernel), num_local)

    def deliver(self, engine, projection, received, scratch) -> None:
        """Deliver one epoch's received spike keys through one plastic projection."""
        self.delivery(self.compiled, engine, projection, received, scratch)


def _check_declaration(model: SynapseModel) -> None:
    """Refuse a declaration that contradicts itself, naming the model and the field."""
    def fail(message: str):
        raise SynapseDeclarationError(f"synapse model {model.name!r}: {message}")

    if not model.name or not model.name.isidentifier():
        fail("the name must be an identifier")
    params = set()
    for p in model.parameters:
        if p.name in params:
            fail(f"parameter {p.name!r} declared twice")
        params.add(p.name)
        if math.isnan(p.default):
            fail(f"parameter {p.name!r}: default is NaN")
    names = set()
    for s in model.per_source:
        if s.name in names:
            fail(f"per-source state {s.name!r} declared twice")
        names.add(s.name)
        if s.dtype not in ITEM_BYTES:
            fail(f"per-source state {s.name!r}: dtype {s.dtype!r} is not one of "
                 f"{tuple(ITEM_BYTES)}")
        if isinstance(s.initial, str) and s.initial not in params:
            fail(f"per-source state {s.name!r} starts at parameter {s.initial!r}, "
                 "which is not declared")
    if model.delivery is None and (model.parameters or model.per_source
                                   or model.uses_post_trace):
        fail("a model without its own delivery shares the static CSR: it can have no "
             "parameters, per-source state or postsynaptic trace")
    if model.delivery is not None and (not model.per_source
                                       or model.per_source[0].name != "t_last"
                                       or model.per_source[0].dtype != INT64):
        fail("a plastic model's first per-source state must be t_last (int64 steps): "
             "the post histories are pruned by it")
    for rule in model.weight_rules:
        if rule.parameter is not None and rule.parameter not in params:
            fail(f"a weight rule refers to parameter {rule.parameter!r}, not declared")
