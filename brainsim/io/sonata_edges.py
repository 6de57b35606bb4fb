"""SONATA edges files (AllenInstitute/sonata, SONATA_DEVELOPER_GUIDE "Edges"): read the
synapses of one edge population in bounded memory, check a file before a run, write one.

Layout read and written (node ids are local to the node populations named by the
`node_population` attributes):

    /edges/<pop>/source_node_id   uint64 [E]  attr node_population
    /edges/<pop>/target_node_id   uint64 [E]  attr node_population
    /edges/<pop>/edge_type_id     int64  [E]  (written as 0; not read)
    /edges/<pop>/edge_group_id    int64  [E]  optional: group per edge (default group 0)
    /edges/<pop>/edge_group_index int64  [E]  optional: row in that group (default: edge id)
    /edges/<pop>/<group>/syn_weight  float   weight, native unit of the target model
    /edges/<pop>/<group>/delay       float   ms
    /edges/<pop>/indices/target_to_source/node_id_to_ranges  int64 [N_target, 2]
    /edges/<pop>/indices/target_to_source/range_to_edge_id   int64 [R, 2]
    (and source_to_target alike, written for libsonata; not read)

Nodes file (optional, for population sizes): /nodes/<pop>/node_type_id [N].

Reading is chunked (CHUNK_EDGES edges at a time): a rank keeps only the edges whose
target it owns; with a target_to_source index, chunks holding none of its targets are
skipped unread.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

CHUNK_EDGES = 1 << 20


class EdgesFileError(Exception):
    """A problem with an edges file: `key` is the rule key it concerns (edges_file,
    edge_population, nodes_file); found / expected as in a SpecError."""

    def __init__(self, key: str, found: str, expected: str):
        super().__init__(f"{found}; expected {expected}")
        self.key, self.found, self.expected = key, found, expected


@dataclass(frozen=True)
class EdgesInfo:
    num_edges: int
    source_population: str
    target_population: str
    groups: tuple
    digest: str
    delay_min: float = 0.0
    delay_max: float = 0.0
    weight_min: float = 0.0     # over the file (0 when it has no edges)
    weight_max: float = 0.0


def _h5py():
    import h5py
    return h5py


def _open(path: str, key: str = "edges_file"):
    h5py = _h5py()
    if not os.path.isfile(path):
        raise EdgesFileError(key, f"{path}: no such file", "an existing SONATA file (HDF5)")
    try:
        return h5py.File(path, "r")
    except OSError:
        raise EdgesFileError(key, f"{path}: not a readable HDF5 file (empty or truncated?)",
                             "a SONATA file written by h5py, libsonata, bmtk or "
                             "brainsim.io.sonata_edges") from None


def _dataset(group, name: str, path: str, where: str):
    h5py = _h5py()
    obj = group.get(name)
    if not isinstance(obj, h5py.Dataset):
        raise EdgesFileError("edges_file", f"{path}: missing dataset {where}/{name}",
                             "the SONATA edges datasets source_node_id, target_node_id and "
                             "<group>/syn_weight, <group>/delay")
    return obj


def _population(f, path: str, population: str):
    h5py = _h5py()
    edges = f.get("edges")
    names = sorted(edges) if isinstance(edges, h5py.Group) else []
    if population not in names:
        raise EdgesFileError("edge_population", f"'{population}' is not in {path}",
                             "one of " + (", ".join(names) if names else
                                          "the populations under /edges (none found)"))
    return edges[population]


def _attr(ds, name: str) -> str:
    value = ds.attrs.get(name, "")
    return value.decode() if isinstance(value, bytes) else str(value)


def _groups(pop, num_edges: int, path: str, where: str) -> tuple:
    """Names of the edge groups in use, with their syn_weight / delay datasets checked."""
    if "edge_group_id" in pop:
        gid_ds = _dataset(pop, "edge_group_id", path, where)
        _dataset(pop, "edge_group_index", path, where)
        for name in ("edge_group_id", "edge_group_index"):
            if pop[name].shape != (num_edges,):
                raise EdgesFileError("edges_file", f"{path}: {where}/{name} has "
                                     f"{pop[name].shape[0]} entries, source_node_id "
                                     f"{num_edges}", "one entry per edge")
        used = set()
        for begin in range(0, num_edges, CHUNK_EDGES):
            used.update(np.unique(gid_ds[begin:begin + CHUNK_EDGES]).tolist())
        groups = tuple(str(g) for g in sorted(used))
    else:
        groups = ("0",)
    for g in groups:
        grp = pop.get(g)
        if grp is None:
            raise EdgesFileError("edges_file", f"{path}: missing edge group {where}/{g}",
                                 "a group per edge_group_id with syn_weight and delay")
        for name in ("syn_weight", "delay"):
            _dataset(grp, name, path, f"{where}/{g}")
    return groups


def inspect_edges(path: str, population: str, *, nodes_file: str | None = None,
                  source_size: int, target_size: int, min_delay: float,
                  source_name: str = "source", target_name: str = "target") -> EdgesInfo:
    """Check an edges population against the populations it connects (chunked scan of the
    ids and values; raises EdgesFileError). Delays must be >= min_delay ms, node ids within
    the sizes; the digest is a sha256 of the scanned data (for the model hash)."""
    with _open(path) as f:
        pop = _population(f, path, population)
        where = f"/edges/{population}"
        src_ds = _dataset(pop, "source_node_id", path, where)
        tgt_ds = _dataset(pop, "target_node_id", path, where)
        num_edges = int(src_ds.shape[0]) if src_ds.shape else 0
        if tgt_ds.shape != (num_edges,):
            raise EdgesFileError("edges_file", f"{path}: {where}/target_node_id has "
                                 f"{tgt_ds.shape[0] if tgt_ds.shape else 0} entries, "
                                 f"source_node_id {num_edges}", "one entry per edge")
        groups = _groups(pop, num_edges, path, where)
        digest = hashlib.sha256()
        dmin, dmax = np.inf, 0.0
        wmin, wmax = np.inf, -np.inf
        for begin, end, src, tgt, weight, delay in _chunks(pop, num_edges, groups, path, where,
                                                           None):
            for ids, size, name, side in ((src, source_size, source_name, "source_node_id"),
                                          (tgt, target_size, target_name, "target_node_id")):
                if ids.size and (ids.min() < 0 or ids.max() >= size):
                    bad = int(ids.max() if ids.max() >= size else ids.min())
                    raise EdgesFileError("edges_file", f"{path}: {where}/{side} holds node id "
                                         f"{bad}", f"ids in [0, {size}) (population {name} "
                                         f"has {size} neurons)")
            if delay.size and not delay.min() >= min_delay:
                raise EdgesFileError("edges_file", f"{path}: delay {float(np.min(delay)):g} ms "
                                     "in the edges file",
                                     f">= dt/2 = {min_delay:g} ms (delays round to whole steps "
                                     "of dt, at least one)")
            if weight.size and not np.all(np.isfinite(weight)):
                raise EdgesFileError("edges_file", f"{path}: a non-finite syn_weight",
                                     "finite weights")
            if delay.size:
                dmin, dmax = min(dmin, float(delay.min())), max(dmax, float(delay.max()))
            if weight.size:
                wmin, wmax = min(wmin, float(weight.min())), max(wmax, float(weight.max()))
            for arr in (src, tgt, weight, delay):
                digest.update(np.ascontiguousarray(arr).tobytes())
        src_pop, tgt_pop = _attr(src_ds, "node_population"), _attr(tgt_ds, "node_population")
    if nodes_file:
        _check_nodes(nodes_file, ((src_pop, source_size, source_name),
                                  (tgt_pop, target_size, target_name)))
    return EdgesInfo(num_edges=num_edges, source_population=src_pop,
                     target_population=tgt_pop, groups=groups, digest=digest.hexdigest(),
                     delay_min=dmin if num_edges else 0.0, delay_max=dmax,
                     weight_min=wmin if num_edges else 0.0,
                     weight_max=wmax if num_edges else 0.0)


def _check_nodes(nodes_file: str, sides) -> None:
    with _open(nodes_file, key="nodes_file") as f:
        nodes = f.get("nodes")
        names = sorted(nodes) if nodes is not None else []
        for name, size, pop_name in sides:
            if not name:
                continue
            if name not in names:
                raise EdgesFileError("nodes_file", f"{nodes_file}: no node population '{name}' "
                                     "(named by the edges' node_population attribute)",
                                     "one of " + ", ".join(names))
            group = nodes[name]
            ds = group.get("node_type_id", group.get("node_id"))
            if ds is None:
                raise EdgesFileError("nodes_file", f"{nodes_file}: missing dataset "
                                     f"/nodes/{name}/node_type_id", "a SONATA nodes file")
            if ds.shape[0] != size:
                raise EdgesFileError("nodes_file", f"{nodes_file}: node population '{name}' "
                                     f"has {ds.shape[0]} nodes",
                                     f"{size}, the size of population {pop_name}")


def _chunks(pop, num_edges: int, groups: tuple, path: str, where: str,
            keep: Callable[[np.ndarray], np.ndarray] | None,
            chunk_flags: np.ndarray | None = None) -> Iterator[tuple]:
    """(begin, end, source ids, target ids, weights, delays) per chunk of edges, in edge
    order, restricted to the edges whose target `keep` accepts (all when keep is None)."""
    src_ds, tgt_ds = pop["source_node_id"], pop["target_node_id"]
    has_groups = "edge_group_id" in pop
    for c, begin in enumerate(range(0, num_edges, CHUNK_EDGES)):
        if chunk_flags is not None and not chunk_flags[c]:
            continue
        end = min(num_edges, begin + CHUNK_EDGES)
        tgt = tgt_ds[begin:end].astype(np.int64)
        sel = None if keep is None else np.flatnonzero(keep(tgt))
        if sel is not None:
            if sel.size == 0:
                continue
            tgt = tgt[sel]
        src = src_ds[begin:end].astype(np.int64)
        if sel is not None:
            src = src[sel]
        weight = np.empty(tgt.shape[0], dtype=np.float64)
        delay = np.empty(tgt.shape[0], dtype=np.float64)
        if has_groups:
            gids = pop["edge_group_id"][begin:end]
            rows = pop["edge_group_index"][begin:end].astype(np.int64)
            if sel is not None:
                gids, rows = gids[sel], rows[sel]
        else:
            gids = None
            rows = np.arange(begin, end, dtype=np.int64) if sel is None else begin + sel
        for g in groups:
            mine = slice(None) if gids is None else np.flatnonzero(gids.astype(str) == g
                                                                   if gids.dtype.kind in "SU"
                                                                   else gids == int(g))
            r = rows[mine]
            if r.size == 0:
                continue
            grp = pop[g]
            lo, hi = int(r.min()), int(r.max()) + 1
            if lo < 0 or hi > grp["syn_weight"].shape[0] or hi > grp["delay"].shape[0]:
                raise EdgesFileError("edges_file", f"{path}: edge_group_index {hi - 1 if lo >= 0 else lo} "
                                     f"beyond {where}/{g}/syn_weight or delay "
                                     f"({grp['syn_weight'].shape[0]} entries)",
                                     "group rows inside the group's datasets")
            weight[mine] = grp["syn_weight"][lo:hi][r - lo]
            delay[mine] = grp["delay"][lo:hi][r - lo]
        yield begin, end, src, tgt, weight, delay


def _index_chunk_flags(pop, num_edges: int, local_targets: np.ndarray) -> np.ndarray | None:
    """Which chunks hold an edge onto one of local_targets (population-local ids), from the
    target_to_source index; None without an index."""
    idx = pop.get("indices/target_to_source")
    if idx is None or "node_id_to_ranges" not in idx or "range_to_edge_id" not in idx:
        return None
    n2r = idx["node_id_to_ranges"][()].astype(np.int64)
    num_chunks = (num_edges + CHUNK_EDGES - 1) // CHUNK_EDGES
    flags = np.zeros(num_chunks + 1, dtype=np.int64)
    local_targets = local_targets[local_targets < n2r.shape[0]]
    r0, r1 = n2r[local_targets, 0], n2r[local_targets, 1]
    keep = (r0 >= 0) & (r1 > r0)
    r0, r1 = r0[keep], r1[keep]
    if r0.shape[0] == 0:          # no edge onto this rank's targets (or it owns none)
        return np.zeros(num_chunks, dtype=bool)
    order = np.argsort(r0, kind="stable")
    r0, r1 = r0[order], r1[order]
    r2e = idx["range_to_edge_id"]
    for begin in range(0, r2e.shape[0], CHUNK_EDGES):
        rows = r2e[begin:begin + CHUNK_EDGES].astype(np.int64)
        j = np.arange(begin, begin + rows.shape[0])
        i = np.searchsorted(r0, j, side="right") - 1
        covered = (i >= 0) & (j < r1[np.maximum(i, 0)])
        rows = rows[covered]
        rows = rows[rows[:, 1] > rows[:, 0]]
        np.add.at(flags, rows[:, 0] // CHUNK_EDGES, 1)
        np.add.at(flags, (rows[:, 1] - 1) // CHUNK_EDGES + 1, -1)
    return np.cumsum(flags)[:num_chunks] > 0


def iter_local_edges(path: str, population: str, target_is_local: Callable,
                     local_targets: np.ndarray | None = None) -> Iterator[tuple]:
    """(source ids, target ids, weights, delays ms) of the edges onto local targets, in
    edge order, one chunk at a time. target_is_local maps population-local target ids to
    a boolean mask; local_targets (sorted population-local ids) enables the index."""
    with _open(path) as f:
        pop = _population(f, path, population)
        where = f"/edges/{population}"
        num_edges = int(pop["source_node_id"].shape[0])
        groups = _groups(pop, num_edges, path, where)
        flags = None if local_targets is None else _index_chunk_flags(pop, num_edges,
                                                                      local_targets)
        for _, _, src, tgt, weight, delay in _chunks(pop, num_edges, groups, path, where,
                                                     target_is_local, flags):
            yield src, tgt, weight, delay


def _ranges_index(group, ids: np.ndarray, num_nodes: int) -> None:
    """SONATA index of `ids` (per edge): runs of equal consecutive ids -> ranges."""
    n = ids.shape[0]
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]]) if n else np.zeros(0, np.int64)
    ends = np.r_[starts[1:], n] if n else np.zeros(0, np.int64)
    node = ids[starts] if n else np.zeros(0, np.int64)
    order = np.argsort(node, kind="stable")
    ranges = np.stack([starts[order], ends[order]], axis=1).astype(np.uint64) if n else \
        np.zeros((0, 2), np.uint64)
    counts = np.bincount(node, minlength=num_nodes)[:num_nodes] if n else \
        np.zeros(num_nodes, np.int64)
    first = np.r_[0, np.cumsum(counts)[:-1]] if num_nodes else np.zeros(0, np.int64)
    n2r = np.stack([first, first + counts], axis=1).astype(np.uint64)
    group.create_dataset("node_id_to_ranges", data=n2r)
    group.create_dataset("range_to_edge_id", data=ranges)


def write_edges(path: str, population: str, source_ids, target_ids, weights, delays, *,
                source_population: str, target_population: str,
                num_source_nodes: int | None = None, num_target_nodes: int | None = None,
                index: bool = True, mode: str = "a") -> None:
    """Write one edge population (node ids population-local; weights in the target's
    native unit; delays in ms), group 0, with target_to_source / source_to_target indices."""
    h5py = _h5py()
    src = np.asarray(source_ids, dtype=np.uint64)
    tgt = np.asarray(target_ids, dtype=np.uint64)
    n = src.shape[0]
    if tgt.shape[0] != n or len(weights) != n or len(delays) != n:
        raise ValueError(f"source_ids, target_ids, weights, delays must have one length, got "
                         f"{n}, {tgt.shape[0]}, {len(weights)}, {len(delays)}")
    with h5py.File(path, mode) as f:
        f.attrs["magic"] = np.uint32(0x0A7A)
        f.attrs["version"] = np.array([0, 1], dtype=np.uint32)
        g = f.require_group("edges").create_group(population)
        g.create_dataset("source_node_id", data=src).attrs["node_population"] = source_population
        g.create_dataset("target_node_id", data=tgt).attrs["node_population"] = target_population
        g.create_dataset("edge_type_id", data=np.zeros(n, dtype=np.int64))
        g.create_dataset("edge_group_id", data=np.zeros(n, dtype=np.int64))
        g.create_dataset("edge_group_index", data=np.arange(n, dtype=np.int64))
        g0 = g.create_group("0")
        g0.create_dataset("syn_weight", data=np.asarray(weights, dtype=np.float64))
        g0.create_dataset("delay", data=np.asarray(delays, dtype=np.float64))
        if index:
            n_src = num_source_nodes if num_source_nodes is not None else \
                int(src.max()) + 1 if n else 0
            n_tgt = num_target_nodes if num_target_nodes is not None else \
                int(tgt.max()) + 1 if n else 0
            _ranges_index(g.create_group("indices/target_to_source"), tgt.astype(np.int64), n_tgt)
            _ranges_index(g.create_group("indices/source_to_target"), src.astype(np.int64), n_src)


def write_nodes(path: str, sizes: dict, mode: str = "a") -> None:
    """A minimal SONATA nodes file: per population node_type_id, node_group_id and
    node_group_index (all one group 0 without attributes)."""
    h5py = _h5py()
    with h5py.File(path, mode) as f:
        f.attrs["magic"] = np.uint32(0x0A7A)
        f.attrs["version"] = np.array([0, 1], dtype=np.uint32)
        for name, size in sizes.items():
            g = f.require_group("nodes").create_group(name)
            g.create_dataset("node_type_id", data=np.zeros(size, dtype=np.int64))
            g.create_dataset("node_group_id", data=np.zeros(size, dtype=np.int64))
            g.create_dataset("node_group_index", data=np.arange(size, dtype=np.int64))
            g.create_group("0")
