"""Connection rules as built: degree statistics, autapse / multapse flags, distance-dependent
probability and delays, SONATA edges in and out, and rank-count independence (the union of
the synapses built on R in-process "ranks" equals the 1-rank network, synapse for synapse)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import yaml

from brainsim.io.sonata_edges import inspect_edges, iter_local_edges, write_edges, write_nodes
from brainsim.network.build import build_local_network, build_synapses
from brainsim.network.partition import Partition
from brainsim.network.spatial import all_positions, displacement
from brainsim.spec import SpecError, load_model


def model_file(tmp_path, populations, projections, inputs=(), dt=0.1, seed=7, name="m.yaml"):
    doc = {"name": "rules", "simulation": {"dt": dt, "t_sim": 10.0, "seed": seed},
           "populations": populations, "projections": list(projections), "inputs": list(inputs)}
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return load_model(str(path))


def pop(name, size, **extra):
    return {"name": name, "size": size, "model": "iaf_psc_exp", **extra}


def synapse_table(model, ranks: int) -> np.ndarray:
    """(source gid, target gid, weight, delay steps) of every synapse, over `ranks` ranks,
    in CSR order per rank, then sorted stably by source (row order kept)."""
    part = Partition(model.num_neurons, ranks)
    rows = []
    for r in range(ranks):
        syn = build_synapses(model, part, r)
        local_gids = part.local_gids(r)
        src = np.repeat(np.arange(model.num_neurons), np.diff(syn.row_ptr))
        rows.append(np.stack([src, local_gids[syn.target], syn.weight, syn.delay_steps], axis=1))
    table = np.concatenate(rows)
    # canonical: by source, then target, keeping each (source, target) pair's row order
    order = np.lexsort((table[:, 1], table[:, 0]))
    return table[order]


def assert_rank_independent(model, ranks=(2, 3)):
    one = synapse_table(model, 1)
    for r in ranks:
        np.testing.assert_array_equal(synapse_table(model, r), one)
    return one


# -- fixed_outdegree -----------------------------------------------------------------------

@pytest.mark.parametrize("autapses, multapses", [(True, True), (False, False), (False, True)])
def test_fixed_outdegree_exact_and_flags(tmp_path, autapses, multapses):
    model = model_file(tmp_path, [pop("A", 60)], [{
        "source": "A", "target": "A",
        "rule": {"name": "fixed_outdegree", "outdegree": 25, "allow_autapses": autapses,
                 "allow_multapses": multapses},
        "synapse": {"weight": {"distribution": "uniform", "low": 1.0, "high": 2.0},
                    "delay": {"distribution": "uniform", "low": 0.5, "high": 3.0}}}])
    table = assert_rank_independent(model)
    src, tgt = table[:, 0].astype(int), table[:, 1].astype(int)
    np.testing.assert_array_equal(np.bincount(src, minlength=60), np.full(60, 25))
    if not autapses:
        assert not np.any(src == tgt)
    pairs = src * 1000 + tgt
    if not multapses:
        assert np.unique(pairs).size == pairs.size
    else:
        assert np.unique(pairs).size < pairs.size   # 25 of 60 with replacement: repeats
    assert 1.0 <= table[:, 2].min() and table[:, 2].max() <= 2.0
    # in-degrees: mean outdegree * N_src / N_tgt
    assert np.bincount(tgt, minlength=60).mean() == pytest.approx(25.0)


def test_fixed_outdegree_uniform_targets(tmp_path):
    model = model_file(tmp_path, [pop("A", 200), pop("B", 50)], [{
        "source": "A", "target": "B", "rule": {"name": "fixed_outdegree", "outdegree": 10},
        "synapse": {"weight": 1.0}}])
    table = synapse_table(model, 2)
    indeg = np.bincount(table[:, 1].astype(int) - 200, minlength=50)
    expect = 200 * 10 / 50          # binomial(2000, 1/50) per target
    sigma = math.sqrt(2000 * (1 / 50) * (1 - 1 / 50))
    assert abs(indeg.mean() - expect) < 1e-9
    assert indeg.std() < 2 * sigma and indeg.std() > 0.5 * sigma


def test_fixed_outdegree_too_large_without_multapses(tmp_path):
    with pytest.raises(SpecError, match=r"outdegree: out-degree 10 .* 9 available targets"):
        model_file(tmp_path, [pop("A", 10)], [{
            "source": "A", "target": "A",
            "rule": {"name": "fixed_outdegree", "outdegree": 10, "allow_autapses": False,
                     "allow_multapses": False}, "synapse": {"weight": 1.0}}])


# -- the other rules' flags and statistics -------------------------------------------------

def test_fixed_indegree_flags_exact(tmp_path):
    model = model_file(tmp_path, [pop("A", 40)], [{
        "source": "A", "target": "A",
        "rule": {"name": "fixed_indegree", "indegree": 39, "allow_autapses": False,
                 "allow_multapses": False}, "synapse": {"weight": 1.0}}])
    table = assert_rank_independent(model)
    src, tgt = table[:, 0].astype(int), table[:, 1].astype(int)
    np.testing.assert_array_equal(np.bincount(tgt, minlength=40), np.full(40, 39))
    assert not np.any(src == tgt)
    assert np.unique(src * 100 + tgt).size == src.size


@pytest.mark.parametrize("autapses", [True, False])
def test_pairwise_bernoulli_binomial(tmp_path, autapses):
    n, p = 300, 0.1
    model = model_file(tmp_path, [pop("A", n)], [{
        "source": "A", "target": "A",
        "rule": {"name": "pairwise_bernoulli", "probability": p, "allow_autapses": autapses},
        "synapse": {"weight": 1.0}}])
    table = assert_rank_independent(model, ranks=(3,))
    src, tgt = table[:, 0].astype(int), table[:, 1].astype(int)
    pairs = n * (n - (0 if autapses else 1))
    assert abs(src.size - p * pairs) < 4 * math.sqrt(pairs * p * (1 - p))
    assert np.unique(src * 1000 + tgt).size == src.size     # never a multapse
    if not autapses:
        assert not np.any(src == tgt)


def test_all_to_all_and_one_to_one_autapses(tmp_path):
    model = model_file(tmp_path, [pop("A", 12)], [
        {"source": "A", "target": "A", "rule": {"name": "all_to_all", "allow_autapses": False},
         "synapse": {"weight": 1.0}},
        {"source": "A", "target": "A", "rule": {"name": "one_to_one", "allow_autapses": True},
         "synapse": {"weight": 2.0}}])
    table = assert_rank_independent(model)
    a2a = table[table[:, 2] == 1.0]
    assert a2a.shape[0] == 12 * 11 and not np.any(a2a[:, 0] == a2a[:, 1])
    o2o = table[table[:, 2] == 2.0]
    np.testing.assert_array_equal(o2o[:, 0], o2o[:, 1])


def test_sonata_rule_refuses_flags(tmp_path):
    with pytest.raises(SpecError, match=r"rule.allow_autapses: unknown key"):
        model_file(tmp_path, [pop("A", 5)], [{
            "source": "A", "target": "A",
            "rule": {"name": "sonata", "edges_file": "x.h5", "edge_population": "p",
                     "allow_autapses": False}}])


# -- spatial ---------------------------------------------------------------------------------

def test_grid_positions_follow_nest(tmp_path):
    model = model_file(tmp_path, [pop("A", 6, positions={"grid": {
        "shape": [3, 2], "extent": [3.0, 2.0], "center": [1.0, 0.0]}})], [])
    pos = all_positions(model)["A"]
    # column-major, x slowest, y from the top down
    np.testing.assert_allclose(pos, [[0, .5], [0, -.5], [1, .5], [1, -.5], [2, .5], [2, -.5]])


def test_random_positions_are_keyed_per_gid(tmp_path):
    model = model_file(tmp_path, [pop("B", 3), pop("A", 500, positions={"random": {
        "extent": [2.0, 4.0, 1.0], "center": [0.0, 1.0, 0.0]}})], [])
    pos = all_positions(model)["A"]
    assert pos.shape == (500, 3)
    assert pos[:, 0].min() >= -1 and pos[:, 0].max() < 1
    assert pos[:, 1].min() >= -1 and pos[:, 1].max() < 3
    net = build_local_network(model, Partition(model.num_neurons, 3), 1)
    np.testing.assert_array_equal(net.positions["A"], pos)


def spatial_model(tmp_path, kernel, mask=None, wrap=False, delay=None, size=900):
    side = int(round(math.sqrt(size)))
    rule = {"name": "pairwise_bernoulli", "probability": kernel, "allow_autapses": False}
    if mask:
        rule["mask"] = mask
    synapse = {"weight": 1.0}
    if delay:
        synapse["delay"] = delay
    return model_file(tmp_path, [pop("A", size, positions={"grid": {
        "shape": [side, side], "extent": [1.0, 1.0], "edge_wrap": wrap}})],
        [{"source": "A", "target": "A", "rule": rule, "synapse": synapse}])


@pytest.mark.parametrize("kernel, law", [
    ({"kernel": "gaussian", "p_center": 0.8, "std": 0.15},
     lambda d: 0.8 * np.exp(-d ** 2 / (2 * 0.15 ** 2))),
    ({"kernel": "exponential", "p_center": 0.6, "tau": 0.1}, lambda d: 0.6 * np.exp(-d / 0.1)),
])
def test_distance_dependent_probability_matches_kernel(tmp_path, kernel, law):
    model = spatial_model(tmp_path, kernel, wrap=True)
    table = assert_rank_independent(model, ranks=(3,))
    pos = all_positions(model)["A"]
    src, tgt = table[:, 0].astype(int), table[:, 1].astype(int)
    d_all = np.linalg.norm(displacement(pos[:, None, :], pos[None, :, :], [1, 1], True), axis=2)
    connected = np.zeros_like(d_all, dtype=bool)
    connected[src, tgt] = True
    off_diag = ~np.eye(len(pos), dtype=bool)
    bins = np.linspace(0.0, 0.5, 11)
    for lo, hi in zip(bins[:-1], bins[1:]):
        sel = off_diag & (d_all >= lo) & (d_all < hi)
        n = sel.sum()
        if n < 200:
            continue
        expected = law(d_all[sel]).mean()
        observed = connected[sel].mean()
        sigma = math.sqrt(max(np.sum(law(d_all[sel]) * (1 - law(d_all[sel]))), 1.0)) / n
        assert abs(observed - expected) < 4 * sigma + 1e-12, (lo, observed, expected)


def test_masks_and_distance_delays(tmp_path):
    model = spatial_model(tmp_path, {"kernel": "constant", "p_center": 1.0},
                          mask={"circular": {"radius": 0.12}},
                          delay={"distance_dependent": {"offset": 0.5, "velocity": 0.1}},
                          size=400)
    table = assert_rank_independent(model)
    pos = all_positions(model)["A"]
    src, tgt = table[:, 0].astype(int), table[:, 1].astype(int)
    dist = np.linalg.norm(pos[src] - pos[tgt], axis=1)
    assert dist.max() <= 0.12 + 1e-12 and src.size > 0
    d_all = np.linalg.norm(pos[:, None] - pos[None], axis=2)
    assert src.size == np.sum((d_all <= 0.12) & (d_all > 0))   # p = 1 inside the mask
    np.testing.assert_array_equal(table[:, 3], np.floor((0.5 + dist / 0.1) / 0.1 + 0.5))
    rect = spatial_model(tmp_path, {"kernel": "constant", "p_center": 1.0}, size=400,
                         mask={"rectangular": {"lower_left": [0.0, -0.06],
                                               "upper_right": [0.2, 0.06]}})
    t2 = synapse_table(rect, 2)
    d = pos[t2[:, 0].astype(int)] - pos[t2[:, 1].astype(int)]
    assert d[:, 0].min() >= 0 and d[:, 0].max() <= 0.2 and np.abs(d[:, 1]).max() <= 0.06


def test_spatial_needs_positions(tmp_path):
    with pytest.raises(SpecError, match="has no positions"):
        model_file(tmp_path, [pop("A", 10)], [{
            "source": "A", "target": "A",
            "rule": {"name": "pairwise_bernoulli",
                     "probability": {"kernel": "gaussian", "p_center": 1.0, "std": 1.0}},
            "synapse": {"weight": 1.0}}])


# -- SONATA edges ----------------------------------------------------------------------------

def write_random_edges(path, n_src, n_tgt, n_edges, seed=3, sorted_by_target=False, **kw):
    gen = np.random.default_rng(seed)
    src = gen.integers(0, n_src, n_edges)
    tgt = gen.integers(0, n_tgt, n_edges)
    if sorted_by_target:
        order = np.argsort(tgt, kind="stable")
        src, tgt = src[order], tgt[order]
    weight = gen.normal(20.0, 5.0, n_edges)
    delay = np.round(gen.uniform(0.1, 3.0, n_edges), 1)
    write_edges(str(path), "A_to_B", src, tgt, weight, delay, source_population="A",
                target_population="B", num_source_nodes=n_src, num_target_nodes=n_tgt, **kw)
    return src, tgt, weight, delay


@pytest.mark.parametrize("index", [True, False])
def test_sonata_edges_round_trip_and_rank_independence(tmp_path, index, monkeypatch):
    import brainsim.io.sonata_edges as se
    monkeypatch.setattr(se, "CHUNK_EDGES", 64)        # many chunks, some skipped by the index
    edges = tmp_path / "edges.h5"
    src, tgt, weight, delay = write_random_edges(edges, 30, 20, 1000, sorted_by_target=index,
                                                 index=index)
    write_nodes(str(tmp_path / "nodes.h5"), {"A": 30, "B": 20})
    model = model_file(tmp_path, [pop("A", 30), pop("B", 20)], [{
        "source": "A", "target": "B",
        "rule": {"name": "sonata", "edges_file": "edges.h5", "edge_population": "A_to_B",
                 "nodes_file": "nodes.h5"}}])
    assert model.projections[0].sonata.num_edges == 1000
    table = assert_rank_independent(model, ranks=(2, 3, 7))
    expected = np.stack([src, tgt + 30, weight, np.floor(delay / 0.1 + 0.5)], axis=1)
    expected = expected[np.lexsort((expected[:, 1], expected[:, 0]))]
    np.testing.assert_array_equal(table, expected)


def test_sonata_edges_onto_fewer_targets_than_ranks(tmp_path):
    """A rank that owns none of the edges' targets reads nothing (the index says so)."""
    write_random_edges(tmp_path / "edges.h5", 30, 2, 50, sorted_by_target=True, index=True)
    write_nodes(str(tmp_path / "nodes.h5"), {"A": 30, "B": 2})
    model = model_file(tmp_path, [pop("B", 2), pop("A", 30)], [{
        "source": "A", "target": "B",
        "rule": {"name": "sonata", "edges_file": "edges.h5", "edge_population": "A_to_B",
                 "nodes_file": "nodes.h5"}}])
    assert assert_rank_independent(model, ranks=(3, 5)).shape[0] == 50


