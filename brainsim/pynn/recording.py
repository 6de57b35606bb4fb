"""Recorder: PyNN's recording module reads spikes and sampled signals of the last run
(brainsim.pynn.execute.Results) through these hooks; ids are gids."""
from __future__ import annotations

import numpy as np
from pyNN import recording

from brainsim.pynn import simulator


class Recorder(recording.Recorder):
    _simulator = simulator

    def _record(self, variable, new_ids, sampling_interval=None):
        simulator.state.note_change("what is recorded")
        if variable.name != "spikes":
            interval = sampling_interval or self.sampling_interval
            self.sampling_interval = interval
            steps = interval / simulator.state.dt
            if abs(steps - round(steps)) > 1e-9:
                raise ValueError(f"sampling_interval {interval} ms: a multiple of the time "
                                 f"step {simulator.state.dt} ms is needed")

    def _results(self):
        return simulator.state.results

    def _get_spiketimes(self, ids, clear=False):
        population = self.population
        results = self._results()
        if results is None:
            return {int(i): np.zeros(0) for i in ids}
        times, local = results.spikes.get(population.brainsim_name, (np.zeros(0), np.zeros(0, int)))
        gids = local.astype(np.int64) + population.first_gid
        order = np.argsort(gids, kind="stable")
        gids, times = gids[order], times[order]
        wanted = np.asarray(sorted(int(i) for i in ids), dtype=np.int64)
        start = np.searchsorted(gids, wanted, "left")
        stop = np.searchsorted(gids, wanted, "right")
        return {int(g): times[a:b] for g, a, b in zip(wanted, start, stop)}

    def _get_all_signals(self, variable, ids, clear=False):
        population = self.population
        celltype = population.celltype
        native = celltype.variable_map[variable.name]
        scale = celltype.scale_factors.get(variable.name, 1.0)
        local = np.array([population.id_to_index(int(i)) for i in ids], dtype=np.int64)
        initial = population.initial_value_array(variable.name)[local] if local.size else []
        results = self._results()
        if results is None or local.size == 0:
            return np.asarray(initial, dtype=float)[np.newaxis, :], None
        times, values, node_ids = results.signals[(population.brainsim_name, native)]
        column = {int(n): k for k, n in enumerate(node_ids)}
        sampled = values[:, [column[int(i)] for i in local]] * scale
        return np.vstack([np.asarray(initial, dtype=float)[np.newaxis, :], sampled]), None

    def _local_count(self, variable, filter_ids=None):
        counts = self._get_spiketimes(self.filter_recorded(variable, filter_ids))
        return {gid: times.size for gid, times in counts.items()}

    def _clear_simulator(self):
        pass

    def _reset(self):
        pass
