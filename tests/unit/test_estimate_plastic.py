"""The memory estimate (brainsim info, the memory guard) counts plastic projections: their
synapses (14 B each, as static ones), their row_ptr, per-source state (replicated on every
rank) and the postsynaptic spike histories - equal to the arrays a build allocates."""
from __future__ import annotations

import os

import numpy as np
import yaml

from brainsim.network.build import build_local_network
from brainsim.network.estimate import BYTES_PER_SYNAPSE, estimate_memory, plastic_bytes
from brainsim.network.partition import make_partition
from brainsim.spec import load_model

from cli_runner import DATA, MODELS, run_ok

HPC = os.path.join(MODELS, "hpc_benchmark.yaml")


def static_variant(tmp_path) -> str:
    """hpc_benchmark with its stdp_pl_synapse_hom projection made static."""
    with open(HPC) as handle:
        doc = yaml.safe_load(handle)
    doc["projections"][0]["synapse"] = {"weight": "JE_pA", "delay": "delay"}
    path = tmp_path / "hpc_static.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))   # parameters stay in order
    return str(path)


def built_plastic_bytes(network) -> int:
    """What the plastic part of a built network holds beyond its synapses' 14 B each."""
    total = sum(p.row_ptr.nbytes + sum(a.nbytes for a in p.per_source().values())
                for p in network.plastic)
    h = network.post_history
    if h is not None:
        total += sum(a.nbytes for a in (h.step, h.k, h.head, h.count, h.archiving,
                                        h.tau_minus))
    return total


def test_estimate_equals_the_built_arrays_of_hpc_benchmark():
    model = load_model(HPC, None, ["scale=0.01"])
    network = build_local_network(model, make_partition(model, 1), 0)
    assert network.plastic and network.post_history is not None
    assert plastic_bytes(model, 1) == built_plastic_bytes(network)
    synapses = network.synapses.num_synapses + sum(p.num_synapses for p in network.plastic)
    estimate = estimate_memory(model, 1)
    assert estimate.synapses_per_rank == synapses        # fixed in-degrees: exact
    assert estimate.synapse_mib * (1 << 20) == synapses * BYTES_PER_SYNAPSE
    assert estimate.plastic_mib * (1 << 20) == built_plastic_bytes(network)


def test_estimate_equals_the_built_arrays_of_every_plastic_model_on_any_ranks():
    """stdp_pl_synapse_hom, tsodyks_synapse and tsodyks2_synapse in one model, 1 and 3 ranks
    (per-source state on every rank, history rings split)."""
    model = load_model(os.path.join(DATA, "plasticity_network.yaml"))
    for ranks in (1, 3):
        built = sum(built_plastic_bytes(build_local_network(model, make_partition(model, ranks),
                                                            rank)) for rank in range(ranks))
        assert plastic_bytes(model, ranks) * ranks == built


def test_estimate_grows_with_the_plastic_part(tmp_path):
    overrides = ["scale=0.1"]
    plastic = load_model(HPC, None, overrides)
    static = load_model(static_variant(tmp_path), None, overrides)
    for ranks in (1, 4):
        with_stdp, without = estimate_memory(plastic, ranks), estimate_memory(static, ranks)
        assert without.plastic_mib == 0.0
        assert with_stdp.synapses_per_rank == without.synapses_per_rank
        assert with_stdp.plastic_mib > 0.0
        assert np.isclose(with_stdp.total_mib - without.total_mib, with_stdp.plastic_mib)
    neurons = plastic.num_neurons
    sources = plastic.populations[0].size
    # row_ptr and Kplus / t_last are on every rank; the history rings are split
    expected = 8 * (neurons + 1) + 16 * sources + neurons / 4 * (8 * 16 + 25)
    assert plastic_bytes(plastic, 4) == expected


def test_info_prints_the_plastic_state():
    done = run_ok(["info", HPC, "--set", "scale=0.1"])
    assert "plastic state 0.2" in done.stdout
