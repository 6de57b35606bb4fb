"""The from_list rule: explicit synapses from rows, numpy arrays, .npy and PyNN text files.
A network built from a list equals the same network built by all_to_all / one_to_one
(same CSR, same spikes bit for bit), bad lists are refused at load with one line naming
the path, the model hash follows the list, and a run from a list resumes from its
checkpoint's stored document alone (the model file deleted), on another number of ranks."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest
import yaml

from brainsim.io.checkpoint import CheckpointError
from brainsim.io.document_arrays import restore_arrays, split_arrays, write_arrays
from brainsim.network.build import build_synapses
from brainsim.network.estimate import delay_extent_steps, expected_synapses
from brainsim.network.partition import Partition
from brainsim.spec import SpecError, load_model
from brainsim.spec.load import load_document
from cli_runner import run_brainsim, run_ok, spike_bytes

N_E, N_I = 12, 8
PARAMS = {"E_L": -65.0, "V_th": -50.0, "V_reset": -65.0, "tau_syn_ex": 0.5, "tau_syn_in": 0.5}


def document(rule: dict, synapse: dict | None = None, t_sim: float = 100.0) -> dict:
    """E and I driven by Poisson input; one projection E -> I by `rule`."""
    proj = {"source": "E", "target": "I", "rule": rule}
    if synapse is not None:
        proj["synapse"] = synapse
    return {
        "name": "from_list_test",
        "simulation": {"dt": 0.1, "t_sim": t_sim, "seed": 5},
        "populations": [{"name": "E", "size": N_E, "model": "iaf_psc_exp", "params": PARAMS},
                        {"name": "I", "size": N_I, "model": "iaf_psc_exp", "params": PARAMS}],
        "projections": [proj],
        "inputs": [{"type": "poisson", "target": "E", "rate": 30000.0, "weight": 30.0},
                   {"type": "poisson", "target": "I", "rate": 22000.0, "weight": 30.0}],
        "recording": {"spikes": "all"},
    }


def from_dict(doc: dict):
    """A document resolved in memory (as brainsim.load of a dict does)."""
    return load_document(doc)


def write(tmp_path, doc: dict, name: str = "model.yaml") -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return str(path)


def all_pairs_rows(weight: float, delay: float) -> list:
    """Every (source, target) pair in all_to_all's order: by target, then source."""
    return [[i, j, weight, delay] for j in range(N_I) for i in range(N_E)]


def csr(model, ranks: int = 1, rank: int = 0):
    syn = build_synapses(model, Partition(model.num_neurons, ranks), rank)
    return syn.row_ptr, syn.target, syn.weight, syn.delay_steps


def random_list(n: int = 200, seed: int = 1) -> dict:
    gen = np.random.default_rng(seed)
    return {"sources": gen.integers(0, N_E, n), "targets": gen.integers(0, N_I, n),
            "weights": gen.uniform(-80.0, 120.0, n), "delays": np.round(gen.uniform(0.1, 3, n), 1)}


def test_arrays_build_the_all_to_all_network():
    pairs = np.array(all_pairs_rows(0.0, 0.0))
    arrays = {"sources": pairs[:, 0].astype(np.int64), "targets": pairs[:, 1].astype(np.int64),
              "weights": 55.0, "delays": 1.5}
    listed = from_dict(document({"name": "from_list", "connections": arrays}))
    dense = from_dict(document({"name": "all_to_all"}, {"weight": 55.0, "delay": 1.5}))
    for a, b in zip(csr(listed), csr(dense)):
        assert np.array_equal(a, b)
    proj = listed.projections[0]
    assert expected_synapses(listed, proj) == N_E * N_I
    assert delay_extent_steps(listed) == (15, 15)


def test_list_and_all_to_all_spike_alike(tmp_path):
    listed = write(tmp_path, document({"name": "from_list",
                                       "connections": all_pairs_rows(40.0, 1.2)}), "list.yaml")
    dense = write(tmp_path, document({"name": "all_to_all"}, {"weight": 40.0, "delay": 1.2}),
                  "dense.yaml")
    run_ok(["run", listed, "-o", str(tmp_path / "list"), "--no-progress"])
    run_ok(["run", dense, "-o", str(tmp_path / "dense"), "--no-progress"])
    a, b = spike_bytes(tmp_path / "list"), spike_bytes(tmp_path / "dense")
    assert a == b and len(a["I/timestamps"]) > 0


def one_to_one_doc() -> dict:
    doc = document({"name": "one_to_one"}, {"weight": 300.0, "delay": 0.7})
    doc["populations"][1]["size"] = N_E
    return doc


def test_npy_and_pynn_text_files_equal_one_to_one(tmp_path):
    table = np.array([[k, k, 300.0, 0.7] for k in range(N_E)])
    np.save(tmp_path / "conn.npy", table)
    with open(tmp_path / "conn.txt", "w") as handle:   # as PyNN's Projection.save writes
        handle.write('# columns = ["i", "j", "delay", "weight"]\n# name = "p"\n')
        for i, j, w, d in table:
            handle.write(f"{i:g}\t{j:g}\t{float(d)!r}\t{float(w)!r}\n")
    reference = csr(from_dict(one_to_one_doc()))
    for name in ("conn.npy", "conn.txt"):
        doc = one_to_one_doc()
        doc["projections"][0] = {"source": "E", "target": "I", "rule": {
            "name": "from_list", "connections": {"file": name}}}
        model = load_model(write(tmp_path, doc))
        for a, b in zip(csr(model), reference):
            assert np.array_equal(a, b), name
        assert model.projections[0].from_list.file == str(tmp_path / name)


