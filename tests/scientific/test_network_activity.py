"""Published activity: PD14 at 10 % scale matches NEST's population rates; Brunel 2000 is
in the asynchronous irregular regime. Both run on 2 MPI ranks as users run them."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from brainsim.io.sonata_spikes import read_spikes
from cli_runner import MODELS, REPO, run_brainsim

with open(os.path.join(REPO, "tests", "reference", "pd14_nest_rates.json")) as handle:
    NEST_RATES = json.load(handle)


def run_model(model: str, outdir, *overrides: str) -> dict:
    args = ["run", os.path.join(MODELS, model), "-o", str(outdir), "--no-progress"]
    for override in overrides:
        args += ["--set", override]
    done = run_brainsim(args, ranks=2, timeout=600)
    assert done.returncode == 0, done.stderr
    with open(os.path.join(outdir, "run.json")) as handle:
        return json.load(handle)


def cv_isi(timestamps: np.ndarray, node_ids: np.ndarray, min_spikes: int = 5) -> np.ndarray:
    """Coefficient of variation of the inter-spike intervals of each neuron with enough spikes."""
    order = np.lexsort((timestamps, node_ids))
    ids, times = node_ids[order], timestamps[order]
    values = []
    for neuron in np.unique(ids):
        isi = np.diff(times[ids == neuron])
        if isi.size + 1 >= min_spikes:
            values.append(isi.std() / isi.mean())
    return np.array(values)


def test_pd14_at_ten_percent_matches_nest_rates(tmp_path):
    meta = run_model("potjans_diesmann_2014.yaml", tmp_path / "pd14", "scale=0.1",
                     "simulation.t_sim=1500", "simulation.warmup=500")
    nest = np.mean(list(NEST_RATES["scale_0.1"].values()), axis=0)
    ours = np.array([meta["rates_hz"][p] for p in NEST_RATES["populations"]])
    relative = ours / nest - 1.0
    assert np.all(np.abs(relative) <= 0.20), dict(zip(NEST_RATES["populations"], relative))
    assert meta["num_synapses"] == 2_988_807


def test_brunel_is_asynchronous_irregular(tmp_path):
    outdir = tmp_path / "brunel"
    meta = run_model("brunel_2000.yaml", outdir, "simulation.t_sim=600")
    rate = meta["rates_hz"]["E"]
    assert 15.0 < rate < 40.0, rate        # NEST 3.10, same parameters: 26.3 Hz
    timestamps, node_ids = read_spikes(os.path.join(outdir, "spikes.h5"))["E"]
    later = timestamps > 100.0
    cvs = cv_isi(timestamps[later], node_ids[later])
    assert cvs.size > 1000
    assert np.mean(cvs) > 0.8
