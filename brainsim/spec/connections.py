"""Projections and external inputs: rule scaling, PSP -> PSC conversion, delay checks, and
the terms of the DC compensation of down-scaled in-degrees (docs/model-format.md)."""
from __future__ import annotations

import math
from dataclasses import dataclass

from .checker import MISSING, Checker, describe, fmt
import os

import numpy as np

from .model import (DCInput, DistanceDelay, DistanceKernel, Distribution, Mask, NoiseInput,
                    PoissonInput, Projection, SonataEdges, SpikeGeneratorInput)
from .neuron_models import NEURON_MODELS, NeuronModel, charge_per_unit_weight, psp_to_native
from ..catalogue.synapses import SYNAPSE_MODELS as SYNAPSE_CATALOGUE
from .current_inputs import read_ac, read_node_ids, read_step_current
from .neuron_params import PerNeuronParameter, homogeneous
from .quantities import read_quantity, scale_distribution
from ..timesteps import is_on_grid, is_whole_steps, off_grid_mask, steps_nearest

PROJECTION_KEYS = ("source", "target", "rule", "synapse")
RULE_FLAGS = ("allow_autapses", "allow_multapses")
RULES = {"fixed_total_number": ("total_number", "connection_probability"),
         "fixed_indegree": ("indegree",),
         "fixed_outdegree": ("outdegree",),
         "pairwise_bernoulli": ("probability", "mask"),
         "one_to_one": (),
         "all_to_all": (),
         "sonata": ("edges_file", "edge_population", "nodes_file"),
         "from_list": ("connections",)}
# Rules without NEST's allow_autapses / allow_multapses: explicit SONATA edges are taken
# as they are. (NEST accepts both flags on every other rule, one_to_one included.)
RULE_FLAG_SET = {"sonata": (), "from_list": ()}
# Rules whose synapses need no `synapse:` block (their weights and delays are listed).
EXPLICIT_RULES = ("sonata", "from_list")
KERNEL_KEYS = {"gaussian": ("kernel", "p_center", "std", "sigma"),
               "exponential": ("kernel", "p_center", "beta", "tau"),
               "constant": ("kernel", "p_center")}
MASK_KEYS = {"circular": ("radius",), "rectangular": ("lower_left", "upper_right")}
SYNAPSE_KEYS = ("model", "weight", "delay", "params", "receptor")
# Plastic delivery kernels that add into a ring of two channels chosen by the weight's sign
# (stdp.pyx ring_add): refused in a network whose ring is wider (a receptor-addressed
# model with more than two ports, delivery.pyx deliver_addressed).
TWO_CHANNEL_KERNELS = ("cython_kernels.stdp",)
# Delays are stored as uint16 step counts (network/build.py, cython_kernels/connect.pyx).
MAX_DELAY_STEPS = 65535
# An unbounded distribution's largest delay is taken at mean + TAIL_SD sd (normal) or
# exp(mu + TAIL_SD sigma) (lognormal): a draw beyond has probability below 1e-15.
TAIL_SD = 8.0
# Largest mean number of Poisson events per step: the kernel's CDF table needs exp(-mean)
# not to underflow (cython_kernels/poisson.pyx cdf_table, cython_kernels/inputs.pyx).
POISSON_MAX_MEAN_PER_STEP = 700.0
SYNAPSE_MODELS = tuple(SYNAPSE_CATALOGUE)      # the names `synapse.model` accepts


def read_synapse_params(ck: Checker, syn: dict, sp, synapse_model: str, tgt) -> tuple:
    """The synapse's parameters as sorted (name, value) pairs, defaults, bounds and checks
    from its declaration (brainsim.catalogue.synapses); () for a model without any."""
    declaration = SYNAPSE_CATALOGUE[synapse_model]
    if not declaration.parameters:
        if "params" in syn:
            ck.fail(sp + ("params",), f"params for {synapse_model}",
                    f"no params ({synapse_model} has none)")
        return ()
    if not declaration.accepts_target(tgt.model):
        ck.fail(sp + ("model",), f"{synapse_model} onto {tgt.model.name}",
                "a target model among " + ", ".join(declaration.target_models(NEURON_MODELS)))
    pp = sp + ("params",)
    raw = ck.mapping(syn.get("params") or {}, pp, tuple(declaration.defaults))
    values = {p.name: ck.number(raw, p.name, pp, default=p.default, unit=p.unit,
                                above=p.above, minimum=p.minimum, maximum=p.maximum)
              for p in declaration.parameters}
    for param, found, expected in declaration.check(values):
        ck.fail(pp + ((param,) if param else ()), found, expected)
    return tuple(sorted(values.items()))


def check_constant_weight(ck: Checker, path, weight: float, synapse_model: str,
                          synapse_params: tuple) -> None:
    """The weight rules of the synapse model (e.g. stdp_pl_synapse_hom w >= 0) on one
    constant weight (native unit)."""
    params = dict(synapse_params)
    for rule in SYNAPSE_CATALOGUE[synapse_model].weight_rules:
        for found, expected in rule.of_weight(params, weight):
            ck.fail(path, found, expected)


POISSON_KEYS = ("type", "target", "rate", "indegree", "weight", "delay", "start", "stop",
                "receptor", "node_ids")
DC_KEYS = ("type", "target", "amplitude", "start", "stop", "delay", "node_ids")
SPIKE_GENERATOR_KEYS = ("type", "target", "spike_times", "file", "per_neuron", "weight",
                        "delay", "receptor", "node_ids")