def test_two_columns_take_weight_and_delay_from_synapse():
    rows = [[i, i % N_I] for i in range(N_E)]
    model = from_dict(document({"name": "from_list", "connections": rows},
                               {"weight": 20.0, "delay": 2.0}))
    lists = model.projections[0].from_list
    assert np.all(lists.weights == 20.0) and np.all(lists.delays == 2.0)
    default = from_dict(document({"name": "from_list", "connections": rows},
                                 {"weight": 20.0}))
    assert np.all(default.projections[0].from_list.delays == 1.0)   # NEST's default delay


def test_hash_follows_the_list_and_not_its_form():
    arrays = random_list()
    rows = [list(r) for r in zip(*(arrays[k].tolist() for k in
                                   ("sources", "targets", "weights", "delays")))]
    a = from_dict(document({"name": "from_list", "connections": arrays}))
    b = from_dict(document({"name": "from_list", "connections": rows}))
    assert a.model_hash == b.model_hash
    changed = dict(arrays, weights=arrays["weights"].copy())
    changed["weights"][7] += 1e-9
    c = from_dict(document({"name": "from_list", "connections": changed}))
    assert c.model_hash != a.model_hash


def test_stored_document_with_arrays_rebuilds_the_model(tmp_path):
    """As a checkpoint stores it: the arrays beside the JSON, the rest in the JSON; put
    back and resolved as a dict, the same model (hash and CSR)."""
    model = from_dict(document({"name": "from_list", "connections": random_list()}))
    plain, arrays = split_arrays(model.document)
    assert len(arrays) == 4
    entry = write_arrays(str(tmp_path), arrays)
    restored = restore_arrays(json.loads(json.dumps(plain)), str(tmp_path), entry)
    again = load_document(restored)
    assert again.model_hash == model.model_hash
    for a, b in zip(csr(again), csr(model)):
        assert np.array_equal(a, b)
    with open(tmp_path / entry["file"], "r+b") as handle:
        handle.seek(-3, 2)
        handle.write(b"xyz")
    with pytest.raises(CheckpointError, match="checksum mismatch"):
        restore_arrays(plain, str(tmp_path), entry)


def test_resume_of_an_in_memory_list_on_two_ranks(tmp_path, mpiexec):
    """A dict document with numpy arrays run in this process with a checkpoint at 50 ms,
    resumed by the CLI on 2 ranks to 100 ms (no model file exists: the checkpoint's
    document and arrays stand alone) spikes like a straight 100 ms run of the same list."""
    from brainsim.cli import provenance
    from brainsim.engine.checkpointing import CheckpointPolicy
    from brainsim.engine.comm import make_comm
    from brainsim.engine.run import run_model
    arrays = random_list(300, seed=6)
    model = from_dict(document({"name": "from_list", "connections": arrays}, t_sim=50.0))
    out = tmp_path / "resumed"
    run_model(model, make_comm(), str(out), show_progress=False,
              policy=CheckpointPolicy(at_end=True, on_signal=False),
              provenance=provenance(model, str(tmp_path / "absent.yaml"), None, []))
    done = run_brainsim(["resume", str(out), "--set", "simulation.t_sim=100",
                         "--no-progress"], ranks=2)
    assert done.returncode == 0, done.stdout + done.stderr
    rule = {"name": "from_list", "connections": {k: v.tolist() for k, v in arrays.items()}}
    straight = write(tmp_path, document(rule), "straight.yaml")
    run_ok(["run", straight, "-o", str(tmp_path / "straight"), "--no-progress"])
    a, b = spike_bytes(out), spike_bytes(tmp_path / "straight")
    assert a == b and len(a["I/timestamps"]) > 0


def test_rank_parts_keep_list_order():
    """Each rank keeps the synapses onto its own targets, in list order: the rows of every
    rank together are the 1-rank rows (in-process ranks)."""
    model = from_dict(document({"name": "from_list", "connections": random_list(400)}))
    whole = csr(model)
    part = Partition(model.num_neurons, 3)
    for r in range(3):
        row_ptr, target, weight, steps = csr(model, 3, r)
        gids = part.local_gids(r)
        for s in range(model.num_neurons):
            mine = gids[target[row_ptr[s]:row_ptr[s + 1]]]
            lo, hi = whole[0][s], whole[0][s + 1]
            keep = np.isin(whole[1][lo:hi], mine)
            assert np.array_equal(whole[1][lo:hi][keep], mine)
            assert np.array_equal(whole[2][lo:hi][keep], weight[row_ptr[s]:row_ptr[s + 1]])


