"""Projections and external inputs: rule scaling, PSP -> PSC conversion, delay checks, and
the terms of the DC compensation of down-scaled in-degrees (docs/model-format.md)."""
from __future__ import annotations

import math
from dataclasses import dataclass

from .checker import MISSING, Checker, describe, fmt
from .model import DCInput, Distribution, PoissonInput, Projection
from .neuron_models import NeuronModel, charge_per_unit_weight, psc_over_psp
from .quantities import read_quantity, scale_distribution

PROJECTION_KEYS = ("source", "target", "rule", "synapse")
RULE_FLAGS = ("allow_autapses", "allow_multapses")
RULES = {"fixed_total_number": ("total_number", "connection_probability"),
         "fixed_indegree": ("indegree",),
         "pairwise_bernoulli": ("probability",),
         "one_to_one": (),
         "all_to_all": ()}
SYNAPSE_KEYS = ("model", "weight", "delay")
SYNAPSE_MODELS = ("static_synapse",)
POISSON_KEYS = ("type", "target", "rate", "indegree", "weight", "delay", "start", "stop")
DC_KEYS = ("type", "target", "amplitude", "start", "stop", "delay")
INPUT_TYPES = ("poisson", "dc")
NEST_DEFAULT_DELAY = 1.0  # ms


def round_half_even(x: float) -> int:
    """numpy.round semantics for scalars (Python's round is half-to-even too)."""
    return int(round(x))


@dataclass
class PopInfo:
    """A population while the model is being resolved (params still mutable)."""
    index: int
    name: str
    model: NeuronModel
    size_full: int
    size: int
    offset: int
    params: dict
    initial: dict


@dataclass(frozen=True)
class CompensationTerm:
    """One input's share of a target's compensating DC (before the common factor).

    charge: native full-scale mean weight x charge per unit weight (fC per spike);
    indegree_full: full-scale mean number of sources per target neuron;
    source: population whose full-scale rate applies, or None with rate_hz given.
    """
    target: int
    charge: float
    indegree_full: float
    source: str | None = None
    rate_hz: float = 0.0


@dataclass(frozen=True)
class Scaling:
    scale: float
    indegree_scale: float
    compensate: bool  # compensation 'sqrt' with indegree_scale < 1

    def weight(self, dist: Distribution) -> Distribution:
        """Weights divided by sqrt(indegree_scale) when compensating."""
        if not self.compensate:
            return dist
        root = math.sqrt(self.indegree_scale)
        if dist.kind == "lognormal":
            return scale_distribution(dist, 1.0 / root)
        return Distribution(kind=dist.kind, value=dist.value / root, mean=dist.mean / root,
                            std=dist.std / root, low=dist.low / root, high=dist.high / root,
                            min=dist.min / root, max=dist.max / root)


def weight_units(model: NeuronModel) -> tuple:
    """Units a weight onto `model` may be given in (native first)."""
    return ("pA", "mV") if model.weight_unit == "pA" else ("mV",)


def read_weight(ck: Checker, container: dict, path, target: PopInfo, *,
                constant_only: bool = False) -> Distribution:
    """A weight in the target's native unit; 'mV' onto iaf_psc_exp is a peak PSP."""
    native = target.model.weight_unit
    dist, unit = read_quantity(ck, container, "weight", path, unit=native,
                               units=weight_units(target.model), constant_only=constant_only)
    if unit == native:
        return dist
    p = target.params
    tau_syn = p["tau_syn_ex"] if dist.expected() >= 0 else p["tau_syn_in"]
    return scale_distribution(dist, psc_over_psp(p["C_m"], p["tau_m"], tau_syn))


def read_delay(ck: Checker, container: dict, path, dt: float, default=MISSING,
               constant_only: bool = False) -> Distribution:
    """A delay (ms) whose smallest possible value rounds to at least one step."""
    dist, _ = read_quantity(ck, container, "delay", path, unit="ms", default=default,
                            constant_only=constant_only)
    smallest = dist.support()[0]
    half = 0.5 * dt
    if smallest >= half * (1 - 1e-12):
        return dist
    raw = container.get("delay")
    p = tuple(path) + ("delay",)
    need = f"min >= dt/2 = {fmt(half)} ms (delays round to whole steps of dt, at least one)"
    if not isinstance(raw, dict) or dist.kind == "constant":
        ck.fail(p, f"{fmt(smallest)} ms", f">= dt/2 = {fmt(half)} ms (delays round to whole "
                "steps of dt, at least one)")
    if "min" in raw:
        ck.fail(p + ("min",), f"{fmt(dist.min)} ms", f">= dt/2 = {fmt(half)} ms")
    if dist.kind == "uniform":
        ck.fail(p + ("low",), f"{fmt(dist.low)} ms", f">= dt/2 = {fmt(half)} ms, or a 'min' bound")
    ck.fail(p, f"a {dist.kind} delay without 'min' (it can come out below one step)", need)


