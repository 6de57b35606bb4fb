"""Validate the merged document and derive the ResolvedModel (docs/model-format.md)."""
from __future__ import annotations

import json
import keyword
import math
from dataclasses import asdict

import numpy as np

from .checker import IDENTIFIER, Checker, describe, fmt
from .connections import (PopInfo, Scaling, compensating_currents, read_inputs,
                          list_numbers, read_projections, read_vector, round_half_even)
from .connection_list import projection_payload
from .errors import Sources
from .expressions import FUNCTIONS, suggest
from .model import Population, Positions, ResolvedModel, Simulation
from .neuron_params import is_per_neuron, read_params
from .neuron_models import DeclarationError, neuron_models
from .own_models import read_own_models
from .quantities import read_quantity
from .recording import read_recording
from ..timesteps import is_on_grid, is_resolution, steps_rounded_up
from .run_settings import read_run
from .yaml_loader import unshare

MAX_REFRACTORY_STEPS = 2 ** 31 - 2   # int32 counters; aeif_cond_exp adds 1

TOP_KEYS = ("name", "description", "parameters", "scale", "scaling", "simulation",
            "neuron_models", "populations", "projections", "inputs", "recording", "output",
            "run")
SIMULATION_KEYS = ("dt", "t_sim", "seed", "warmup")
SCALING_KEYS = ("indegree_scale", "compensation", "full_scale_rates")
COMPENSATIONS = ("none", "sqrt")
POPULATION_KEYS = ("name", "size", "model", "params", "initial", "positions")
POSITION_KINDS = {"grid": ("shape", "extent", "center", "edge_wrap"),
                  "random": ("extent", "center", "edge_wrap")}
OUTPUT_KEYS = ("directory",)
DEFAULT_SEED = 12345
MAX_POPULATIONS = 32767       # int16 population index per neuron (network/build.py)
MAX_NEURONS = 2 ** 32 - 1     # uint32 synapse targets and gids (network/build.py)
HASH_FORMAT = "brainsim-resolved-model/1"


def resolve(doc, sources: Sources, source_path: str, own_models=()) -> ResolvedModel:
    """The ResolvedModel of a merged document (SpecError on the first problem).

    own_models: the model file's own neuron model declarations (NeuronModel, e.g. built
    from equations), usable by `model:` next to the built-ins."""
    ck = Checker(sources)
    top = ck.mapping(doc, (), TOP_KEYS, required=("name", "simulation", "populations"),
                     what="a mapping (the model document)")
    name = ck.string(top, "name", (), identifier=True)
    if "description" in top:
        ck.string(top, "description", ())
    read_parameters(ck, top)
    simulation = read_simulation(ck, top)
    scaling, compensation, raw_rates = read_scaling(ck, top)
    own = read_own_models(ck, top, source_path)
    try:
        models = neuron_models((*own_models, *(m.declaration for m in own.values())))
    except DeclarationError as err:
        ck.fail(("neuron_models",), str(err))
    pops = read_populations(ck, top, scaling.scale, simulation.dt, models, simulation.seed)
    rates = read_rates(ck, raw_rates, pops)
    projections, terms = read_projections(ck, top, pops, simulation.dt, scaling)
    poisson, dcs, input_terms, spike_generators, noises, steps, acs = read_inputs(
        ck, top, pops, simulation.dt, scaling)
    if scaling.compensate:
        terms += input_terms
        check_charges_known(ck, terms, pops)
        missing = sorted({t.source for t in terms if t.source is not None} - set(rates),
                         key=list(pops).index)
        if missing:
            ck.fail(("scaling", "full_scale_rates"), "no rate for " + ", ".join(missing),
                    "a full-scale rate (Hz) for every source population when compensation "
                    f"is sqrt and indegree_scale = {fmt(scaling.indegree_scale)} < 1")
        for pop, dc in zip(pops.values(), compensating_currents(
                terms, rates, len(pops), scaling.indegree_scale)):
            pop.params["I_e"] = pop.params["I_e"] + dc
    recording = read_recording(ck, top, pops, simulation.dt, simulation.seed)
    output_dir = read_output(ck, top)
    read_run(ck, top)

    populations = tuple(Population(index=p.index, name=p.name, model=p.model.name,
                                   size=p.size, offset=p.offset, params=dict(p.params),
                                   initial=dict(p.initial), positions=p.positions)
                        for p in pops.values())
    fields = dict(name=name, source=source_path, scale=scaling.scale,
                  indegree_scale=scaling.indegree_scale, populations=populations,
                  projections=tuple(projections), poisson_inputs=tuple(poisson),
                  dc_inputs=tuple(dcs), simulation=simulation, recording=recording,
                  output_dir=output_dir, spike_generators=tuple(spike_generators),
                  noise_inputs=tuple(noises), step_currents=tuple(steps),
                  ac_inputs=tuple(acs))
    used = {p.model.name: p.model for p in pops.values()}
    fields_hashed = dict(fields, own_models={name: own[name].definition
                                             for name in used if name in own})
    return ResolvedModel(model_hash=model_hash(fields_hashed),
                         document=unshare(top, source_path),
                         neuron_models=used, **fields)


