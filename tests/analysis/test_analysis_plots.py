"""Figures are rendered with content: files of some size, the raster holds the spikes."""
from __future__ import annotations

import os

import h5py
import numpy as np
import pytest

pytest.importorskip("matplotlib", reason="figures need matplotlib (pip install matplotlib)")

from brainsim.analysis import analyse, find_reports, read_traces  # noqa: E402
from brainsim.analysis.plots import (make_figures, plot_distributions,  # noqa: E402
                                     plot_population_rates, plot_raster, plot_traces)
from brainsim.analysis.run_output import SpikeFile  # noqa: E402


def raster_points(figure) -> int:
    return sum(len(c.get_offsets()) for c in figure.axes[0].collections)


def test_raster_shows_every_spike_of_the_sampled_neurons(synthetic_output):
    analysis = analyse(synthetic_output)
    with SpikeFile(os.path.join(synthetic_output, "spikes.h5")) as spikes:
        expected = sum(spikes.read_window(name, 500.0, 1500.0)[0].size for name in ("E", "I"))
    figure = plot_raster(analysis, sample=1000)            # more than any population has
    assert raster_points(figure) == expected > 0
    assert [t.get_text() for t in figure.axes[0].get_yticklabels()] == ["E", "I"]
    assert figure.axes[0].get_xlabel() == "time (ms)"
    sampled = raster_points(plot_raster(analysis, sample=10))
    assert 0 < sampled < expected


def test_figures_are_written_as_png_and_pdf(synthetic_output, tmp_path):
    analysis = analyse(synthetic_output)
    paths = make_figures(analysis, str(tmp_path / "figs"), ("png", "pdf"), sample=50)
    names = sorted(os.path.basename(p) for p in paths)
    assert names == sorted(f"{stem}.{fmt}" for stem in ("raster", "population_rates",
                                                       "distributions") for fmt in ("png", "pdf"))
    for path in paths:
        assert os.path.getsize(path) > 10_000, path


def test_rate_and_distribution_figures_have_a_row_per_population(synthetic_output):
    analysis = analyse(synthetic_output)
    rates = plot_population_rates(analysis)
    assert len(rates.axes) == 4                              # 2 populations x (trace, PSD)
    assert all(len(axis.lines) >= 1 for axis in rates.axes)
    boxes = plot_distributions(analysis)
    assert [t.get_text() for t in boxes.axes[0].get_yticklabels()] == ["E", "I"]


def write_report(path, num_times=200, nodes=(0, 3, 7)):
    """A SONATA report in the layout the lead's state recording writes."""
    with h5py.File(path, "w") as f:
        group = f.create_group("report/E")
        data = np.tile(-70.0 + np.arange(len(nodes)), (num_times, 1)).astype(np.float32)
        data[:, 1] += np.sin(np.arange(num_times) / 10).astype(np.float32)
        group.create_dataset("data", data=data).attrs["units"] = "mV"
        mapping = group.create_group("mapping")
        mapping["node_ids"] = np.array(nodes, dtype=np.uint64)
        mapping["index_pointers"] = np.arange(len(nodes) + 1, dtype=np.uint64)
        mapping["element_ids"] = np.zeros(len(nodes), dtype=np.uint32)
        mapping["time"] = np.array([10.0, 10.0 + 0.5 * num_times, 0.5])
    return data


def test_vm_report_is_read_and_plotted(synthetic_output):
    path = os.path.join(synthetic_output, "report_V_m.h5")
    data = write_report(path)
    assert find_reports(synthetic_output) == [path]
    (traces,) = read_traces(path, max_neurons=2)
    assert (traces.population, traces.variable, traces.units) == ("E", "V_m", "mV")
    np.testing.assert_array_equal(traces.node_ids, [0, 3])
    np.testing.assert_array_equal(traces.values, data[:, :2])
    assert traces.times_ms[0] == 10.0 and traces.times_ms[1] == 10.5
    figure = plot_traces([traces])
    assert len(figure.axes[0].lines) == 2
    assert "V_m (mV)" in figure.axes[0].get_ylabel()
    written = make_figures(analyse(synthetic_output), os.path.join(synthetic_output, "a"),
                           ("png",))
    assert os.path.join(synthetic_output, "a", "traces_report_V_m.png") in written
