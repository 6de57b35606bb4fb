"""stdp_synapse keeps brainsim's guarantees: the same spikes and plastic weights on 1 and 3
ranks, and a run checkpointed on 2 ranks and resumed on 3 equals the uninterrupted run
(plastic weights, presynaptic traces and postsynaptic histories restored by gid)."""
from __future__ import annotations

import glob
import os

import h5py
import numpy as np
import pytest

from brainsim.engine.comm import SerialComm
from brainsim.engine.simulation import Engine
from brainsim.network.build import build_local_network
from brainsim.network.inputs import ms_to_steps
from brainsim.network.partition import make_partition
from brainsim.network.plasticity import PostHistory
from brainsim.spec import load_model
from cli_runner import DATA, run_ok as run, spike_bytes

MODEL = os.path.join(DATA, "stdp_network.yaml")


def final_plastic(outdir: str) -> dict:
    """Plastic weights of the last checkpoint, by (target gid, CSR order), and traces."""
    (ckpt,) = sorted(glob.glob(os.path.join(outdir, "checkpoints", "ckpt_*")))[-1:]
    parts: dict = {}
    for shard in sorted(glob.glob(os.path.join(ckpt, "rank_*.h5"))):
        with h5py.File(shard, "r") as f:
            group = f["plastic/p0"]
            parts.setdefault("target", []).append(group["target_gid"][()])
            parts.setdefault("source", []).append(group["source_gid"][()])
            parts.setdefault("weight", []).append(group["weight"][()])
            parts["kplus"] = group["kplus"][()]
            parts["t_last"] = group["t_last"][()]
    target = np.concatenate(parts["target"])
    order = np.argsort(target, kind="stable")
    return {"target": target[order], "source": np.concatenate(parts["source"])[order],
            "weight": np.concatenate(parts["weight"])[order], "kplus": parts["kplus"],
            "t_last": parts["t_last"]}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("stdp")
    out = {}
    for name, ranks in (("n1", 1), ("n3", 3)):
        outdir = str(base / name)
        run(["run", MODEL, "-o", outdir, "--no-progress", "--checkpoint-at-end"], ranks)
        out[name] = outdir
    for name, after in (("resumed", 3), ("resumed_same", 2)):
        outdir = str(base / name)
        run(["run", MODEL, "-o", outdir, "--no-progress", "--set", "simulation.t_sim=100",
             "--checkpoint-at-end"], 2)
        run(["resume", outdir, "--no-progress", "--set", "simulation.t_sim=200",
             "--checkpoint-at-end"], after)
        out[name] = outdir
    return out


def test_plasticity_changes_weights(runs):
    plastic = final_plastic(runs["n1"])
    model = load_model(MODEL)
    network = build_local_network(model, make_partition(model, 1), 0)
    (proj,) = network.plastic
    order, targets, sources = proj.synapse_order(network.local_gids)
    assert np.array_equal(targets, plastic["target"])
    assert np.array_equal(sources, plastic["source"])
    initial = proj.weight[order]
    changed = plastic["weight"] != initial
    assert changed.mean() > 0.5, "STDP must move most weights"
    assert np.any(plastic["weight"] > initial) and np.any(plastic["weight"] < initial)
    assert np.any(plastic["t_last"] > 0) and np.any(plastic["kplus"] > 0)


def test_post_history_growth_and_pruning_do_not_change_results():
    """A ring that starts with room for one spike (grows, prunes) gives the same weights."""
    model = load_model(MODEL)
    results = []
    for capacity in (1, 64):
        network = build_local_network(model, make_partition(model, 1), 0)
        history = network.post_history
        network.post_history = PostHistory(history.local_gids, history.archiving,
                                           history.tau_minus, history.dt, capacity=capacity)
        engine = Engine(network, SerialComm(), model.simulation.seed, model.simulation.dt)
        engine.run_until(ms_to_steps(100.0, model.simulation.dt))
        results.append((network.plastic[0].weight.copy(), network.post_history))
    assert results[0][0].tobytes() == results[1][0].tobytes()
    assert results[0][1].step.shape[1] > 1, "the small ring must have grown"
    # pruning (only when a ring is full) keeps the newest entries: a suffix of the other's
    assert np.all(results[0][1].count <= results[1][1].count)
    small, big = results[0][1].export(), results[1][1].export()
    ends_small, ends_big = np.cumsum(small[0]), np.cumsum(big[0])
    for i in np.flatnonzero(small[0]):
        n = small[0][i]
        assert np.array_equal(small[1][ends_small[i] - n:ends_small[i]],
                              big[1][ends_big[i] - n:ends_big[i]])
        assert np.array_equal(small[2][ends_small[i] - n:ends_small[i]],
                              big[2][ends_big[i] - n:ends_big[i]])


def test_one_and_three_ranks_identical(runs):
    assert spike_bytes(runs["n1"]) == spike_bytes(runs["n3"])
    a, b = final_plastic(runs["n1"]), final_plastic(runs["n3"])
    for key in a:
        assert a[key].tobytes() == b[key].tobytes(), key


@pytest.mark.parametrize("resumed", ["resumed", "resumed_same"])   # 2 -> 3 and 2 -> 2 ranks
def test_resume_equals_uninterrupted(runs, resumed):
    assert spike_bytes(runs[resumed]) == spike_bytes(runs["n1"])
    a, b = final_plastic(runs["n1"]), final_plastic(runs[resumed])
    for key in a:
        assert a[key].tobytes() == b[key].tobytes(), key
