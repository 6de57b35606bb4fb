"""Population-level recordings that cost little at any scale (OUTDIR/population_activity.h5).

- spike counts per population and time bin, counted on rank 0 from the exchanged spikes it
  already holds (every population, recorded or not);
- the mean membrane potential of each population at a fixed interval, summed exactly: each
  rank adds its neurons' V_m as integers of 1e-9 mV (order-independent, so the result is
  bit-identical on any number of ranks), rank 0 adds the ranks' sums.

Memory: 4 bytes per population and bin plus 8 per population and V_m sample, on rank 0.
"""
from __future__ import annotations

import numpy as np

from brainsim.spec.neuron_params import stored_offsets
from brainsim.timesteps import steps_on_grid

FIXED_POINT = 1e9          # V_m units per mV in the exact sums


class PopulationActivity:
    def __init__(self, model, network, comm):
        sim = model.simulation
        recording = model.recording
        self.comm = comm
        self.network = network
        self.names = [p.name for p in model.populations]
        self.sizes = np.array([p.size for p in model.populations], dtype=np.int64)
        stop_step = steps_on_grid(sim.t_sim, sim.dt)
        self.dt = sim.dt
        self.bin_steps = (steps_on_grid(recording.activity_bin, sim.dt)
                          if recording.activity_bin else 0)
        self.mean_steps = (steps_on_grid(recording.mean_V_m_interval, sim.dt)
                           if recording.mean_V_m_interval else 0)
        num_pops = len(self.names)
        rank0 = comm.rank == 0
        num_bins = -(-stop_step // self.bin_steps) if self.bin_steps else 0
        num_samples = stop_step // self.mean_steps if self.mean_steps else 0
        self.counts = np.zeros((num_pops, num_bins if rank0 else 0), dtype=np.int32)
        self.mean_sums = np.zeros((num_pops, num_samples if rank0 else 0), dtype=np.int64)
        self.samples_done = 0
        self._pending: list[tuple[int, np.ndarray]] = []
        # Local neurons are in gid order, so each population is one contiguous local range.
        populations = network.population_of_local
        present = np.unique(populations)
        self._present = present.astype(np.int64)
        self._starts = np.searchsorted(populations, present).astype(np.int64)
        # what makes the stored V_m absolute (E_L where the model keeps V_m relative to it)
        # (per neuron: E_L may vary within a population, spec/neuron_params.py)
        self._e_l_local = np.zeros(populations.shape[0])
        for p in model.populations:
            mask = populations == p.index
            if mask.any():
                offsets = stored_offsets(model.neuron_model_of(p), "V_m", p)
                self._e_l_local[mask] = offsets[network.local_gids[mask] - p.offset]

    @property
    def records_mean(self) -> bool:
        return self.mean_steps > 0

    # --- spike counts (rank 0, from the spike recorder's flush) ------------------------------
    def count_spikes(self, stamps: np.ndarray, population: np.ndarray) -> None:
        """stamps: spike time in steps ((emission step + 1), NEST's stamp); bin k holds
        stamps in (k * bin, (k + 1) * bin]."""
        if not self.bin_steps or stamps.size == 0:
            return
        bins = (stamps - 1) // self.bin_steps
        inside = bins < self.counts.shape[1]
        np.add.at(self.counts, (population[inside], bins[inside]), 1)

    # --- mean V_m (every rank) -------------------------------------------------------------
    def sample_points(self, first_step: int, num_steps: int) -> list[int]:
        if not self.mean_steps:
            return []
        first = (first_step // self.mean_steps + 1) * self.mean_steps
        return list(range(first, first_step + num_steps + 1, self.mean_steps))

    def take(self, step_after: int) -> None:
        if not self.mean_steps or step_after % self.mean_steps:
            return
        values = np.rint((self.network.state["V_m"] + self._e_l_local) * FIXED_POINT)
        sums = np.zeros(len(self.names), dtype=np.int64)
        if self._starts.size:
            sums[self._present] = np.add.reduceat(values.astype(np.int64), self._starts)
        self._pending.append((step_after // self.mean_steps - 1, sums))

    def pending(self) -> int:
        return len(self._pending)

    def flush(self) -> None:
        """Collective: add every rank's exact sums on rank 0."""
        if not self.mean_steps:
            return
        gathered = self.comm.gather(self._pending)
        self._pending = []
        if self.comm.rank != 0:
            return
        for part in gathered:
            for index, sums in part:
                if index < self.mean_sums.shape[1]:
                    self.mean_sums[:, index] += sums

    # --- files (rank 0) ----------------------------------------------------------------------
    def save(self, path: str) -> None:
        """The arrays so far, into a checkpoint directory or the final output file."""
        import h5py
        with h5py.File(path, "w") as out:
            for index, name in enumerate(self.names):
                group = out.create_group(f"population_activity/{name}")
                group.attrs["size"] = int(self.sizes[index])
                if self.bin_steps:
                    counts = group.create_dataset("spike_counts", data=self.counts[index])
                    counts.attrs["bin_ms"] = self.bin_steps * self.dt
                    counts.attrs["description"] = "spikes in (k*bin, (k+1)*bin] ms"
                if self.mean_steps:
                    mean = self.mean_sums[index] / FIXED_POINT / self.sizes[index]
                    data = group.create_dataset("mean_V_m", data=mean)
                    data.attrs["units"] = "mV"
                    data.attrs["interval_ms"] = self.mean_steps * self.dt
                    group.create_dataset("V_m_sum_fixed_point", data=self.mean_sums[index])

    def restore(self, path: str) -> None:
        import h5py
        with h5py.File(path, "r") as saved:
            for index, name in enumerate(self.names):
                group = saved["population_activity"][name]
                if self.bin_steps and "spike_counts" in group:
                    counts = group["spike_counts"][()]
                    n = min(counts.size, self.counts.shape[1])
                    self.counts[index, :n] = counts[:n]
                if self.mean_steps and "V_m_sum_fixed_point" in group:
                    sums = group["V_m_sum_fixed_point"][()]
                    n = min(sums.size, self.mean_sums.shape[1])
                    self.mean_sums[index, :n] = sums[:n]
