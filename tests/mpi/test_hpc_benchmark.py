"""NEST's hpc_benchmark network (power-law STDP between excitatory neurons) runs under MPI,
with its numbers derived as NEST's script derives them."""
from __future__ import annotations

import json
import math
import os

import pytest

from brainsim.spec import load_model
from cli_runner import MODELS, run_brainsim

MODEL = os.path.join(MODELS, "hpc_benchmark.yaml")


def test_derived_numbers_equal_nests_script():
    model = load_model(MODEL)
    assert [p.size for p in model.populations] == [9000, 2250]
    assert sum(p.indegree * model.populations[p.target].size for p in model.projections) \
        == 126_562_500
    stdp = model.projections[0]
    assert stdp.synapse_model == "stdp_pl_synapse_hom"
    # NEST: JE_pA = 0.14 mV / v_max with v_max from the Lambert-W rise time (1.700759 ms)
    assert stdp.weight.value == pytest.approx(45.609600316540956, rel=1e-12)
    assert model.poisson_inputs[0].rate == pytest.approx(20856.037200898867, rel=1e-12)
    assert math.isclose(model.projections[1].weight.value, -5 * stdp.weight.value)


def test_small_scale_runs_on_two_ranks(tmp_path):
    outdir = tmp_path / "hpc"
    done = run_brainsim(["run", MODEL, "-o", str(outdir), "--no-progress", "--set", "scale=0.1",
                         "--set", "simulation.t_sim=60", "--set", "simulation.warmup=20"],
                        ranks=2, timeout=300)
    assert done.returncode == 0, done.stderr
    with open(outdir / "run.json") as handle:
        meta = json.load(handle)
    assert meta["ranks"] == 2 and meta["num_synapses"] == 1125 * 11250
    assert meta["rates_hz"]["E"] > 0.0