def _counts(ck: Checker, rule: dict, rp, name: str, src: PopInfo, tgt: PopInfo,
            sc: Scaling, autapses: bool, multapses: bool) -> tuple[dict, float]:
    """Resolved rule numbers for the Projection and the full-scale mean in-degree."""
    same = src.index == tgt.index
    if name == "fixed_total_number":
        has_total, has_prob = "total_number" in rule, "connection_probability" in rule
        if has_total == has_prob:
            ck.fail(rp, "both 'total_number' and 'connection_probability'" if has_total else
                    "neither 'total_number' nor 'connection_probability'",
                    "exactly one of them for fixed_total_number")
        pairs_full = src.size_full * tgt.size_full
        if has_prob:
            prob = ck.number(rule, "connection_probability", rp, minimum=0.0, maximum=1.0,
                             what="a probability in [0, 1]")
            if prob == 1.0 or (prob > 0 and pairs_full == 1):
                ck.fail(rp + ("connection_probability",), fmt(prob),
                        "< 1 (with C = 1 or a single pair the synapse number is infinite); "
                        "give total_number instead")
            k_full = 0.0 if prob == 0 else math.log(1.0 - prob) / math.log(1.0 - 1.0 / pairs_full)
            key = "connection_probability"
        else:
            k_full = float(ck.number(rule, "total_number", rp, integer=True, minimum=0))
            key = "total_number"
        total = round_half_even(k_full * sc.scale * sc.indegree_scale)
        if not multapses:
            pairs = src.size * tgt.size - (src.size if same and not autapses else 0)
            if total > pairs:
                ck.fail(rp + (key,), f"{total} synapses after scaling, more than the {pairs} "
                        "distinct pairs", "allow_multapses: true or fewer synapses")
        return {"total_number": total}, k_full / tgt.size_full
    if name == "fixed_indegree":
        k = ck.number(rule, "indegree", rp, integer=True, minimum=0)
        scaled = round_half_even(k * sc.indegree_scale)
        available = src.size - (1 if same and not autapses else 0)
        if scaled > 0 and (available < 1 or (not multapses and scaled > available)):
            ck.fail(rp + ("indegree",), f"in-degree {scaled} (after scaling) from {available} "
                    f"available sources in {src.name}",
                    f"<= {available} without multapses" if available else "a source population "
                    "that can connect (allow_autapses?)")
        return {"indegree": scaled}, float(k)
    if name == "pairwise_bernoulli":
        prob = ck.number(rule, "probability", rp, minimum=0.0, maximum=1.0, what="a probability in [0, 1]")
        scaled = prob * sc.indegree_scale / sc.scale
        if scaled > 1.0:
            ck.fail(rp + ("probability",), f"{fmt(prob)} x indegree_scale / scale = {fmt(scaled)}",
                    "<= 1 after scaling (use fixed_indegree, or a smaller indegree_scale)")
        return {"probability": scaled}, prob * src.size_full
    if name == "one_to_one":
        if src.size != tgt.size:
            ck.fail(rp, f"one_to_one from {src.name} ({src.size} neurons) to {tgt.name} "
                    f"({tgt.size} neurons)", "populations of equal size")
        return {}, 1.0
    return {}, float(src.size_full)  # all_to_all


