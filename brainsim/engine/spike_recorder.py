"""Rank 0's spike recorder: every epoch's exchanged spikes, to SONATA, in bounded memory.

After the Allgatherv exchange rank 0 already holds every spike of the epoch, sorted by
(lag, gid), i.e. by time then gid: recording costs no extra communication, and the file is
sorted by time by construction. Spikes are buffered as (step, gid) and flushed per
population when the buffer fills. Per-population counts in a time window give the rate table.
"""
from __future__ import annotations

import numpy as np

GID_MASK = np.uint64(0xFFFFFFFF)


class SpikeRecorder:
    """Buffers (emission step, gid) pairs and writes them per population on flush.

    writer: anything with append(population, timestamps_ms, node_ids) (SpikeSegments,
            SpikeFileWriter), or None to count only.
    step_to_ms: converts the spike's stamp (emission step + 1, NEST's convention) to ms.
    rate_window_steps: [first, stop) of stamps counted for the rate table.
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
        self.activity = None        # engine.population_activity.PopulationActivity
        self.total_spikes = 0

    def restore(self, counts_in_window, total_spikes: int) -> None:
        """Resume: the counts up to the checkpoint (its spikes are already on disk)."""
        self.counts_in_window[:] = counts_in_window
        self.total_spikes = int(total_spikes)

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
