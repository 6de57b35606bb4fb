"""The brainsim model document of what a PyNN script has built (NEST names and units).

Populations become brainsim populations p0, p1, ... in creation order (gid = PyNN id);
spike sources become parrot_neuron populations fed by poisson / spike_generator inputs
(delay min_delay, as pyNN.nest connects its generators to parrots); connections become
explicit synapse lists (the from_list rule, or a SONATA edges file where that rule is not
available); current sources become dc / ac / step_current / noise_generator inputs.
"""
from __future__ import annotations

import os

import numpy as np
from pyNN import errors

from brainsim.pynn.unsupported import NotSupportedByBrainsim

from brainsim.pynn.cells import SpikeSourceArray, SpikeSourcePoisson

# synaptic currents brainsim records but does not take as initial values (they start at 0)
_STARTS_AT_ZERO = {"iaf_psc_exp": ("i_syn_ex", "i_syn_in")}


def values_or_one(values: np.ndarray):
    """A scalar when every neuron has the same value, else the list (one per neuron)."""
    values = np.asarray(values, dtype=float)
    if values.size and np.all(values == values[0]):
        return float(values[0])
    return values.tolist()


def model_document(state, tstop: float, workdir: str) -> dict:
    populations = [_population(p, state) for p in state.populations]
    inputs = [spec for p in state.populations for spec in _source_inputs(p, state)]
    inputs += [spec for source in state.current_sources for spec in _current_inputs(source)]
    projections = [spec for k, prj in enumerate(state.projections)
                   for spec in _projection(prj, k, workdir)]
    _stdp_tau_minus(state, populations)
    return {"name": "pynn", "simulation": {"dt": state.dt, "t_sim": tstop, "seed": state.seed},
            "populations": populations, "projections": projections, "inputs": inputs,
            "recording": _recording(state)}


def _population(pop, state) -> dict:
    celltype = pop.celltype
    spec = {"name": pop.brainsim_name, "size": pop.size, "model": celltype.brainsim_model}
    if celltype.brainsim_model == "parrot_neuron":
        return spec
    spec["params"] = {name: values_or_one(v) for name, v in pop._parameters.items()}
    initial = {}
    for variable, values in pop._initial.items():
        native = celltype.variable_map.get(variable)
        if native is None or np.all(np.isnan(values)):
            continue
        if native in _STARTS_AT_ZERO.get(celltype.brainsim_model, ()):
            if np.any(values != 0):
                raise NotSupportedByBrainsim(
                    f"{pop.label}: brainsim's {celltype.brainsim_model} starts {variable} at 0; "
                    "other initial values are not available")
            continue
        initial[native] = values_or_one(values / celltype.scale_factors.get(variable, 1.0))
    if initial:
        spec["initial"] = initial
    return spec


def _node_ids(mask_or_ids, size):
    ids = np.asarray(mask_or_ids)
    return None if ids.size == size else [int(i) for i in ids]


def _source_inputs(pop, state) -> list[dict]:
    celltype = pop.celltype
    if isinstance(celltype, SpikeSourcePoisson):
        return _poisson_inputs(pop, state)
    if isinstance(celltype, SpikeSourceArray):
        return _array_inputs(pop, state)
    return []


def _poisson_inputs(pop, state) -> list[dict]:
    p = pop._parameters
    rows = np.stack([p["rate"], p["start"], p["stop"]], axis=1)
    groups, which = np.unique(rows, axis=0, return_inverse=True)
    specs = []
    for g, (rate, start, stop) in enumerate(groups):
        spec = {"type": "poisson", "target": pop.brainsim_name, "rate": float(rate),
                "weight": 1.0, "delay": state.min_delay, "start": float(start)}
        if np.isfinite(stop) and stop < 1e9:
            spec["stop"] = float(stop)
        node_ids = _node_ids(np.flatnonzero(which.ravel() == g), pop.size)
        if node_ids is not None:
            spec["node_ids"] = node_ids
        if rate > 0:
            specs.append(spec)
    return specs


def _array_inputs(pop, state) -> list[dict]:
    node_ids, times = [], []
    for i, seq in enumerate(pop._parameters["spike_times"]):
        given = np.asarray(getattr(seq, "value", seq), dtype=float).ravel()
        steps = given / state.dt
        if np.any(np.abs(steps - np.round(steps)) > 1e-9 * np.maximum(1.0, np.abs(steps))):
            raise NotSupportedByBrainsim(
                f"SpikeSourceArray {pop.label}: spike times off the time grid (dt = "
                f"{state.dt} ms): brainsim's spikes are on the grid (NEST spike_precision "
                "'on_grid')")
        t = np.round(steps) * state.dt - state.min_delay
        if t.size and t.min() <= 1e-9:
            raise errors.InvalidParameterValueError(
                f"SpikeSourceArray {pop.label}: spike times must be later than min_delay "
                f"({state.min_delay} ms; the parrot re-emits one min_delay after its generator, "
                "as in pyNN.nest)")
        node_ids += [i] * t.size
        times += t.tolist()
    if not times:
        return []
    return [{"type": "spike_generator", "target": pop.brainsim_name, "weight": 1.0,
             "delay": state.min_delay, "per_neuron": {"node_ids": node_ids, "times": times}}]


def _current_inputs(source) -> list[dict]:
    by_population = {}
    for cell in source.cell_list:
        by_population.setdefault(cell.parent, []).append(cell.parent.id_to_index(int(cell)))
    specs = []
    for pop, local in by_population.items():
        spec = {**source.input_document(), "target": pop.brainsim_name}
        node_ids = _node_ids(sorted(set(local)), pop.size)
        if node_ids is not None:
            spec["node_ids"] = node_ids
        specs.append({k: v for k, v in spec.items() if v is not None})
    return specs