NOISE_KEYS = ("type", "target", "mean", "std", "dt", "start", "stop", "delay", "node_ids")
INPUT_TYPES = ("poisson", "dc", "spike_generator", "noise_generator", "step_current", "ac")
NEST_NOISE_DT = 1.0  # ms, noise_generator's default update interval
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
    positions: object = None   # model.Positions or None


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


def read_receptor(ck: Checker, container: dict, path, target: PopInfo) -> str | None:
    """The receptor port a connection or input names (`receptor:`, NEST's receptor_type):
    required onto a receptor-addressed model and one of its ports; refused onto the
    sign-chosen models (every built-in), whose port is the weight's sign."""
    model = target.model
    ports = ", ".join(model.receptor_names)
    if not model.receptor_addressed:
        if "receptor" in container:
            ck.fail(tuple(path) + ("receptor",), f"receptor {describe(container['receptor'])} "
                    f"onto {model.name} (population {target.name})", "no receptor: the "
                    f"weight's sign chooses the port of {model.name} ({ports})")
        return None
    if "receptor" not in container:
        ck.fail(path, f"no receptor onto {model.name} (population {target.name})",
                f"receptor: one of {ports}")
    name = container["receptor"]
    if not isinstance(name, str) or name not in model.receptor_names:
        ck.fail(tuple(path) + ("receptor",), describe(name),
                f"one of the receptors of {model.name}: {ports}")
    return name


def network_ring_channels(pops: dict) -> int:
    """Ring-buffer channels of a network of these populations: the most any of their
    models reads (2 unless a receptor-addressed model has more ports)."""
    return max([2] + [p.model.ring_channels for p in pops.values()])


def check_plastic_target(ck: Checker, path, synapse_model: str, tgt: PopInfo,
                         ring_channels: int) -> None:
    """Plastic synapses deliver by the weight's sign: refused onto a receptor-addressed
    model, and those whose kernel writes a two-channel ring in a wider one."""
    declaration = SYNAPSE_CATALOGUE[synapse_model]
    if not declaration.plastic:
        return
    if tgt.model.receptor_addressed:
        ck.fail(path, f"{synapse_model} onto {tgt.model.name} (population {tgt.name}), "
                "a receptor-addressed model", "static_synapse (plastic synapses deliver "
                "by the weight's sign)")
    if ring_channels > 2 and declaration.kernel in TWO_CHANNEL_KERNELS:
        ck.fail(path, f"{synapse_model} in a network whose ring has {ring_channels} "
                "receptor channels (a receptor-addressed model)",
                "static_synapse or a tsodyks synapse (stdp delivery writes two channels)")


def weight_units(model: NeuronModel) -> tuple:
    """Units a weight onto `model` may be given in (native first)."""
    return model.weight_units


def _charge_per_unit_weight(target: PopInfo, weight: float, receptor) -> float:
    """The charge (DC compensation) of a unit weight onto the target; NaN when it needs a
    parameter that varies per neuron (check_charges_known refuses sqrt compensation)."""
    try:
        return charge_per_unit_weight(target.model, homogeneous(target.params), weight,
                                      receptor)
    except PerNeuronParameter:
        return math.nan


def read_weight(ck: Checker, container: dict, path, target: PopInfo, *,
                constant_only: bool = False, receptor: str | None = None) -> Distribution:
    """A weight in the target's native unit; 'mV' onto iaf_psc_exp is a peak PSP (of the
    receptor named, onto a receptor-addressed model, else of the weight's sign)."""
    native = target.model.weight_unit
    dist, unit = read_quantity(ck, container, "weight", path, unit=native,
                               units=weight_units(target.model), constant_only=constant_only)
    if unit == native:
        return dist
    try:
        factor = psp_to_native(target.model, homogeneous(target.params), dist.expected(),
                               receptor)
    except (ZeroDivisionError, OverflowError):
        factor = math.nan
    except PerNeuronParameter as varying:
        ck.fail(tuple(path) + ("weight",), f"a weight in mV (peak PSP) onto population "
                f"{target.name}, whose {varying.args[0]} varies per neuron",
                f"the same {varying.args[0]} for every neuron, or the weight in {native}")
    if not math.isfinite(factor):
        ck.fail(tuple(path) + ("weight",), f"{fmt(dist.expected())} mV of peak PSP",
                f"a target whose C_m, tau_m and tau_syn give a finite PSC per mV (population "
                f"{target.name}); give the weight in {native}")
    return scale_distribution(dist, factor)


def read_delay(ck: Checker, container: dict, path, dt: float, default=MISSING,
               constant_only: bool = False) -> Distribution:
    """A delay (ms) whose smallest possible value rounds to at least one step."""
    dist, _ = read_quantity(ck, container, "delay", path, unit="ms", default=default,
                            constant_only=constant_only)
    smallest = dist.support()[0]
    half = 0.5 * dt
    raw = container.get("delay")
    p = tuple(path) + ("delay",)
    if math.isfinite(smallest) and smallest > 0 and steps_nearest(smallest, dt) >= 1:
        longest, how = largest_delay(dist)
        check_longest_delay(ck, p + ("max",) if isinstance(raw, dict) and "max" in raw
                            else p, longest, dt, how)
        return dist
    need = f"min >= dt/2 = {fmt(half)} ms (delays round to whole steps of dt, at least one)"
    if not isinstance(raw, dict) or dist.kind == "constant":
        ck.fail(p, f"{fmt(smallest)} ms", f">= dt/2 = {fmt(half)} ms (delays round to whole "
                "steps of dt, at least one)")
    if "min" in raw:
        ck.fail(p + ("min",), f"{fmt(dist.min)} ms", f">= dt/2 = {fmt(half)} ms")
    if dist.kind == "uniform":
        ck.fail(p + ("low",), f"{fmt(dist.low)} ms", f">= dt/2 = {fmt(half)} ms, or a 'min' bound")
    ck.fail(p, f"a {dist.kind} delay without 'min' (it can come out below one step)", need)