def test_sonata_edge_groups(tmp_path):
    import h5py
    path = tmp_path / "groups.h5"
    with h5py.File(path, "w") as f:
        g = f.create_group("edges/p")
        g["source_node_id"] = np.array([0, 1, 2, 3], dtype=np.uint64)
        g["target_node_id"] = np.array([1, 1, 0, 2], dtype=np.uint64)
        g["edge_group_id"] = np.array([0, 1, 0, 1])
        g["edge_group_index"] = np.array([0, 0, 1, 1])
        g["0/syn_weight"], g["0/delay"] = [1.0, 2.0], [1.0, 2.0]
        g["1/syn_weight"], g["1/delay"] = [10.0, 20.0], [1.5, 2.5]
    got = np.concatenate([np.column_stack(chunk) for chunk in
                          iter_local_edges(str(path), "p", lambda ids: ids >= 0)])
    np.testing.assert_array_equal(got[:, 2], [1.0, 10.0, 2.0, 20.0])
    np.testing.assert_array_equal(got[:, 3], [1.0, 1.5, 2.0, 2.5])
    info = inspect_edges(str(path), "p", source_size=4, target_size=3, min_delay=0.05)
    assert info.num_edges == 4 and info.groups == ("0", "1")


# -- spike_generator and noise_generator -----------------------------------------------------

