"""Population activity (spike counts per bin, exact mean V_m per population): the same on
any number of ranks, consistent with spikes.h5 and the V_m report, and continued exactly by
a resumed run."""
from __future__ import annotations

import os

import h5py
import numpy as np
import pytest

from brainsim.io.sonata_report import read_report
from brainsim.io.sonata_spikes import read_spikes
from cli_runner import DATA, run_brainsim

MODEL = os.path.join(DATA, "small_network.yaml")
RECORD = ["--set", "recording.population_activity={bin: 2.0, mean_V_m: 0.5}",
          "--set", "recording.state=[{population: I, variables: [V_m], interval: 0.5}]"]


def activity(outdir) -> dict:
    with h5py.File(os.path.join(outdir, "population_activity.h5"), "r") as f:
        return {f"{pop}/{name}": group[name][()] for pop, group in f["population_activity"].items()
                for name in ("spike_counts", "mean_V_m")}


def run(args, ranks):
    done = run_brainsim(args + RECORD + ["--no-progress"], ranks=ranks, timeout=300)
    assert done.returncode == 0, done.stderr
    return done


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    base = tmp_path_factory.mktemp("activity")
    for ranks in (1, 3):
        run(["run", MODEL, "-o", str(base / f"n{ranks}"), "--set", "simulation.t_sim=120"],
            ranks)
    return base


def test_identical_on_1_and_3_ranks(outputs):
    one, three = activity(outputs / "n1"), activity(outputs / "n3")
    assert one.keys() == three.keys()
    for key in one:
        assert one[key].tobytes() == three[key].tobytes(), key


def test_counts_match_spike_file(outputs):
    data = activity(outputs / "n3")
    spikes = read_spikes(os.path.join(outputs / "n3", "spikes.h5"))
    for pop, (times, _) in spikes.items():
        counts = data[f"{pop}/spike_counts"]
        assert counts.size == 60 and counts.sum() == times.size > 0
        # bins are (k*2, (k+1)*2] ms, numpy's [k*2, (k+1)*2): shift the grid times a little
        expected = np.histogram(times - 1e-6, bins=np.arange(0.0, 120.0 + 1e-9, 2.0))[0]
        assert np.array_equal(counts, expected)


def test_mean_v_m_equals_report_average(outputs):
    mean = activity(outputs / "n1")["I/mean_V_m"]
    report = read_report(os.path.join(outputs / "n1", "report_V_m.h5"))["I"]
    assert mean.size == report["data"].shape[0] == 240
    assert np.allclose(mean, report["data"].astype(np.float64).mean(axis=1), atol=1e-4)


def test_resumed_run_continues_exactly(outputs, tmp_path):
    outdir = str(tmp_path / "out")
    run(["run", MODEL, "-o", outdir, "--set", "simulation.t_sim=60", "--checkpoint-at-end"], 2)
    run(["resume", outdir, "--set", "simulation.t_sim=120"], 3)
    straight, resumed = activity(outputs / "n1"), activity(outdir)
    for key in straight:
        assert straight[key].tobytes() == resumed[key].tobytes(), key
