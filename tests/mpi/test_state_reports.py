"""Sampled state (SONATA frame reports): identical on any number of ranks, NEST's
voltmeter timing, readable by libsonata."""
from __future__ import annotations

import os

import h5py
import numpy as np
import pytest

from brainsim.io.sonata_report import read_report
from cli_runner import DATA, run_brainsim

MODEL = os.path.join(DATA, "small_network.yaml")
RECORD = ("recording.state=[{population: E, variables: [V_m, i_syn_in], fraction: 0.1, "
          "interval: 0.3, start: 10, stop: 60}, {population: I, variables: [V_m]}]")


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    base = tmp_path_factory.mktemp("reports")
    result = {}
    for ranks in (1, 3):
        outdir = base / f"n{ranks}"
        done = run_brainsim(["run", MODEL, "-o", str(outdir), "--no-progress", "--set",
                             "simulation.t_sim=80", "--set", RECORD], ranks=ranks)
        assert done.returncode == 0, done.stderr
        result[ranks] = outdir
    return result


def test_reports_identical_on_1_and_3_ranks(outputs):
    for variable in ("V_m", "i_syn_in"):
        one = read_report(os.path.join(outputs[1], f"report_{variable}.h5"))
        three = read_report(os.path.join(outputs[3], f"report_{variable}.h5"))
        assert one.keys() == three.keys()
        for population in one:
            assert one[population]["data"].tobytes() == three[population]["data"].tobytes()
            assert np.array_equal(one[population]["node_ids"], three[population]["node_ids"])


def test_sampling_schedule_and_selection(outputs):
    report = read_report(os.path.join(outputs[3], "report_V_m.h5"))
    e_times = report["E"]["times"]
    # multiples of 0.3 ms in (10, 60]
    assert e_times[0] == pytest.approx(10.2, abs=1e-9) and e_times[-1] == pytest.approx(60.0, abs=1e-9)
    assert e_times.size == 167
    assert np.allclose(np.diff(e_times), 0.3)
    assert report["E"]["data"].shape == (e_times.size, 16)      # 10 % of 160 neurons
    assert list(report["I"]["node_ids"]) == list(range(41))     # whole population
    assert report["I"]["times"][0] == pytest.approx(1.0, abs=1e-9)
    assert report["I"]["times"].size == 80
    v = report["I"]["data"]
    assert np.all((v >= -80) & (v <= -50 + 1e-4))               # between reset and threshold
    with h5py.File(os.path.join(outputs[3], "report_V_m.h5"), "r") as f:
        assert f["report/E/data"].attrs["units"] == "mV"
        assert list(f["report/E/mapping/index_pointers"][()]) == list(range(17))


def test_readable_by_libsonata(outputs):
    libsonata = pytest.importorskip("libsonata", reason="libsonata not installed")
    reader = libsonata.ElementReportReader(os.path.join(outputs[1], "report_V_m.h5"))
    assert sorted(reader.get_population_names()) == ["E", "I"]
    population = reader["I"]
    assert population.data_units == "mV" and population.time_units == "ms"
    frame = population.get(node_ids=[0, 40], tstart=1.0, tstop=1.0)
    ours = read_report(os.path.join(outputs[1], "report_V_m.h5"))["I"]["data"]
    assert np.allclose(np.asarray(frame.data)[0], ours[0, [0, 40]])