def test_spike_generator_events_land_in_nest_steps(tmp_path):
    model = model_file(tmp_path, [pop("A", 4), pop("B", 3)], [], inputs=[
        {"type": "spike_generator", "target": "A", "spike_times": [1.0, 1.0, 2.5],
         "weight": 10.0, "delay": 1.0},
        {"type": "spike_generator", "target": "B",
         "per_neuron": {"node_ids": [0, 2, 2], "times": [0.3, 0.3, 0.3]},
         "weight": -5.0, "delay": 0.2}])
    for ranks in (1, 2):
        part = Partition(model.num_neurons, ranks)
        ring_total = {}
        for r in range(ranks):
            net = build_local_network(model, part, r)
            ring = np.zeros((40, net.num_local, 2))
            for first in range(0, 40, 5):
                net.external_events.deliver_epoch(first, 5, ring)
            for s, i, ch in zip(*np.nonzero(ring)):
                ring_total[(int(s), int(net.local_gids[i]), int(ch))] = ring[s, i, ch]
        expect = {}
        for gid in range(4):
            expect[(19, gid, 0)] = 20.0           # 1.0 ms twice, delay 1 ms: step 10+10-1
            expect[(34, gid, 0)] = 10.0           # 2.5 ms: step 25 + 10 - 1
        expect[(4, 4, 1)] = -5.0                  # 0.3 ms, delay 0.2: step 3 + 2 - 1
        expect[(4, 6, 1)] = -10.0
        assert ring_total == expect