def check_charges_known(ck: Checker, terms, pops: dict) -> None:
    """DC compensation needs the charge each input delivers; an equation model whose
    receptor's charge is unknown (a conductance without E_L) cannot be compensated."""
    by_index = {p.index: p for p in pops.values()}
    for term in terms:
        if math.isnan(term.charge):
            target = by_index[term.target]
            if is_per_neuron(target.params):
                ck.fail(("scaling", "compensation"), f"sqrt compensation onto population "
                        f"'{target.name}', whose parameters vary per neuron", "the same "
                        "C_m, tau_m and tau_syn for every neuron of it, or compensation: none")
            ck.fail(("scaling", "compensation"), f"sqrt compensation onto population "
                    f"'{target.name}' ({target.model.name})", "a model whose receptors' "
                    "charge is known (conductance receptors need an E_L parameter) or "
                    "compensation: none")


def read_parameters(ck: Checker, top: dict) -> None:
    """Evaluate `parameters` in order into ck.names (each may use the earlier ones)."""
    params = top.get("parameters")
    if params is None:
        return
    ck.mapping(params, ("parameters",), list(params) if isinstance(params, dict) else [],
               what="a mapping of name: number or expression")
    for key in list(params):
        if not IDENTIFIER.match(key) or keyword.iskeyword(key) or key in FUNCTIONS:
            ck.fail(("parameters", key), f"parameter name '{key}'",
                    "an identifier that is neither a Python keyword nor a function name")
        ck.names[key] = ck.number(params, key, ("parameters",))


def read_simulation(ck: Checker, top: dict) -> Simulation:
    p = ("simulation",)
    sim = ck.mapping(top["simulation"], p, SIMULATION_KEYS, required=("t_sim",))
    dt = ck.number(sim, "dt", p, default=0.1, unit="ms", above=0.0)
    if not is_resolution(dt):
        ck.fail(p + ("dt",), f"{fmt(dt)} ms", "a whole number of microseconds, at least "
                "0.001 ms (NEST's resolution is a whole number of tics of 1 µs)")
    t_sim = ck.number(sim, "t_sim", p, unit="ms", above=0.0)
    steps = t_sim / dt
    if steps >= 2.0 ** 53:   # int64 step counter, and exact step <-> ms conversion
        ck.fail(p + ("t_sim",), f"{fmt(t_sim)} ms is {fmt(steps)} steps of dt = {fmt(dt)} ms",
                "fewer than 2**53 steps")
    if not is_on_grid(t_sim, dt):
        ck.fail(p + ("t_sim",), f"{fmt(t_sim)} ms is {fmt(steps)} steps of dt = {fmt(dt)} ms",
                "a whole multiple of dt")
    seed = ck.number(sim, "seed", p, default=DEFAULT_SEED, integer=True,
                     what="an integer in [0, 2**64)")
    if not 0 <= seed < 2 ** 64:
        ck.fail(p + ("seed",), str(seed), "an integer in [0, 2**64)")
    # A warm-up not shorter than the run is allowed: the rate table then covers the whole run.
    warmup = ck.number(sim, "warmup", p, default=0.0, unit="ms", minimum=0.0)
    return Simulation(dt=dt, t_sim=t_sim, seed=seed, warmup=warmup)


def read_scaling(ck: Checker, top: dict) -> tuple[Scaling, str, dict | None]:
    scale = ck.number(top, "scale", (), default=1.0, above=0.0)
    p = ("scaling",)
    raw = top.get("scaling")
    raw = {} if raw is None else raw
    ck.mapping(raw, p, SCALING_KEYS)
    k = ck.number(raw, "indegree_scale", p, default=scale, above=0.0, nullable=True)
    compensation = ck.string(raw, "compensation", p, default="none", choices=COMPENSATIONS)
    rates = raw.get("full_scale_rates")
    compensate = compensation == "sqrt" and k < 1.0
    if compensate and rates is None:
        ck.fail(p, "compensation: sqrt with indegree_scale = "
                f"{fmt(k)} < 1 but no full_scale_rates",
                "full_scale_rates: {population: rate in Hz at full scale}")
    return Scaling(scale=scale, indegree_scale=k, compensate=compensate), compensation, rates


