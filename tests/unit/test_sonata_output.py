"""spikes.h5 follows the SONATA spike-file layout and carries the run's provenance."""
from __future__ import annotations

import json
import os

import h5py
import numpy as np
import pytest

from cli_runner import DATA, run_brainsim


@pytest.fixture(scope="module")
def output(tmp_path_factory):
    outdir = tmp_path_factory.mktemp("sonata") / "out"
    done = run_brainsim(["run", os.path.join(DATA, "small_network.yaml"), "--set",
                         "simulation.t_sim=100", "-o", str(outdir), "--no-progress"], ranks=2)
    assert done.returncode == 0, done.stderr
    return outdir


def test_layout_and_types(output):
    with h5py.File(output / "spikes.h5", "r") as f:
        assert f.attrs["magic"] == 0x0A7A and f.attrs["magic"].dtype == np.uint32
        assert list(f.attrs["version"]) == [0, 1]
        assert sorted(f["spikes"]) == ["E", "I"]
        for name, size in (("E", 160), ("I", 41)):
            group = f["spikes"][name]
            assert h5py.check_enum_dtype(group.attrs.get_id("sorting").dtype) == {
                "none": 0, "by_id": 1, "by_time": 2}
            assert group.attrs["sorting"] == 2
            times, ids = group["timestamps"], group["node_ids"]
            assert times.dtype == np.float64 and ids.dtype == np.uint64
            assert times.attrs["units"] == "ms"
            assert times.compression is None     # libsonata cannot read compressed spikes
            t = times[()]
            assert t.size > 0 and np.all(np.diff(t) >= 0)            # sorted by time
            assert ids[()].max() < size                               # population-local ids
            assert np.all(np.abs(t * 10 - np.round(t * 10)) < 1e-9)  # on the 0.1 ms grid


def test_provenance(output):
    with open(output / "run.json") as handle:
        meta = json.load(handle)
    with h5py.File(output / "spikes.h5", "r") as f:
        attrs = dict(f.attrs)
    for key in ("model_hash", "seed", "ranks", "dt_ms", "build_s", "simulate_s",
                "real_time_factor"):
        assert key in attrs and key in meta
    assert meta["ranks"] == 2 and len(meta["peak_rss_mib_per_rank"]) == 2
    assert meta["seed"] == 1234 and len(meta["model_hash"]) == 64


def test_readable_by_libsonata(output):
    libsonata = pytest.importorskip("libsonata", reason="libsonata not installed")
    reader = libsonata.SpikeReader(str(output / "spikes.h5"))
    assert sorted(reader.get_population_names()) == ["E", "I"]
    population = reader["E"]
    assert population.sorting == "by_time"
    with h5py.File(output / "spikes.h5", "r") as f:
        assert len(population.get()) == f["spikes/E/timestamps"].shape[0]


def test_readable_by_bmtk(output):
    spike_trains = pytest.importorskip("bmtk.utils.reports.spike_trains",
                                       reason="bmtk not installed")
    trains = spike_trains.SpikeTrains.load(str(output / "spikes.h5"))
    assert sorted(trains.populations) == ["E", "I"]
    with h5py.File(output / "spikes.h5", "r") as f:
        for population in ("E", "I"):
            frame = trains.to_dataframe(populations=population)
            assert len(frame) == f[f"spikes/{population}/timestamps"].shape[0]
            assert np.array_equal(np.sort(frame["timestamps"].to_numpy()),
                                  f[f"spikes/{population}/timestamps"][()])
