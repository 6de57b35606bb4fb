"""A small network read from a SONATA edges file, with a spike_generator and a DC input,
gives NEST 3.10's spike times exactly for 300 ms, on 1 and 3 ranks.

Reference: tests/reference/nest_sonata_network.json, made by
tests/reference/make_nest_sonata_network.py (pip install nest-simulator).
"""
from __future__ import annotations

import json
import os

import numpy as np
import pytest
import yaml

from brainsim.io.sonata_edges import write_edges
from brainsim.io.sonata_spikes import read_spikes
from cli_runner import REPO, run_brainsim

with open(os.path.join(REPO, "tests", "reference", "nest_sonata_network.json")) as handle:
    REFERENCE = json.load(handle)


def model_document(edges_file: str) -> dict:
    ref = REFERENCE
    generator, dc = ref["spike_generator"], ref["dc_generator"]
    populations = [{"name": name, "size": size, "model": "iaf_psc_exp", "params": ref["params"]}
                   for name, size in ref["sizes"].items()]
    projections = [{"source": item["source"], "target": item["target"],
                    "rule": {"name": "sonata", "edges_file": edges_file,
                             "edge_population": name}}
                   for name, item in ref["edges"].items()]
    inputs = [{"type": "spike_generator", "target": "E", "weight": generator["weight"],
               "delay": generator["delay"],
               "per_neuron": {"node_ids": generator["node_ids"], "times": generator["times"]}}]
    inputs += [{"type": "dc", "target": name, "amplitude": dc["amplitude"], "start": dc["start"],
                "stop": dc["stop"], "delay": dc["delay"]} for name in ref["sizes"]]
    return {"name": "nest_sonata_network",
            "simulation": {"dt": 0.1, "t_sim": ref["t_sim_ms"], "seed": 1},
            "populations": populations, "projections": projections, "inputs": inputs}


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    base = tmp_path_factory.mktemp("sonata_nest")
    edges_file = str(base / "edges.h5")
    for name, item in REFERENCE["edges"].items():
        write_edges(edges_file, name, item["source_ids"], item["target_ids"], item["weights"],
                    item["delays"], source_population=item["source"],
                    target_population=item["target"],
                    num_source_nodes=REFERENCE["sizes"][item["source"]],
                    num_target_nodes=REFERENCE["sizes"][item["target"]])
    path = base / "model.yaml"
    path.write_text(yaml.safe_dump(model_document("edges.h5"), sort_keys=False))
    return path


@pytest.mark.parametrize("ranks", [1, 3])
def test_spike_times_equal_nest(model_path, tmp_path, ranks):
    outdir = tmp_path / "out"
    done = run_brainsim(["run", str(model_path), "-o", str(outdir), "--no-progress"],
                        ranks=ranks)
    assert done.returncode == 0, done.stderr
    ours = read_spikes(str(outdir / "spikes.h5"))
    for name, nest in REFERENCE["spikes"].items():
        times, ids = ours[name]
        assert len(nest["times"]) > 50, "the reference population must be active"
        order = np.lexsort((ids, times))
        steps = np.rint(times[order] / 0.1).astype(int)
        assert steps.tolist() == nest["steps"], name
        assert ids[order].tolist() == nest["node_ids"], name
