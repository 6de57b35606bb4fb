"""Neo export: one SpikeTrain per neuron, ms units, the window as t_start/t_stop."""
from __future__ import annotations

import numpy as np
import pytest

from brainsim.analysis import analyse, to_neo
from brainsim.analysis.run_output import SpikeFile


def test_to_neo_trains_match_the_file(synthetic_output):
    pytest.importorskip("neo", reason="neo not installed (pip install neo quantities)")
    import quantities as pq
    trains = to_neo(synthetic_output)
    assert list(trains) == ["E", "I"]
    assert [len(trains["E"]), len(trains["I"])] == [200, 50]
    first = trains["E"][0]
    assert first.units == pq.ms and first.t_start == 0 * pq.ms and first.t_stop == 2000 * pq.ms
    assert first.annotations["node_id"] == 0 and first.annotations["population"] == "E"
    assert all(trains["E"][i].size == 0 for i in range(190, 200))      # silent neurons
    with SpikeFile(f"{synthetic_output}/spikes.h5") as spikes:
        times, ids = spikes.read_window("I", 0.0, 2000.0)
    np.testing.assert_array_equal(trains["I"][7].magnitude, times[ids == 7])


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_elephant_cv_agrees_with_ours(synthetic_output):
    pytest.importorskip("neo", reason="neo not installed (pip install neo quantities)")
    statistics = pytest.importorskip("elephant.statistics", reason="elephant not installed")
    trains = to_neo(synthetic_output, window_ms=(500.0, 2000.0))
    ours = analyse(synthetic_output).populations["E"].cv_isi
    theirs = np.array([statistics.cv(statistics.isi(t)) if t.size >= 3 else np.nan
                       for t in trains["E"]])
    np.testing.assert_allclose(ours, theirs, equal_nan=True)


def test_missing_neo_names_the_install(monkeypatch, synthetic_output):
    import builtins
    real_import = builtins.__import__

    def no_neo(name, *args, **kwargs):
        if name == "neo":
            raise ImportError("No module named 'neo'", name="neo")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_neo)
    with pytest.raises(ImportError, match="pip install neo quantities"):
        to_neo(synthetic_output)