def delay_steps(delay_ms: float, dt: float) -> float:
    """Steps of a delay as the build rounds it (timesteps.steps_nearest, NEST's delay
    rounding); inf stays inf."""
    return steps_nearest(delay_ms, dt) if math.isfinite(delay_ms) else math.inf


def largest_delay(dist: Distribution) -> tuple[float, str]:
    """(largest delay a draw can take in ms, how it was found) for the delay check."""
    high = dist.support()[1]
    if math.isfinite(high):
        return high, ""
    if dist.kind == "normal":
        return dist.mean + TAIL_SD * dist.std, f"mean + {TAIL_SD:g} sd = "
    exponent = dist.mu + TAIL_SD * dist.sigma
    return (math.exp(exponent) if exponent < 700 else math.inf), f"exp(mu + {TAIL_SD:g} sigma) = "


def check_longest_delay(ck: Checker, path, longest_ms: float, dt: float, how: str = "") -> None:
    """Refuse a delay that can round to more than MAX_DELAY_STEPS steps (the build would
    fail only after the output directory exists)."""
    steps = delay_steps(longest_ms, dt)
    if steps <= MAX_DELAY_STEPS:
        return
    shown = f"{fmt(steps)} steps" if math.isfinite(steps) else "no bound"
    ck.fail(path, f"largest delay {how}{fmt(longest_ms)} ms ({shown} of dt = {fmt(dt)} ms)",
            f"at most {MAX_DELAY_STEPS} steps = {fmt(MAX_DELAY_STEPS * dt)} ms (delays are "
            "stored as 16-bit step counts; give a 'max' bound or a larger dt)")


def check_poisson_rate(ck: Checker, path, rate_hz: float, dt: float, what: str) -> None:
    """Refuse a Poisson input whose mean events per step exceed the kernel's limit."""
    per_step = rate_hz * dt * 1e-3
    if per_step <= POISSON_MAX_MEAN_PER_STEP:
        return
    ck.fail(path, f"{what} {fmt(rate_hz)} Hz, {fmt(per_step)} events per step of "
            f"dt = {fmt(dt)} ms", f"at most {fmt(POISSON_MAX_MEAN_PER_STEP)} events per step "
            f"({fmt(POISSON_MAX_MEAN_PER_STEP / (dt * 1e-3))} Hz in all at this dt; the "
            "Poisson sampler's limit): use a smaller rate or in-degree with a larger weight")


def max_distance(a, b) -> float:
    """Largest distance (mm) between a point in Positions a's box and one in b's."""
    if a.edge_wrap:
        return math.sqrt(sum((0.5 * e) ** 2 for e in a.extent))
    return math.sqrt(sum((abs(ca - cb) + 0.5 * (ea + eb)) ** 2 for ca, cb, ea, eb in
                         zip(a.center, b.center, a.extent, b.extent)))


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
            per_pair = math.log(1.0 - 1.0 / pairs_full)
            if prob > 0 and per_pair == 0.0:
                ck.fail(rp + ("connection_probability",), fmt(prob), "a population product "
                        f"below 1e16 ({pairs_full:.3g} pairs); give total_number instead")
            k_full = 0.0 if prob == 0 else math.log(1.0 - prob) / per_pair
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
    if name == "fixed_outdegree":
        k = ck.number(rule, "outdegree", rp, integer=True, minimum=0)
        scaled = round_half_even(k * sc.indegree_scale)
        available = tgt.size - (1 if same and not autapses else 0)
        if scaled > 0 and (available < 1 or (not multapses and scaled > available)):
            ck.fail(rp + ("outdegree",), f"out-degree {scaled} (after scaling) onto {available} "
                    f"available targets in {tgt.name}",
                    f"<= {available} without multapses" if available else "a target population "
                    "that can be connected (allow_autapses?)")
        return {"outdegree": scaled}, k * src.size_full / tgt.size_full
    if name == "pairwise_bernoulli" and isinstance(rule.get("probability"), dict):
        return _spatial_counts(ck, rule, rp, src, tgt, sc)
    if "mask" in rule:
        ck.fail(rp + ("mask",), "a mask with a constant probability",
                "a distance-dependent probability {kernel: ...} between spatial populations")
    if name in EXPLICIT_RULES:
        return {}, 0.0
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


