"""The engine loop: epochs of min_delay steps (docs/architecture.md §3).

Within an epoch no spike can reach any neuron (no delay is shorter than an epoch), so:
  1. update  — every neuron model advances all its local neurons through the epoch in one
               compiled call, appending (lag, gid) of each spike it emits;
  2. exchange — all ranks gather the epoch's spikes and sort them by (lag, gid);
  3. deliver — each received spike adds its synapses' weights into the targets' ring
               buffer slots (emission step + delay), in that canonical order;
  4. record  — rank 0 streams the epoch's spikes to the SONATA file.
Time is the integer step counter; milliseconds appear only at the edges.
"""
from __future__ import annotations

import time

import numpy as np

from cython_kernels import delivery
from brainsim.network.build import LocalNetwork
from brainsim.network.plasticity import delivery_scratch
from brainsim.timesteps import steps_nearest


class Engine:
    """Advances one rank's LocalNetwork in lockstep with the other ranks."""

    def __init__(self, network: LocalNetwork, comm, seed: int, dt: float, recorder=None,
                 progress=None, sampler=None, report_writers=None):
        self.network = network
        self.comm = comm
        self.seed = seed
        self.dt = dt
        self.recorder = recorder
        self.progress = progress
        self.sampler = sampler                  # StateSampler or None
        self.report_writers = report_writers    # rank 0: variable -> ReportSegments
        self.step = 0
        synapses = network.synapses
        self.min_delay_steps, self.max_delay_steps = self._global_delay_extent(synapses)
        self.ring_len = self.min_delay_steps + self.max_delay_steps
        # [slot, local neuron, channel]: 2 channels (by the weight's sign) unless a
        # receptor-addressed model reads more; its network's static synapses then carry
        # their channel and take the addressed delivery (no branch per synapse either way)
        self.ring = np.zeros((self.ring_len, network.num_local, network.ring_channels),
                             dtype=np.float64)
        self._deliver_static = (delivery.deliver_addressed if network.receptor_addressed
                                else delivery.deliver)
        # One spike per neuron and step; _update_group grows it for models that spike more.
        self.spike_keys = np.zeros(max(1, network.num_local * self.min_delay_steps),
                                   dtype=np.uint64)
        # noise_generator currents of the epoch [step - epoch start, local index] (pA);
        # no rows (and no per-step work) where this rank's neurons get no noise.
        has_noise = network.noise is not None and network.noise.active
        self.noise_currents = np.zeros((self.min_delay_steps if has_noise else 0,
                                        network.num_local), dtype=np.float64)
        # (projection, the scratch its kernel reuses: allocated once, not per epoch)
        self._plastic_calls = list(zip(network.plastic,
                                       delivery_scratch(network.plastic, network.num_local)))
        self.timings = {"update": 0.0, "exchange": 0.0, "deliver": 0.0, "record": 0.0}

    def _global_delay_extent(self, synapses) -> tuple[int, int]:
        """min/max delay over the whole network, frozen for the run. A network without
        synapses uses 1 ms epochs (no exchange is needed more often)."""
        extents = [(s.local_min_delay_steps, s.local_max_delay_steps)
                   for s in [synapses, *self.network.plastic] if s.num_synapses > 0]
        lo = self.comm.allreduce_min(min((e[0] for e in extents), default=2**62))
        hi = self.comm.allreduce_max(max((e[1] for e in extents), default=0))
        if hi == 0:
            lo = hi = max(1, steps_nearest(1.0, self.dt))
        return int(lo), int(hi)

    @property
    def ring_channels(self) -> int:
        return int(self.ring.shape[2])

    def pending_input(self) -> np.ndarray:
        """Input already delivered for future steps, per local neuron:
        [n_local, ring_len, ring_channels] where [:, k] is what the update of step
        (self.step + k) will read."""
        rolled = np.roll(self.ring, -(self.step % self.ring_len), axis=0)
        return np.ascontiguousarray(rolled.transpose(1, 0, 2))

    def _prune_bound(self) -> int:
        """Post spikes at or before this step are outside every plastic synapse's window."""
        lowest = min((int(p.t_last.min()) for p in self.network.plastic
                      if p.t_last.size and p.uses_post_trace),
                     default=0)
        return lowest - self.max_delay_steps

    def _deliver_plastic(self, received: np.ndarray) -> None:
        """Each plastic projection's model delivers the epoch's spikes through it
        (brainsim.catalogue.synapses: its kernel, with the projection's state and the
        engine's step, ring, dt and post histories)."""
        for proj, scratch in self._plastic_calls:
            proj.synapse_model.deliver(self, proj, received, scratch)

    def plastic_state(self) -> dict | None:
        """Plastic weights (by target gid, each target's synapses in CSR order), the
        per-source arrays each projection's synapse model declares (by their declared
        names) and post histories, as datasets for the checkpoint shard (None: none)."""
        net = self.network
        if not net.plastic:
            return None
        out = {}
        for proj in net.plastic:
            order, tgt_gids, src_gids = proj.synapse_order(net.local_gids)
            out[f"p{proj.index}/target_gid"] = tgt_gids
            out[f"p{proj.index}/source_gid"] = src_gids
            out[f"p{proj.index}/weight"] = proj.weight[order]
            for name, values in proj.per_source().items():
                out[f"p{proj.index}/{name}"] = values
        if net.post_history is not None:
            count, steps, ks = net.post_history.export()
            out["post/count"], out["post/step"], out["post/k"] = count, steps, ks
        return out

    def restore_plastic(self, saved: dict, local_index_of) -> None:
        """Put checkpointed plastic state back (any number of ranks wrote it)."""
        net = self.network
        for proj in net.plastic:
            entry = saved["projections"].get(proj.index)
            if entry is None:
                raise ValueError(f"checkpoint holds no plastic state of projection "
                                 f"{proj.index}")
            order, tgt_gids, src_gids = proj.synapse_order(net.local_gids)
            by_target = np.argsort(entry["target_gid"], kind="stable")
            if not (np.array_equal(entry["target_gid"][by_target], tgt_gids)
                    and np.array_equal(entry["source_gid"][by_target], src_gids)):
                raise ValueError(f"checkpoint's synapses of projection {proj.index} differ "
                                 "from the rebuilt network")
            proj.weight[order] = entry["weight"][by_target]
            for name, values in proj.per_source().items():
                if name not in entry or entry[name].shape != values.shape:
                    raise ValueError(f"checkpoint's per-source state {name} of projection "
                                     f"{proj.index} differs")
                values[:] = entry[name]
        post = saved["post"]
        if post is not None and net.post_history is not None:
            net.post_history.load(np.asarray(local_index_of(post["gids"]), dtype=np.int64),
                                  post["count"], post["step"], post["k"])

    def restore(self, step: int, local_index: np.ndarray, state: dict, pending: np.ndarray) -> None:
        """Put checkpointed state (rows for this rank's neurons at local_index) back."""
        net = self.network
        if local_index.shape[0] != net.num_local:
            raise ValueError(f"checkpoint holds {local_index.shape[0]} of this rank's "
                             f"{net.num_local} neurons")
        for name, values in state.items():
            net.state[name][local_index] = values
        if pending.ndim != 3 or pending.shape[2] != self.ring_channels:
            raise ValueError(f"checkpoint holds input for {pending.shape[2:]} ring channels, "
                             f"this network's ring has {self.ring_channels}")
        self.step = step
        self.ring[:] = 0.0
        horizon = pending.shape[1]
        if horizon > self.ring_len and np.any(pending[:, self.ring_len:]):
            raise ValueError("checkpoint holds input further ahead than this network's delays")
        for k in range(min(horizon, self.ring_len)):
            self.ring[(step + k) % self.ring_len, local_index, :] = pending[:, k, :]

    def _update_neurons(self, num_steps: int) -> int:
        """Advance every neuron model through the epoch; returns the spikes written to
        spike_keys. Where state samples fall inside the epoch the update is cut there."""
        net = self.network
        i_ext = self.noise_currents
        if i_ext.shape[0]:
            net.noise.epoch_currents(self.step, num_steps, i_ext)

        def noise(begin: int, end: int) -> tuple:
            """The noise rows of steps [begin, end) as an extra argument; none without noise."""
            return (i_ext[begin - self.step:end - self.step],) if i_ext.shape[0] else ()
        if self.sampler is None:
            emitted = 0
            for group in net.groups:
                emitted = self._update_group(group, self.step, num_steps, emitted,
                                             noise(self.step, self.step + num_steps))
            return emitted
        points = self.sampler.sample_points(self.step, num_steps)
        emitted, first = 0, self.step
        for stop in points + ([] if points and points[-1] == self.step + num_steps
                              else [self.step + num_steps]):
            written = 0
            for group in net.groups:
                written = self._update_group(group, first, stop - first, emitted + written,
                                             noise(first, stop)) - emitted
            if first != self.step and written:
                # Lags count from the epoch's first step, not the cut's.
                self.spike_keys[emitted:emitted + written] += np.uint64((first - self.step) << 32)
            emitted += written
            if stop in points:
                self.sampler.take(stop)
            first = stop
        return emitted

    def _update_group(self, group, first: int, num_steps: int, emitted: int,
                      noise: tuple) -> int:
        """One group through num_steps steps from `first`, its spikes after
        spike_keys[:emitted]; returns the new count. Spikes beyond the buffer (several per
        neuron and step: parrot multiplicities, aeif_cond_exp with t_ref = 0) wait in the
        group's plan; spike_keys then grows to hold them."""
        net = self.network
        n = group.update(net.state, self.ring, net.local_gids, first, num_steps, self.seed,
                         self.spike_keys[emitted:], *noise)
        if emitted + n > self.spike_keys.shape[0]:
            self.spike_keys = group.with_spilled(self.spike_keys, emitted, n)
        return emitted + n

    def flush_reports(self) -> None:
        """Collective: sampled frames of every rank to rank 0's report writers."""
        if self.sampler is not None:
            self.sampler.flush(self.report_writers)

    def run_until(self, stop_step: int, control=None) -> bool:
        """Simulate epochs until the step counter reaches stop_step; returns False when
        `control` (a Checkpointer) stopped the run early."""
        net, syn = self.network, self.network.synapses
        clock = time.perf_counter
        requests = 0
        while self.step < stop_step:
            num_steps = min(self.min_delay_steps, stop_step - self.step)
            t0 = clock()
            if net.external_events is not None and net.external_events.num_events:
                # spike_generator events of this epoch's own steps, into the ring buffer
                net.external_events.deliver_epoch(self.step, num_steps, self.ring)
            emitted = self._update_neurons(num_steps)
            t1 = clock()
            received = self.comm.exchange(self.spike_keys[:emitted], requests)
            t2 = clock()
            self._deliver_static(received, received.shape[0], self.step, syn.row_ptr,
                                 syn.target, syn.weight, syn.delay_steps, self.ring)
            if net.plastic:
                # plastic projections after the static ones, same canonical order; then
                # this epoch's own spikes into the post histories (the windows of spikes
                # delivered now end at or before this epoch's first step)
                self._deliver_plastic(received)
                if net.post_history is not None:
                    net.post_history.record(self.spike_keys, emitted, self.step,
                                            self.max_delay_steps + self.min_delay_steps,
                                            self._prune_bound)
            t3 = clock()
            if self.recorder is not None:
                self.recorder.record(received, self.step)
            self.step += num_steps
            t4 = clock()
            timings = self.timings
            timings["update"] += t1 - t0
            timings["exchange"] += t2 - t1
            timings["deliver"] += t3 - t2
            timings["record"] += t4 - t3
            if self.progress is not None:
                self.progress.tick(self.step)
            if self.sampler is not None and self.sampler.needs_flush():
                self.flush_reports()
            if control is not None:
                requests, stop = control.after_epoch(self.step, self.comm.requests)
                if stop:
                    return False
        return True