def _gids(cells, index: np.ndarray) -> np.ndarray:
    """The gids of a population / view / assembly's cells at the given indices."""
    return np.asarray(cells.all_cells, dtype=np.int64)[index]


def _projection(prj, k: int, workdir: str) -> list[dict]:
    pre_gids = _gids(prj.pre, prj.pre_index)
    post_gids = _gids(prj.post, prj.post_index)
    specs = []
    for src in _populations_of(prj.pre):
        for tgt in _populations_of(prj.post):
            chosen = ((pre_gids >= src.first_gid) & (pre_gids < src.first_gid + src.size)
                      & (post_gids >= tgt.first_gid) & (post_gids < tgt.first_gid + tgt.size))
            if not np.any(chosen):
                continue
            lists = (pre_gids[chosen] - src.first_gid, post_gids[chosen] - tgt.first_gid,
                     prj.weights[chosen], prj.delays[chosen])
            for part, (tau_psc, sub) in enumerate(_split_by_tau_psc(prj, tgt, lists)):
                spec = {"source": src.brainsim_name, "target": tgt.brainsim_name}
                spec.update(_rule_and_synapse(prj, tau_psc, sub, f"prj{k}_{src.brainsim_name}_"
                                              f"{tgt.brainsim_name}_{part}", workdir))
                specs.append(spec)
    return specs


def _split_by_tau_psc(prj, tgt, lists):
    """[(tau_psc or None, lists)]: tsodyks_synapse's tau_psc is the target's synaptic time
    constant (pyNN.nest copies it) and one value per brainsim projection, so the synapses
    are split by their target's value."""
    if prj.synapse_type.brainsim_model != "tsodyks_synapse":
        return [(None, lists)]
    name = "tau_syn_in" if prj.receptor_type == "inhibitory" else "tau_syn_ex"
    if name not in tgt._parameters:
        raise NotSupportedByBrainsim(
            f"TsodyksMarkramSynapse onto {type(tgt.celltype).__name__}: no {name}")
    tau = tgt._parameters[name][lists[1]]
    return [(float(value), tuple(a[tau == value] for a in lists)) for value in np.unique(tau)]


def _populations_of(cells):
    if hasattr(cells, "populations"):
        return list(cells.populations)
    return [getattr(cells, "grandparent", None) or cells]


def _rule_and_synapse(prj, tau_psc, lists, name: str, workdir: str) -> dict:
    src_ids, tgt_ids, weights, delays = lists
    synapse = {"model": prj.synapse_type.brainsim_model}
    params = {k: v for k, v in prj.synapse_params.items() if k != "tau_minus"}
    if tau_psc is not None:
        params["tau_psc"] = tau_psc
    if params:
        synapse["params"] = params
    if _has_from_list():
        return {"rule": {"name": "from_list", "connections": {
            "sources": src_ids, "targets": tgt_ids, "weights": weights, "delays": delays}},
            "synapse": synapse}
    from brainsim.io.sonata_edges import write_edges
    path = os.path.join(workdir, f"{name}.h5")
    write_edges(path, name, src_ids, tgt_ids, weights, delays, source_population="pre",
                target_population="post", mode="w")
    spec = {"rule": {"name": "sonata", "edges_file": path, "edge_population": name}}
    if synapse["model"] != "static_synapse":
        spec["synapse"] = synapse
    return spec


def _has_from_list() -> bool:
    from brainsim.spec.connections import RULES
    return "from_list" in RULES


def _stdp_tau_minus(state, populations: list[dict]) -> None:
    """STDP's tau_minus is the target neuron's parameter (NEST): set it there, once."""
    for prj in state.projections:
        if "tau_minus" not in prj.synapse_params:
            continue
        for tgt in _populations_of(prj.post):
            _check_stdp_target(tgt)
            params = populations[state.populations.index(tgt)].setdefault("params", {})
            previous = params.get("tau_minus")
            if previous is not None and previous != prj.synapse_params["tau_minus"]:
                raise NotSupportedByBrainsim(
                    f"two STDP projections onto {tgt.label} with different tau_minus")
            params["tau_minus"] = prj.synapse_params["tau_minus"]


def _check_stdp_target(tgt) -> None:
    """brainsim's stdp_synapse reads the target's spike history (NEST's ArchivingNode);
    built-ins without one are refused here with the reason (equation models archive)."""
    from brainsim.catalogue.neurons import NEURON_MODELS
    model = NEURON_MODELS.get(tgt.celltype.brainsim_model)
    if model is not None and not model.archives_spikes:
        raise NotSupportedByBrainsim(
            f"STDP onto {type(tgt.celltype).__name__} ({model.name}): brainsim's "
            f"{model.name} keeps no spike history for stdp_synapse (targets: "
            + ", ".join(n for n, m in NEURON_MODELS.items() if m.archives_spikes) + ")")


def _recording(state) -> dict:
    spikes, sampled = [], []
    for pop in state.populations:
        recorded = pop.recorder.recorded
        for variable, ids in recorded.items():
            if not ids:
                continue
            if variable.name == "spikes":
                spikes.append(pop.brainsim_name)
                continue
            native = pop.celltype.variable_map[variable.name]
            sampled.append({"population": pop.brainsim_name, "variables": [native],
                            "neurons": sorted(pop.id_to_index(int(i)) for i in ids),
                            "interval": pop.recorder.sampling_interval})
    return {"spikes": spikes, "state": sampled} if sampled else {"spikes": spikes}