def test_spike_generator_file_and_errors(tmp_path):
    np.save(tmp_path / "times.npy", np.array([0.5, 1.5]))
    model = model_file(tmp_path, [pop("A", 2)], [], inputs=[
        {"type": "spike_generator", "target": "A", "file": "times.npy", "weight": 1.0}])
    assert model.spike_generators[0].times == (0.5, 1.5)
    with pytest.raises(SpecError, match="not a multiple of dt"):
        model_file(tmp_path, [pop("A", 2)], [], inputs=[
            {"type": "spike_generator", "target": "A", "spike_times": [0.55], "weight": 1.0}])
    with pytest.raises(SpecError, match=r"node id 5; expected population-local ids in \[0, 2\)"):
        model_file(tmp_path, [pop("A", 2)], [], inputs=[
            {"type": "spike_generator", "target": "A", "weight": 1.0,
             "per_neuron": {"node_ids": [5], "times": [1.0]}}])


def test_noise_generator_currents(tmp_path):
    model = model_file(tmp_path, [pop("A", 400)], [], inputs=[
        {"type": "noise_generator", "target": "A", "mean": 5.0, "std": 2.0, "dt": 0.5,
         "start": 1.0, "stop": 50.0, "delay": 0.1}])
    part = Partition(400, 1)
    net = build_local_network(model, part, 0)
    out = np.zeros((600, 400))
    net.noise.epoch_currents(0, 600, out)
    # dc timing: a = 10, b = 500, d = 1 -> used in steps max(a + d, d + 1) .. b + d - 1
    active = np.flatnonzero(out[:, 0] != 0)
    assert active[0] == 11 and active[-1] == 500
    # a new value every 5 steps, from the first active step
    assert np.all(out[11:16, 0] == out[11, 0]) and out[16, 0] != out[15, 0]
    values = out[11:501:5]
    assert abs(values.mean() - 5.0) < 4 * 2.0 / math.sqrt(values.size)
    assert abs(values.std() - 2.0) < 0.1
    # keyed per gid: the same on three ranks
    part3 = Partition(400, 3)
    net1 = build_local_network(model, part3, 1)
    out1 = np.zeros((600, net1.num_local))
    net1.noise.epoch_currents(0, 600, out1)
    np.testing.assert_array_equal(out1, out[:, net1.local_gids])
