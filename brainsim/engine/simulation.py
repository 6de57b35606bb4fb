"""The engine loop: epochs of min_delay steps (DESIGN §3).

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


class Engine:
    """Advances one rank's LocalNetwork in lockstep with the other ranks."""

    def __init__(self, network: LocalNetwork, comm, seed: int, dt: float, recorder=None,
                 progress=None):
        self.network = network
        self.comm = comm
        self.seed = seed
        self.dt = dt
        self.recorder = recorder
        self.progress = progress
        self.step = 0
        synapses = network.synapses
        self.min_delay_steps, self.max_delay_steps = self._global_delay_extent(synapses)
        self.ring_len = self.min_delay_steps + self.max_delay_steps
        self.ring = np.zeros((self.ring_len, network.num_local, 2), dtype=np.float64)
        # A neuron spikes at most once per step, so this bound never overflows.
        self.spike_keys = np.zeros(max(1, network.num_local * self.min_delay_steps),
                                   dtype=np.uint64)
        self.timings = {"update": 0.0, "exchange": 0.0, "deliver": 0.0, "record": 0.0}

    def _global_delay_extent(self, synapses) -> tuple[int, int]:
        """min/max delay over the whole network, frozen for the run. A network without
        synapses uses 1 ms epochs (no exchange is needed more often)."""
        has = synapses.num_synapses > 0
        lo = self.comm.allreduce_min(synapses.local_min_delay_steps if has else 2**62)
        hi = self.comm.allreduce_max(synapses.local_max_delay_steps if has else 0)
        if hi == 0:
            lo = hi = max(1, int(round(1.0 / self.dt)))
        return int(lo), int(hi)

    def pending_input(self) -> np.ndarray:
        """Input already delivered for future steps, per local neuron: [n_local, ring_len, 2]
        where [:, k] is what the update of step (self.step + k) will read."""
        rolled = np.roll(self.ring, -(self.step % self.ring_len), axis=0)
        return np.ascontiguousarray(rolled.transpose(1, 0, 2))

    def restore(self, step: int, local_index: np.ndarray, state: dict, pending: np.ndarray) -> None:
        """Put checkpointed state (rows for this rank's neurons at local_index) back."""
        net = self.network
        if local_index.shape[0] != net.num_local:
            raise ValueError(f"checkpoint holds {local_index.shape[0]} of this rank's "
                             f"{net.num_local} neurons")
        for name, values in state.items():
            net.state[name][local_index] = values
        self.step = step
        self.ring[:] = 0.0
        horizon = pending.shape[1]
        if horizon > self.ring_len and np.any(pending[:, self.ring_len:]):
            raise ValueError("checkpoint holds input further ahead than this network's delays")
        for k in range(min(horizon, self.ring_len)):
            self.ring[(step + k) % self.ring_len, local_index, :] = pending[:, k, :]

    def run_until(self, stop_step: int, control=None) -> bool:
        """Simulate epochs until the step counter reaches stop_step; returns False when
        `control` (a Checkpointer) stopped the run early."""
        net, syn = self.network, self.network.synapses
        clock = time.perf_counter
        requests = 0
        while self.step < stop_step:
            num_steps = min(self.min_delay_steps, stop_step - self.step)
            t0 = clock()
            emitted = 0
            for group in net.groups:
                emitted += group.update(net.state, self.ring, net.local_gids, self.step,
                                        num_steps, self.seed, self.spike_keys[emitted:])
            t1 = clock()
            received = self.comm.exchange(self.spike_keys[:emitted], requests)
            t2 = clock()
            delivery.deliver(received, received.shape[0], self.step, syn.row_ptr,
                             syn.target, syn.weight, syn.delay_steps, self.ring)
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
            if control is not None:
                requests, stop = control.after_epoch(self.step, self.comm.requests)
                if stop:
                    return False
        return True