def refused(doc: dict) -> str:
    with pytest.raises(SpecError) as err:
        from_dict(doc)
    message = str(err.value)
    assert "\n" not in message
    return message


def rows_rule(rows) -> dict:
    return {"name": "from_list", "connections": rows}


@pytest.mark.parametrize("rule, synapse, fragments", [
    (rows_rule([[0, 1, 5.0, 1.0], [3, 8, 5.0, 1.0]]), None,
     ["projections[0].rule.connections[1][1]", "index 8", "[0, 8) of I"]),
    (rows_rule([[0, 1, 5.0, 1.0], [-1, 0, 5.0, 1.0]]), None,
     ["connections[1][0]", "index -1", "[0, 12) of E"]),
    (rows_rule([[0, 1.5, 5.0, 1.0]]), None, ["connections[0][1]", "integer"]),
    (rows_rule([[0, 1, float("nan"), 1.0]]), None, ["connections[0][2]", "finite weight"]),
    (rows_rule([[0, 1, 5.0, 0.04]]), None, ["connections[0][3]", ">= dt/2 = 0.05 ms"]),
    (rows_rule([[0, 1, 5.0, 1e4]]), None, ["connections[0][3]", "at most 65535 steps"]),
    (rows_rule([[0, 1, 5.0, 1.0], [0, 1, 5.0]]), None, ["connections[1]", "a row of 3"]),
    (rows_rule([[0, 1, "x", 1.0]]), None, ["connections[0][2]", "a number"]),
    (rows_rule([[0, 1, 5.0, 1.0]]), {"weight": 3.0},
     ["projections[0].synapse.weight", "listed weights alone"]),
    (rows_rule([[0, 1]]), {"delay": 1.0}, ["projections[0].synapse", "synapse.weight"]),
    (rows_rule("no"), None, ["projections[0].rule.connections", "a list of [i, j, weight"]),
    ({"name": "from_list"}, None, ["projections[0].rule", "missing key 'connections'"]),
    ({"name": "from_list", "connections": {"sources": [0, 1], "targets": [0]}}, {"weight": 1.0},
     ["connections.targets", "1 values for 2 sources"]),
    ({"name": "from_list", "connections": {"sources": np.zeros((2, 2)), "targets": [0, 1]}},
     {"weight": 1.0}, ["connections.sources", "1-D array"]),
    ({"name": "from_list", "connections": {"sources": [0], "targets": np.array([9])}},
     {"weight": 1.0}, ["connections.targets", "index 9"]),
    ({"name": "from_list", "connections": [[0, 1, -5.0, 1.0]]},
     {"model": "stdp_pl_synapse_hom"}, ["connections[0][2]", "weight -5.0; expected a weight >= 0"]),
])
def test_bad_lists_are_refused_at_the_path(rule, synapse, fragments):
    message = refused(document(rule, synapse))
    for fragment in fragments:
        assert fragment in message, message


def test_scaled_models_refuse_from_list():
    doc = document(rows_rule([[0, 1, 5.0, 1.0]]))
    doc["scale"] = 0.5
    assert "explicit connection list does not scale" in refused(doc)


def test_file_errors(tmp_path):
    def load_with(connections):
        doc = document({"name": "from_list", "connections": connections})
        with pytest.raises(SpecError) as err:
            load_model(write(tmp_path, doc))
        return str(err.value)
    assert "no such file" in load_with({"file": "absent.npy"})
    (tmp_path / "bad.txt").write_text("0 1 x 1\n")
    assert "bad.txt: unreadable" in load_with({"file": "bad.txt"})
    np.save(tmp_path / "wide.npy", np.zeros((3, 5)))
    assert "shape [3, 5]" in load_with({"file": "wide.npy"})
    (tmp_path / "cols.txt").write_text('# columns = ["i", "j", "weight"]\n0 1 2\n')
    assert "header columns" in load_with({"file": "cols.txt"})
    np.save(tmp_path / "far.npy", np.array([[0, 20, 1.0, 1.0]]))
    message = load_with({"file": "far.npy"})
    assert "connections.file" in message and "index 20" in message


def test_resume_from_the_stored_document_on_two_ranks(tmp_path, mpiexec):
    """50 ms with a checkpoint, the model file deleted, resumed to 100 ms on 2 ranks:
    the spikes equal a straight 100 ms run on 1 rank."""
    rule = {"name": "from_list", "connections": {
        k: v.tolist() for k, v in random_list(300, seed=4).items()}}
    straight = write(tmp_path, document(rule), "straight.yaml")
    run_ok(["run", straight, "-o", str(tmp_path / "straight"), "--no-progress"])
    first = write(tmp_path, document(rule, t_sim=50.0), "first.yaml")
    out = tmp_path / "resumed"
    run_ok(["run", first, "-o", str(out), "--checkpoint-at-end", "--no-progress"])
    os.remove(first)
    done = run_brainsim(["resume", str(out), "--set", "simulation.t_sim=100",
                         "--no-progress"], ranks=2)
    assert done.returncode == 0, done.stdout + done.stderr
    a, b = spike_bytes(out), spike_bytes(tmp_path / "straight")
    assert a == b and len(a["I/timestamps"]) > 0