def read_projections(ck: Checker, top: dict, pops: dict, dt: float, sc: Scaling
                     ) -> tuple[list, list]:
    """(Projections, compensation terms) in declaration order."""
    projections, terms = [], []
    names = list(pops)
    for i, raw in enumerate(ck.list_of(top, "projections", ())):
        p = ("projections", i)
        proj = ck.mapping(raw, p, PROJECTION_KEYS, required=PROJECTION_KEYS)
        src = pops[ck.name_in(proj, "source", p, names)]
        tgt = pops[ck.name_in(proj, "target", p, names)]
        rp = p + ("rule",)
        if isinstance(proj["rule"], str):
            proj["rule"] = {"name": proj["rule"]}
        rule = proj["rule"]
        if not isinstance(rule, dict):
            ck.fail(rp, describe(rule), "a rule name or a mapping with 'name'")
        name = ck.string(rule, "name", rp, choices=RULES)
        ck.mapping(rule, rp, ("name", *RULES[name], *RULE_FLAGS))
        autapses = ck.boolean(rule, "allow_autapses", rp, default=True)
        multapses = ck.boolean(rule, "allow_multapses", rp, default=True)
        numbers, indegree_full = _counts(ck, rule, rp, name, src, tgt, sc, autapses, multapses)

        sp = p + ("synapse",)
        syn = ck.mapping(proj["synapse"], sp, SYNAPSE_KEYS, required=("weight",))
        synapse_model = ck.string(syn, "model", sp, default="static_synapse",
                                  choices=SYNAPSE_MODELS)
        weight_full = read_weight(ck, syn, sp, tgt)
        delay = read_delay(ck, syn, sp, dt, default=NEST_DEFAULT_DELAY)
        mean = weight_full.expected()
        terms.append(CompensationTerm(
            target=tgt.index, source=src.name, indegree_full=indegree_full,
            charge=mean * charge_per_unit_weight(tgt.model, tgt.params, mean)))
        projections.append(Projection(
            index=i, source=src.index, target=tgt.index, rule=name,
            weight=sc.weight(weight_full), delay=delay, allow_autapses=autapses,
            allow_multapses=multapses, synapse_model=synapse_model, **numbers))
    return projections, terms


def _window(ck: Checker, item: dict, p) -> tuple[float, float]:
    start = ck.number(item, "start", p, default=0.0, unit="ms", minimum=0.0)
    stop = ck.number(item, "stop", p, default=math.inf, unit="ms", allow_inf=True,
                     minimum=start)
    return start, stop


def read_inputs(ck: Checker, top: dict, pops: dict, dt: float, sc: Scaling
                ) -> tuple[list, list, list]:
    """(PoissonInputs, DCInputs, compensation terms) in declaration order."""
    poisson, dcs, terms = [], [], []
    names = list(pops)
    for i, item in enumerate(ck.list_of(top, "inputs", ())):
        p = ("inputs", i)
        if not isinstance(item, dict):
            ck.mapping(item, p, ())
        kind = ck.string(item, "type", p, choices=INPUT_TYPES)
        if kind == "dc":
            ck.mapping(item, p, DC_KEYS, required=("target", "amplitude"))
            tgt = pops[ck.name_in(item, "target", p, names)]
            amplitude = ck.number(item, "amplitude", p, unit="pA")
            start, stop = _window(ck, item, p)
            delay = read_delay(ck, item, p, dt, default=NEST_DEFAULT_DELAY,
                               constant_only=True).value
            dcs.append(DCInput(index=len(dcs), target=tgt.index, amplitude=amplitude,
                               start=start, stop=stop, delay=delay))
            continue
        ck.mapping(item, p, POISSON_KEYS, required=("target", "rate", "weight"))
        tgt = pops[ck.name_in(item, "target", p, names)]
        rate = ck.number(item, "rate", p, unit="Hz", minimum=0.0)
        weight_full = read_weight(ck, item, p, tgt, constant_only=True).value
        delay = read_delay(ck, item, p, dt, default=NEST_DEFAULT_DELAY, constant_only=True).value
        start, stop = _window(ck, item, p)
        weight = weight_full
        if "indegree" in item:
            indegree = ck.number(item, "indegree", p, integer=True, minimum=0)
            total_rate = rate * round_half_even(indegree * sc.indegree_scale)
            weight = sc.weight(Distribution(kind="constant", value=weight_full)).value
            terms.append(CompensationTerm(
                target=tgt.index, indegree_full=float(indegree), rate_hz=rate,
                charge=weight_full * charge_per_unit_weight(tgt.model, tgt.params, weight_full)))
        else:
            total_rate = rate
        poisson.append(PoissonInput(index=len(poisson), target=tgt.index, rate=total_rate,
                                    weight=weight, delay=delay, start=start, stop=stop))
    return poisson, dcs, terms


def compensating_currents(terms: list, rates: dict, num_pops: int,
                          indegree_scale: float) -> list[float]:
    """DC (pA) per population that replaces the mean input lost by scaling in-degrees:
    0.001 * (1 - sqrt(k)) * sum(charge * indegree_full * rate) (rates in Hz -> 1/ms)."""
    total = [0.0] * num_pops
    for term in terms:
        rate = rates[term.source] if term.source is not None else term.rate_hz
        total[term.target] += term.charge * term.indegree_full * rate
    factor = 0.001 * (1.0 - math.sqrt(indegree_scale))
    return [factor * x for x in total]