def _spatial_counts(ck: Checker, rule: dict, rp, src: PopInfo, tgt: PopInfo,
                    sc: Scaling) -> tuple[dict, float]:
    """A distance-dependent pairwise_bernoulli: kernel, optional mask (both in mm)."""
    pp = rp + ("probability",)
    for pop in (src, tgt):
        if pop.positions is None:
            ck.fail(pp, f"a distance-dependent probability but population {pop.name} has no "
                    "positions", f"'positions' on {src.name} and {tgt.name}")
    dims = src.positions.num_dimensions
    if tgt.positions.num_dimensions != dims:
        ck.fail(pp, f"{src.name} has {dims}-D positions, {tgt.name} "
                f"{tgt.positions.num_dimensions}-D", "populations of one dimensionality")
    if src.positions.edge_wrap and (src.positions.extent != tgt.positions.extent or
                                    src.positions.center != tgt.positions.center):
        ck.fail(pp, f"edge_wrap on {src.name} whose box differs from {tgt.name}'s",
                "periodic boundaries between populations of equal extent and center (NEST)")
    raw = rule["probability"]
    kind = ck.string(raw, "kernel", pp, choices=KERNEL_KEYS)
    ck.mapping(raw, pp, KERNEL_KEYS[kind], required=("kernel", "p_center"))
    p_center = ck.number(raw, "p_center", pp, minimum=0.0, maximum=1.0,
                         what="a probability in [0, 1]")
    width = {}
    for nest_name, alias in (("std", "sigma"), ("beta", "tau")):
        if nest_name not in KERNEL_KEYS[kind]:
            continue
        if (nest_name in raw) == (alias in raw):
            ck.fail(pp, "both" if nest_name in raw else "neither" + f" '{nest_name}' "
                    f"{'and' if nest_name in raw else 'nor'} '{alias}'",
                    f"exactly one of {nest_name} (NEST's name) or {alias} (mm)")
        key = nest_name if nest_name in raw else alias
        width[nest_name] = ck.number(raw, key, pp, unit="mm", above=0.0)
    scaled = p_center * sc.indegree_scale / sc.scale
    if scaled > 1.0:
        ck.fail(pp + ("p_center",), f"{fmt(p_center)} x indegree_scale / scale = {fmt(scaled)}",
                "<= 1 after scaling")
    kernel = DistanceKernel(kind=kind, p_center=scaled, **width)
    mask = None
    if "mask" in rule:
        mp = rp + ("mask",)
        m = rule["mask"]
        if not isinstance(m, dict) or len(m) != 1 or next(iter(m)) not in MASK_KEYS:
            ck.fail(mp, describe(m) if not isinstance(m, dict) else "keys " + ", ".join(map(str, m)),
                    "{circular: {radius: mm}} or {rectangular: {lower_left: [...], "
                    "upper_right: [...]}}")
        mkind = next(iter(m))
        body = ck.mapping(m[mkind], mp + (mkind,), MASK_KEYS[mkind], required=MASK_KEYS[mkind])
        if mkind == "circular":
            mask = Mask(kind=mkind, radius=ck.number(body, "radius", mp + (mkind,), unit="mm",
                                                     above=0.0))
        else:
            corners = [read_vector(ck, body, key, mp + (mkind,), dims) for key in MASK_KEYS[mkind]]
            if any(lo >= hi for lo, hi in zip(*corners)):
                ck.fail(mp + (mkind, "upper_right"), str(list(corners[1])),
                        f"each coordinate > lower_left {list(corners[0])}")
            mask = Mask(kind=mkind, lower_left=corners[0], upper_right=corners[1])
    # Full-scale mean in-degree for compensation: p_center x sources (an upper bound).
    return {"probability": scaled, "kernel": kernel, "mask": mask}, p_center * src.size_full


def read_vector(ck: Checker, container: dict, key: str, path, dims: int | None,
                unit: str = "mm", minimum: float | None = None) -> tuple:
    """A list of 2 or 3 numbers (or exactly `dims`)."""
    p = tuple(path) + (key,)
    raw = container.get(key)
    want = f"a list of {dims} numbers ({unit})" if dims else f"a list of 2 or 3 numbers ({unit})"
    if not isinstance(raw, list) or (len(raw) != dims if dims else len(raw) not in (2, 3)):
        ck.fail(p, describe(raw) if not isinstance(raw, list) else f"{len(raw)} numbers", want)
    return tuple(list_numbers(ck, raw, p, unit=unit, minimum=minimum))


def list_numbers(ck: Checker, raw: list, path, **checks) -> list:
    """Every item of a list read as a number (expressions allowed), checked alike."""
    items = dict(enumerate(raw))
    values = [ck.number(items, j, path, **checks) for j in range(len(raw))]
    raw[:] = values
    return values


def read_distance_delay(ck: Checker, syn: dict, sp, dt: float, src: PopInfo, tgt: PopInfo
                        ) -> DistanceDelay:
    """delay: {distance_dependent: {offset: ms, velocity: mm/ms | slope: ms/mm}}."""
    p = tuple(sp) + ("delay", "distance_dependent")
    if src.positions is None or tgt.positions is None:
        ck.fail(p, "a distance-dependent delay between populations without positions",
                f"'positions' on {src.name} and {tgt.name}")
    body = ck.mapping(syn["delay"]["distance_dependent"], p, ("offset", "velocity", "slope"),
                      required=("offset",))
    half = 0.5 * dt
    offset = ck.number(body, "offset", p, unit="ms", minimum=half,
                       what=f">= dt/2 = {fmt(half)} ms (delays round to whole steps, at least one)")
    if ("velocity" in body) == ("slope" in body):
        ck.fail(p, "both 'velocity' and 'slope'" if "velocity" in body else
                "neither 'velocity' nor 'slope'", "exactly one: velocity (mm/ms) or slope (ms/mm)")
    if "velocity" in body:
        slope = 1.0 / ck.number(body, "velocity", p, unit="mm/ms", above=0.0)
    else:
        slope = ck.number(body, "slope", p, unit="ms/mm", minimum=0.0)
    longest = offset + slope * max_distance(src.positions, tgt.positions)
    check_longest_delay(ck, p, longest, dt, "offset + slope x the largest distance = ")
    return DistanceDelay(offset=offset, slope=slope)


