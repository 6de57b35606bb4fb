"""Rank 0's spike recorder: every epoch's exchanged spikes, to SONATA, in bounded memory.

After the Allgatherv exchange rank 0 already holds every spike of the epoch, sorted by
(lag, gid), i.e. by time then gid: recording costs no extra communication, and the file is
sorted by time by construction. Spikes are buffered as (step, gid) and flushed per
population when the buffer fills. Per-population counts in a time window give the rate table.

The rate window is (warmup, t_sim], or the whole run (0, t_sim] when the warm-up is not
shorter than the run. Counts from the start are kept as well, so a resumed run whose new
t_sim moves the window across the warm-up still gets exact counts.
"""
from __future__ import annotations

import numpy as np

from brainsim.network.inputs import ms_to_steps

GID_MASK = np.uint64(0xFFFFFFFF)


def rate_window_steps(simulation) -> tuple[int, int]:
    """(first, stop] in steps of the rate table: spikes stamped first < stamp <= stop count.

    (warmup, t_sim] normally; (0, t_sim], the whole run, when the warm-up (ms) is not
    shorter than the run (a short run of a model whose warm-up is meant for long ones)."""
    first = ms_to_steps(simulation.warmup, simulation.dt)
    stop = ms_to_steps(simulation.t_sim, simulation.dt)
    return (first if first < stop else 0), stop


def warmup_covers_run(simulation) -> bool:
    """True when the rate table covers the whole run because the warm-up is not shorter."""
    return simulation.warmup > 0 and rate_window_steps(simulation)[0] == 0


def counts_at_checkpoint(saved: dict, first_step: int, checkpoint_step: int):
    """Per-population spike counts with stamps in (first_step, checkpoint_step], from a
    checkpoint manifest's "recorder" entry; None when the checkpoint cannot tell (its counts
    started at another step that lies before the checkpoint: a changed warm-up)."""
    if first_step >= checkpoint_step:
        return np.zeros(len(saved["counts_from_start"]), dtype=np.int64)
    if first_step == 0:
        return np.asarray(saved["counts_from_start"], dtype=np.int64)
    if first_step == saved["window_first_step"]:
        return np.asarray(saved["counts_in_window"], dtype=np.int64)
    return None


class SpikeRecorder:
    """Buffers (emission step, gid) pairs and writes them per population on flush.

    writer: anything with append(population, timestamps_ms, node_ids) (SpikeSegments,
            SpikeFileWriter), or None to count only.
    step_to_ms: converts the spike's stamp (emission step + 1, NEST's convention) to ms.
    rate_window_steps: (first, stop] of stamps counted for the rate table
                       (see rate_window_steps()).
    """

    def __init__(self, writer, population_offsets: np.ndarray,
                 population_names: list[str], recorded: set[str], step_to_ms,
                 rate_window_steps: tuple[int, int], capacity: int = 1_000_000):
        self.writer = writer
        self.offsets = np.asarray(population_offsets, dtype=np.int64)   # len = pops + 1
        self.names = population_names
        self.recorded = recorded
        self.step_to_ms = step_to_ms
        self.rate_window_steps = rate_window_steps
        self._stamps = np.zeros(capacity, dtype=np.int64)
        self._gids = np.zeros(capacity, dtype=np.int64)
        self._filled = 0
        self.counts_in_window = np.zeros(len(population_names), dtype=np.int64)
        self.counts_from_start = np.zeros(len(population_names), dtype=np.int64)
        self.activity = None        # engine.population_activity.PopulationActivity
        self.total_spikes = 0

    def saved_counts(self) -> dict:
        """The counters a checkpoint keeps (JSON-ready); call after flush()."""
        return {"counts_in_window": self.counts_in_window.tolist(),
                "window_first_step": int(self.rate_window_steps[0]),
                "counts_from_start": self.counts_from_start.tolist(),
                "total_spikes": int(self.total_spikes)}

    def restore(self, saved: dict, checkpoint_step: int) -> None:
        """Resume: the counts up to the checkpoint (its spikes are already on disk), for this
        run's rate window, which a changed t_sim may have moved (the caller has checked with
        counts_at_checkpoint() that the checkpoint can tell)."""
        counts = counts_at_checkpoint(saved, self.rate_window_steps[0], checkpoint_step)
        if counts is None:
            raise ValueError(f"the checkpoint's rate counts start at step "
                             f"{saved['window_first_step']}, not {self.rate_window_steps[0]}")
        self.counts_in_window[:] = counts
        self.counts_from_start[:] = saved["counts_from_start"]
        self.total_spikes = int(saved["total_spikes"])

    def record(self, keys: np.ndarray, epoch_first_step: int) -> None:
        count = keys.shape[0]
        if count == 0:
            return
        if self._filled + count > self._stamps.shape[0]:
            self.flush()
            if count > self._stamps.shape[0]:
                self._stamps = np.zeros(count, dtype=np.int64)
                self._gids = np.zeros(count, dtype=np.int64)
        end = self._filled + count
        np.right_shift(keys, 32, out=self._stamps[self._filled:end], casting="unsafe")
        self._stamps[self._filled:end] += epoch_first_step + 1
        np.bitwise_and(keys, GID_MASK, out=self._gids[self._filled:end], casting="unsafe")
        self._filled = end

    def flush(self) -> None:
        stamps, gids = self._stamps[:self._filled], self._gids[:self._filled]
        self.total_spikes += stamps.shape[0]
        population = np.searchsorted(self.offsets, gids, side="right") - 1
        first, stop = self.rate_window_steps
        in_window = (stamps > first) & (stamps <= stop)
        self.counts_in_window += np.bincount(population[in_window],
                                             minlength=len(self.names))
        self.counts_from_start += np.bincount(population[stamps <= stop],
                                              minlength=len(self.names))
        if self.activity is not None:
            self.activity.count_spikes(stamps, population)
        if self.writer is not None:
            for index, name in enumerate(self.names):
                if name not in self.recorded:
                    continue
                mine = population == index
                if mine.any():
                    self.writer.append(name, self.step_to_ms(stamps[mine]),
                                       (gids[mine] - self.offsets[index]).astype(np.uint64))
        self._filled = 0