def read_rates(ck: Checker, raw, pops: dict) -> dict:
    if raw is None:
        return {}
    p = ("scaling", "full_scale_rates")
    if not isinstance(raw, dict):
        ck.fail(p, describe(raw), "a mapping {population: rate in Hz}")
    for key in raw:
        if key not in pops:
            ck.fail(p + (key,), f"unknown population '{key}'{suggest(key, pops)}",
                    "one of " + ", ".join(pops))
    return {key: ck.number(raw, key, p, unit="Hz", minimum=0.0) for key in list(raw)}


def read_populations(ck: Checker, top: dict, scale: float, dt: float,
                     models, seed: int) -> dict[str, PopInfo]:
    """models: name -> NeuronModel declaration, the names `model:` may use; seed: the
    master seed, for parameters drawn per neuron (spec/neuron_params.py)."""
    pops: dict[str, PopInfo] = {}
    items = ck.list_of(top, "populations", ())
    if not items:
        ck.fail(("populations",), "an empty list", "at least one population")
    if len(items) > MAX_POPULATIONS:
        ck.fail(("populations", MAX_POPULATIONS), f"{len(items):,} populations",
                f"at most {MAX_POPULATIONS:,} (population indices are 16-bit)")
    offset = 0
    for i, raw in enumerate(items):
        p = ("populations", i)
        m = ck.mapping(raw, p, POPULATION_KEYS, required=("name", "size", "model"))
        name = ck.string(m, "name", p, identifier=True)
        if name in pops:
            ck.fail(p + ("name",), f"'{name}' again (also populations[{pops[name].index}])",
                    "unique population names")
        size_full = ck.number(m, "size", p, integer=True, above=0, what="an integer > 0")
        size = max(1, round_half_even(size_full * scale))
        model = models[ck.string(m, "model", p, choices=models)]
        params = read_params(ck, m, p, model, size, offset, seed)
        check_refractory_steps(ck, p, params, dt)
        initial = read_initial(ck, m, p, model, params)
        positions = read_positions(ck, m, p, size) if m.get("positions") is not None else None
        pops[name] = PopInfo(index=i, name=name, model=model, size_full=size_full, size=size,
                             offset=offset, params=params, initial=initial,
                             positions=positions)
        offset += size
        if offset > MAX_NEURONS:
            ck.fail(p + ("size",), f"{offset:,} neurons in populations[0..{i}] (after "
                    "scaling)", f"at most {MAX_NEURONS:,} neurons in all (gids are 32-bit)")
    return pops


def read_positions(ck: Checker, m: dict, p: tuple, size: int) -> Positions:
    """positions: {grid: {shape, extent, center, edge_wrap}} or {random: {extent, center,
    edge_wrap}} (mm); a grid needs size (after scaling) = product of its shape."""
    pp = p + ("positions",)
    raw = m["positions"]
    if not isinstance(raw, dict) or len(raw) != 1 or next(iter(raw)) not in POSITION_KINDS:
        ck.fail(pp, describe(raw) if not isinstance(raw, dict) else
                "keys " + ", ".join(map(str, raw)), "{grid: {shape: [nx, ny], ...}} or "
                "{random: {extent: [...], ...}}")
    kind = next(iter(raw))
    kp = pp + (kind,)
    body = ck.mapping(raw[kind], kp, POSITION_KINDS[kind],
                      required=("shape",) if kind == "grid" else ("extent",))
    shape = ()
    if kind == "grid":
        shape_raw = body["shape"]
        if not isinstance(shape_raw, list) or len(shape_raw) not in (2, 3):
            ck.fail(kp + ("shape",), describe(shape_raw), "a list of 2 or 3 integers > 0")
        shape = tuple(list_numbers(ck, shape_raw, kp + ("shape",), integer=True, above=0))
        if math.prod(shape) != size:
            ck.fail(kp + ("shape",), f"{' x '.join(map(str, shape))} = {math.prod(shape)} "
                    f"grid points for {size} neurons (after scaling)",
                    "one grid point per neuron")
    dims = len(shape) if shape else None
    extent = (read_vector(ck, body, "extent", kp, dims) if "extent" in body
              else tuple(float(n) for n in shape))   # NEST: grid spacing 1 by default
    if any(e <= 0 for e in extent):
        ck.fail(kp + ("extent",), str(list(extent)), "every extent > 0 mm")
    center = (read_vector(ck, body, "center", kp, len(extent)) if "center" in body
              else (0.0,) * len(extent))
    wrap = ck.boolean(body, "edge_wrap", kp, default=False)
    return Positions(kind=kind, extent=extent, center=center, shape=shape, edge_wrap=wrap)