def resolve_path(ck: Checker, raw: str, path) -> str:
    """A file named in the document: relative paths are relative to the file that wrote
    them (the current directory for --set)."""
    if os.path.isabs(raw):
        return raw
    label, _ = ck.sources.locate(path)
    base = os.path.dirname(os.path.abspath(label)) if os.path.isfile(label) else os.getcwd()
    return os.path.normpath(os.path.join(base, raw))


def read_sonata_rule(ck: Checker, rule: dict, rp, src: PopInfo, tgt: PopInfo, dt: float
                     ) -> tuple[SonataEdges, tuple[float, float]]:
    """Check a SONATA edges file now (every rank alike), so a bad file fails at load.
    Returns the edges and the range of the file's weights."""
    from brainsim.io.sonata_edges import EdgesFileError, inspect_edges
    for key in ("edges_file", "edge_population"):
        ck.string(rule, key, rp)
    paths = {}
    for key in ("edges_file", "nodes_file"):
        if key in rule:
            raw = ck.string(rule, key, rp)
            paths[key] = resolve_path(ck, raw, rp + (key,))
    try:
        info = inspect_edges(paths["edges_file"], rule["edge_population"],
                             nodes_file=paths.get("nodes_file"),
                             source_size=src.size, target_size=tgt.size,
                             min_delay=0.5 * dt, source_name=src.name, target_name=tgt.name)
    except EdgesFileError as err:
        ck.fail(rp + (err.key,), err.found, err.expected)
    if info.num_edges:
        check_longest_delay(ck, rp + ("edges_file",), info.delay_max, dt,
                            "in the edges file: ")
    return SonataEdges(edges_file=paths["edges_file"], population=rule["edge_population"],
                       nodes_file=paths.get("nodes_file", ""), num_edges=info.num_edges,
                       file_digest=info.digest, delay_min=info.delay_min,
                       delay_max=info.delay_max), (info.weight_min, info.weight_max)


def check_file_weights(ck: Checker, path, edges_file: str, weights: tuple[float, float],
                       synapse_model: str, synapse_params: tuple) -> None:
    """The weight rules of the synapse model (stdp_pl_synapse_hom w >= 0, stdp_synapse the
    sign of Wmax) over every syn_weight of a SONATA edges file (pA or mV)."""
    low, high = weights
    params = dict(synapse_params)
    for rule in SYNAPSE_CATALOGUE[synapse_model].weight_rules:
        for found, expected in rule.of_file(params, low, high, edges_file):
            ck.fail(path, found, expected)


def read_from_list(ck: Checker, proj: dict, p, src: PopInfo, tgt: PopInfo, dt: float,
                   sc: Scaling, ring_channels: int) -> Projection:
    """A from_list projection (spec/connection_list.py): its listed synapses checked, the
    `synapse` block giving model, params, receptor, and the weight / delay of a list
    without those columns."""
    from .connection_list import (check_connections, connection_list, read_columns,
                                  standalone_document)
    rp, sp = p + ("rule",), p + ("synapse",)
    if sc.scale != 1.0 or sc.indegree_scale != 1.0:
        ck.fail(rp + ("name",), f"from_list in a model scaled by scale {fmt(sc.scale)}, "
                f"indegree_scale {fmt(sc.indegree_scale)}", "scale: 1 and indegree_scale: 1 "
                "(an explicit connection list does not scale)")
    sources, targets, weights, delays, paths, file = read_columns(ck, proj["rule"], rp,
                                                                  resolve_path)
    syn = ck.mapping(proj.get("synapse") or {}, sp, SYNAPSE_KEYS)
    synapse_model = ck.string(syn, "model", sp, default="static_synapse",
                              choices=SYNAPSE_MODELS)
    receptor = read_receptor(ck, syn, sp, tgt)
    check_plastic_target(ck, sp + ("model",), synapse_model, tgt, ring_channels)
    synapse_params = read_synapse_params(ck, syn, sp, synapse_model, tgt)
    for key, listed in (("weight", weights), ("delay", delays)):
        if listed is not None and key in syn:
            ck.fail(sp + (key,), f"synapse.{key} with {key}s in the connection list",
                    f"the listed {key}s alone (synapse.{key} serves lists of [i, j] only)")
    n = sources.shape[0]
    if weights is None:
        if "weight" not in syn:
            ck.fail(sp, "no weights in the connection list and no synapse.weight",
                    "[i, j, weight, delay] rows, or synapse.weight for [i, j] rows")
        weights = np.full(n, read_weight(ck, syn, sp, tgt, constant_only=True,
                                         receptor=receptor).value)
        paths[2] = sp + ("weight",)
    if delays is None:
        delays = np.full(n, read_delay(ck, syn, sp, dt, default=NEST_DEFAULT_DELAY,
                                       constant_only=True).value)
        paths[3] = sp + ("delay",)
    columns = (sources, targets, weights, delays, paths)
    sources, targets = check_connections(ck, columns, src, tgt, dt, check_longest_delay)
    for r in ((int(np.argmin(weights)), int(np.argmax(weights))) if n else ()):
        wp = paths[2](r) if callable(paths[2]) else paths[2]
        check_constant_weight(ck, wp, float(weights[r]), synapse_model, synapse_params)
    lists = connection_list(sources, targets, weights, delays, file)
    standalone_document(proj["rule"], lists)
    return Projection(index=p[1], source=src.index, target=tgt.index, rule="from_list",
                      weight=Distribution(kind="constant"),
                      delay=Distribution(kind="constant", value=lists.delay_min if n else dt),
                      synapse_model=synapse_model, synapse_params=synapse_params,
                      receptor=receptor, from_list=lists)


def read_projections(ck: Checker, top: dict, pops: dict, dt: float, sc: Scaling
                     ) -> tuple[list, list]:
    """(Projections, compensation terms) in declaration order."""
    projections, terms = [], []
    names = list(pops)
    ring_channels = network_ring_channels(pops)
    for i, raw in enumerate(ck.list_of(top, "projections", ())):
        p = ("projections", i)
        proj = ck.mapping(raw, p, PROJECTION_KEYS, required=("source", "target", "rule"))
        if "synapse" not in proj and not (isinstance(proj["rule"], dict) and
                                          proj["rule"].get("name") in EXPLICIT_RULES):
            ck.fail(p, "missing key 'synapse'", "'synapse' to be given")
        src = pops[ck.name_in(proj, "source", p, names)]
        tgt = pops[ck.name_in(proj, "target", p, names)]
        rp = p + ("rule",)
        if isinstance(proj["rule"], str):
            proj["rule"] = {"name": proj["rule"]}
        rule = proj["rule"]
        if not isinstance(rule, dict):
            ck.fail(rp, describe(rule), "a rule name or a mapping with 'name'")
        name = ck.string(rule, "name", rp, choices=RULES)
        flags = RULE_FLAG_SET.get(name, RULE_FLAGS)
        ck.mapping(rule, rp, ("name", *RULES[name], *flags),
                   required=("edges_file", "edge_population") if name == "sonata" else ())
        autapses = ck.boolean(rule, "allow_autapses", rp, default=True)
        multapses = ck.boolean(rule, "allow_multapses", rp, default=True)
        numbers, indegree_full = _counts(ck, rule, rp, name, src, tgt, sc, autapses, multapses)

        sp = p + ("synapse",)
        if name == "from_list":
            projections.append(read_from_list(ck, proj, p, src, tgt, dt, sc, ring_channels))
            continue
        if name == "sonata":
            numbers["sonata"], weights = read_sonata_rule(ck, rule, rp, src, tgt, dt)
            syn = ck.mapping(proj.get("synapse") or {}, sp, ("model", "params", "receptor"))
            synapse_model = ck.string(syn, "model", sp, default="static_synapse",
                                      choices=SYNAPSE_MODELS)
            receptor = read_receptor(ck, syn, sp, tgt)
            check_plastic_target(ck, sp + ("model",), synapse_model, tgt, ring_channels)
            synapse_params = read_synapse_params(ck, syn, sp, synapse_model, tgt)
            if numbers["sonata"].num_edges:
                check_file_weights(ck, rp + ("edges_file",), numbers["sonata"].edges_file,
                                   weights, synapse_model, synapse_params)
            projections.append(Projection(
                index=i, source=src.index, target=tgt.index, rule=name,
                weight=Distribution(kind="constant"), delay=Distribution(kind="constant",
                                                                         value=dt),
                synapse_model=synapse_model, synapse_params=synapse_params,
                receptor=receptor, **numbers))
            continue
        syn = ck.mapping(proj["synapse"], sp, SYNAPSE_KEYS, required=("weight",))
        synapse_model = ck.string(syn, "model", sp, default="static_synapse",
                                  choices=SYNAPSE_MODELS)
        receptor = read_receptor(ck, syn, sp, tgt)
        check_plastic_target(ck, sp + ("model",), synapse_model, tgt, ring_channels)
        synapse_params = read_synapse_params(ck, syn, sp, synapse_model, tgt)
        weight_full = read_weight(ck, syn, sp, tgt, receptor=receptor)
        w_dist = sc.weight(weight_full)
        if w_dist.kind == "constant":
            check_constant_weight(ck, sp + ("weight",), w_dist.value, synapse_model,
                                  synapse_params)
        if isinstance(syn.get("delay"), dict) and "distance_dependent" in syn["delay"]:
            if len(syn["delay"]) != 1:
                ck.fail(sp + ("delay",), "distance_dependent with other keys",
                        "{distance_dependent: {offset, velocity | slope}} alone")
            if name not in ("pairwise_bernoulli", "all_to_all"):
                ck.fail(sp + ("delay",), f"a distance-dependent delay with rule {name}",
                        "rule pairwise_bernoulli or all_to_all")
            numbers["distance_delay"] = read_distance_delay(ck, syn, sp, dt, src, tgt)
            delay = Distribution(kind="constant", value=numbers["distance_delay"].offset)
        else:
            delay = read_delay(ck, syn, sp, dt, default=NEST_DEFAULT_DELAY)
        mean = weight_full.expected()
        terms.append(CompensationTerm(
            target=tgt.index, source=src.name, indegree_full=indegree_full,
            charge=mean * _charge_per_unit_weight(tgt, mean, receptor)))
        projections.append(Projection(
            index=i, source=src.index, target=tgt.index, rule=name,
            weight=sc.weight(weight_full), delay=delay, allow_autapses=autapses,
            allow_multapses=multapses, synapse_model=synapse_model,
            synapse_params=synapse_params, receptor=receptor, **numbers))
    return projections, terms


def _window(ck: Checker, item: dict, p, dt: float) -> tuple[float, float]:
    """A device's (start, stop) in ms: on the grid of dt, as NEST requires of device times."""
    start = ck.number(item, "start", p, default=0.0, unit="ms", minimum=0.0)
    stop = ck.number(item, "stop", p, default=math.inf, unit="ms", allow_inf=True,
                     minimum=start)
    for key, value in (("start", start), ("stop", stop)):
        if math.isfinite(value) and not is_on_grid(value, dt):
            ck.fail(p + (key,), f"{fmt(value)} ms is not a multiple of dt = {fmt(dt)} ms",
                    "a time on the simulation grid (NEST refuses device times off it)")
    return start, stop