def check_refractory_steps(ck: Checker, p: tuple, params: dict, dt: float) -> None:
    """Refuse a t_ref whose steps (rounded up, as NEST) overflow the kernels' int32
    refractory counters (NEST's counters are wider; no model needs ~6.8 years)."""
    t_ref = params.get("t_ref")
    if isinstance(t_ref, np.ndarray):   # per neuron: the longest
        t_ref = float(np.max(t_ref))
    if t_ref is not None and steps_rounded_up(t_ref, dt) > MAX_REFRACTORY_STEPS:
        ck.fail(p + ("params", "t_ref"), f"{fmt(t_ref)} ms",
                f"at most {MAX_REFRACTORY_STEPS:,} steps = {fmt(MAX_REFRACTORY_STEPS * dt)} ms "
                "(refractory counters are 32-bit)")


def read_initial(ck: Checker, m: dict, p: tuple, model, params: dict) -> dict:
    ip = p + ("initial",)
    given = m.get("initial")
    given = {} if given is None else given
    ck.mapping(given, ip, list(model.state_variables),
               what=f"a mapping of {model.name} state variables")
    initial = {}
    for var, default in model.initial_defaults(params).items():
        initial[var], _ = read_quantity(ck, given, var, ip, unit=model.state_variables[var],
                                        default=default)
    return initial


def read_output(ck: Checker, top: dict) -> str:
    raw = top.get("output")
    raw = {} if raw is None else raw
    ck.mapping(raw, ("output",), OUTPUT_KEYS)
    directory = ck.string(raw, "directory", ("output",), default="")
    if not directory.isprintable():      # a NUL makes every file call fail
        ck.fail(("output", "directory"), describe(directory).replace(" (a string)", ""),
                "a path of printable characters")
    return directory


def _canonical(value):
    if isinstance(value, np.ndarray):   # per-neuron parameters: their exact bytes
        return {"float64[]": _sha256_hex(np.ascontiguousarray(value, "<f8").tobytes())}
    if isinstance(value, float):
        return fmt(value) if not math.isfinite(value) else value
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    return value


def model_hash(fields: dict) -> str:
    """sha256 of everything that shapes the network and its dynamics: scale factors,
    populations, projections, inputs, dt and seed. Left out: name, source, output
    directory, recording, t_sim and warmup (a longer run of the same model keeps its hash,
    so checkpoints stay usable)."""
    sim = fields["simulation"]
    payload = {
        "format": HASH_FORMAT,
        "scale": fields["scale"],
        "indegree_scale": fields["indegree_scale"],
        "populations": [asdict(p) for p in fields["populations"]],
        "projections": [projection_payload(p) for p in fields["projections"]],
        "poisson_inputs": [_input_payload(p) for p in fields["poisson_inputs"]],
        "dc_inputs": [_input_payload(p) for p in fields["dc_inputs"]],
        "dt": sim.dt,
        "seed": sim.seed,
    }
    for key in ("spike_generators", "noise_inputs", "own_models", "step_currents",
                "ac_inputs"):   # only when used:
        # a model without them keeps its old hash
        if fields.get(key):
            value = fields[key]
            payload[key] = value if isinstance(value, dict) else [_input_payload(p)
                                                                  for p in value]
    text = json.dumps(_canonical(payload), sort_keys=True, separators=(",", ":"),
                      allow_nan=False)
    return _sha256_hex(text.encode("utf-8"))


def _input_payload(item) -> dict:
    """An input as the hash takes it: without an empty node_ids on the inputs that had
    none before (their models keep their hash)."""
    payload = asdict(item)
    if payload.get("node_ids") == () and not hasattr(item, "times"):
        del payload["node_ids"]
    return payload


def _sha256_hex(data: bytes) -> str:
    """SHA-256 by CPython's built-in module: importing hashlib loads OpenSSL, 3.6 MiB of
    RSS on every rank for one small digest."""
    try:
        from _sha2 import sha256          # CPython >= 3.12
    except ImportError:
        try:
            from _sha256 import sha256    # CPython 3.11
        except ImportError:
            from hashlib import sha256
    return sha256(data).hexdigest()