def _on_grid(ck: Checker, times: np.ndarray, path, dt: float) -> np.ndarray:
    """Spike times (ms) checked: finite, > 0, whole multiples of dt (NEST without
    allow_offgrid_times)."""
    if times.size == 0:
        return times
    bad = ~np.isfinite(times) | (times <= 0)
    if bad.any():
        ck.fail(path, f"spike time {fmt(float(times[bad][0]))} ms",
                "finite times > 0 ms (a spike at 0 would be sent before the first step)")
    off = off_grid_mask(times, dt)      # NEST: the time in tics, a multiple of a step's
    if off.any():
        ck.fail(path, f"spike time {fmt(float(times[off][0]))} ms is not a multiple of "
                f"dt = {fmt(dt)} ms", "times on the simulation grid (NEST spike_generator)")
    return times


def _read_times_file(ck: Checker, item: dict, p, target: PopInfo) -> tuple:
    """(times, node_ids or None) from a .npy / text / HDF5 (SONATA spikes) file."""
    fp = p + ("file",)
    path = resolve_path(ck, ck.string(item, "file", p), fp)
    expected = ("a .npy or text file of times (ms; two columns: node_id, time) or a SONATA "
                "spike file (.h5)")
    if not os.path.isfile(path):
        ck.fail(fp, f"{path}: no such file", expected)
    try:
        if path.endswith((".h5", ".hdf5")):
            import h5py
            with h5py.File(path, "r") as f:
                spikes = f["spikes"]
                name = target.name if target.name in spikes else \
                    (next(iter(spikes)) if len(spikes) == 1 else None)
                if name is None:
                    ck.fail(fp, f"{path}: no spike population '{target.name}' among "
                            + ", ".join(spikes), "the target population's name")
                return (np.asarray(spikes[name]["timestamps"][()], dtype=np.float64),
                        np.asarray(spikes[name]["node_ids"][()], dtype=np.int64))
        data = np.load(path) if path.endswith(".npy") else np.loadtxt(path, ndmin=1)
    except (OSError, KeyError, ValueError) as err:
        ck.fail(fp, f"{path}: unreadable ({type(err).__name__}: {str(err).splitlines()[0]})",
                expected)
    data = np.asarray(data, dtype=np.float64)
    if data.ndim == 1:
        return data, None
    if data.ndim == 2 and data.shape[1] == 2:
        ids = data[:, 0]
        if np.any(ids != np.round(ids)):
            ck.fail(fp, f"{path}: non-integer node ids in column 1", "integer node ids")
        return data[:, 1], ids.astype(np.int64)
    ck.fail(fp, f"{path}: an array of shape {data.shape}", expected)


def read_spike_generator(ck: Checker, item: dict, p, tgt: PopInfo, dt: float,
                         index: int) -> SpikeGeneratorInput:
    ck.mapping(item, p, SPIKE_GENERATOR_KEYS, required=("target", "weight"))
    given = [k for k in ("spike_times", "file", "per_neuron") if k in item]
    if len(given) != 1:
        ck.fail(p, "both " + " and ".join(given) if given else "no spike times",
                "exactly one of spike_times, file, per_neuron")
    node_ids = None
    if "spike_times" in item:
        raw = ck.list_of(item, "spike_times", p)
        times = np.array(list_numbers(ck, raw, p + ("spike_times",), unit="ms"),
                         dtype=np.float64)
        tp = p + ("spike_times",)
    elif "file" in item:
        times, node_ids = _read_times_file(ck, item, p, tgt)
        tp = p + ("file",)
    else:
        pp = p + ("per_neuron",)
        body = ck.mapping(item["per_neuron"], pp, ("node_ids", "times"),
                          required=("node_ids", "times"))
        ids, raw = ck.list_of(body, "node_ids", pp), ck.list_of(body, "times", pp)
        if len(ids) != len(raw):
            ck.fail(pp, f"{len(ids)} node_ids and {len(raw)} times",
                    "one node id per spike time")
        node_ids = np.array(list_numbers(ck, ids, pp + ("node_ids",), integer=True),
                            dtype=np.int64)
        times = np.array(list_numbers(ck, raw, pp + ("times",), unit="ms"), dtype=np.float64)
        tp = pp + ("times",)
    times = _on_grid(ck, times, tp, dt)
    if item.get("node_ids") is not None:     # every time to each neuron of the subset
        if node_ids is not None:
            ck.fail(p + ("node_ids",), "node_ids with " + given[0],
                    "node_ids with spike_times (per_neuron and file name their neurons)")
        subset = np.array(read_node_ids(ck, item, p, tgt), dtype=np.int64)
        node_ids = np.repeat(subset, times.size)
        times = np.tile(times, subset.size)
    if node_ids is not None and node_ids.size and (node_ids.min() < 0 or
                                                   node_ids.max() >= tgt.size):
        bad = int(node_ids.min() if node_ids.min() < 0 else node_ids.max())
        ck.fail(tp if "file" in item else p + ("per_neuron", "node_ids"),
                f"node id {bad}", f"population-local ids in [0, {tgt.size}) of {tgt.name}")
    receptor = read_receptor(ck, item, p, tgt)
    weight = read_weight(ck, item, p, tgt, constant_only=True, receptor=receptor).value
    delay = read_delay(ck, item, p, dt, default=NEST_DEFAULT_DELAY, constant_only=True).value
    return SpikeGeneratorInput(
        index=index, target=tgt.index, times=tuple(float(t) for t in times), weight=weight,
        delay=delay, node_ids=() if node_ids is None else tuple(int(n) for n in node_ids),
        receptor=receptor)


def read_noise(ck: Checker, item: dict, p, tgt: PopInfo, dt: float, index: int) -> NoiseInput:
    ck.mapping(item, p, NOISE_KEYS, required=("target",))
    mean = ck.number(item, "mean", p, default=0.0, unit="pA")
    std = ck.number(item, "std", p, default=0.0, unit="pA", minimum=0.0)
    interval = ck.number(item, "dt", p, default=NEST_NOISE_DT, unit="ms", above=0.0)
    if not is_whole_steps(interval, dt):
        ck.fail(p + ("dt",), f"{fmt(interval)} ms", f"a whole multiple of the resolution "
                f"dt = {fmt(dt)} ms (NEST noise_generator)")
    start, stop = _window(ck, item, p, dt)
    delay = read_delay(ck, item, p, dt, default=NEST_DEFAULT_DELAY, constant_only=True).value
    return NoiseInput(index=index, target=tgt.index, mean=mean, std=std, dt=interval,
                      start=start, stop=stop, delay=delay,
                      node_ids=read_node_ids(ck, item, p, tgt))


def read_inputs(ck: Checker, top: dict, pops: dict, dt: float, sc: Scaling
                ) -> tuple[list, list, list, list, list, list, list]:
    """(PoissonInputs, DCInputs, compensation terms, SpikeGeneratorInputs, NoiseInputs,
    StepCurrentInputs, ACInputs) in declaration order."""
    poisson, dcs, terms, spike_generators, noises = [], [], [], [], []
    steps, acs = [], []
    names = list(pops)
    for i, item in enumerate(ck.list_of(top, "inputs", ())):
        p = ("inputs", i)
        if not isinstance(item, dict):
            ck.mapping(item, p, ())
        kind = ck.string(item, "type", p, choices=INPUT_TYPES)
        if kind in ("spike_generator", "noise_generator"):
            tgt = pops[ck.name_in(item, "target", p, names)]
            if kind == "spike_generator":
                spike_generators.append(read_spike_generator(ck, item, p, tgt, dt,
                                                             len(spike_generators)))
            else:
                noises.append(read_noise(ck, item, p, tgt, dt, len(noises)))
            continue
        if kind in ("step_current", "ac"):
            tgt = pops[ck.name_in(item, "target", p, names)]
            if kind == "step_current":
                steps.append(read_step_current(ck, item, p, tgt, dt, len(steps), _window,
                                               _device_delay))
            else:
                acs.append(read_ac(ck, item, p, tgt, dt, len(acs), _window, _device_delay))
            continue
        if kind == "dc":
            ck.mapping(item, p, DC_KEYS, required=("target", "amplitude"))
            tgt = pops[ck.name_in(item, "target", p, names)]
            amplitude = ck.number(item, "amplitude", p, unit="pA")
            start, stop = _window(ck, item, p, dt)
            delay = read_delay(ck, item, p, dt, default=NEST_DEFAULT_DELAY,
                               constant_only=True).value
            dcs.append(DCInput(index=len(dcs), target=tgt.index, amplitude=amplitude,
                               start=start, stop=stop, delay=delay,
                               node_ids=read_node_ids(ck, item, p, tgt)))
            continue
        ck.mapping(item, p, POISSON_KEYS, required=("target", "rate", "weight"))
        tgt = pops[ck.name_in(item, "target", p, names)]
        rate = ck.number(item, "rate", p, unit="Hz", minimum=0.0)
        receptor = read_receptor(ck, item, p, tgt)
        weight_full = read_weight(ck, item, p, tgt, constant_only=True,
                                  receptor=receptor).value
        delay = read_delay(ck, item, p, dt, default=NEST_DEFAULT_DELAY, constant_only=True).value
        start, stop = _window(ck, item, p, dt)
        weight = weight_full
        if "indegree" in item and item.get("node_ids") is not None:
            ck.fail(p + ("node_ids",), "node_ids with indegree", "either (an indegree's DC "
                    "compensation is per population)")
        if "indegree" in item:
            indegree = ck.number(item, "indegree", p, integer=True, minimum=0)
            total_rate = rate * round_half_even(indegree * sc.indegree_scale)
            weight = sc.weight(Distribution(kind="constant", value=weight_full)).value
            terms.append(CompensationTerm(
                target=tgt.index, indegree_full=float(indegree), rate_hz=rate,
                charge=weight_full * _charge_per_unit_weight(tgt, weight_full, receptor)))
        else:
            total_rate = rate
        check_poisson_rate(ck, p + ("rate",), total_rate, dt, "rate x in-degree ="
                           if "indegree" in item else "rate")
        poisson.append(PoissonInput(index=len(poisson), target=tgt.index, rate=total_rate,
                                    weight=weight, delay=delay, start=start, stop=stop,
                                    receptor=receptor,
                                    node_ids=read_node_ids(ck, item, p, tgt)))
    return poisson, dcs, terms, spike_generators, noises, steps, acs


def _device_delay(ck: Checker, item: dict, p, dt: float) -> float:
    return read_delay(ck, item, p, dt, default=NEST_DEFAULT_DELAY, constant_only=True).value


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
