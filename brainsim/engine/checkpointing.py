"""When and how the engine checkpoints: biological interval, wall-clock interval, at the
end, and on SIGTERM / SIGUSR1 (what SLURM sends before a time limit).

Decisions must be the same on every rank. Biological intervals are a function of the step.
Wall-clock and signal requests are local, so each rank puts them in the request bits that
ride along with the next spike exchange; the checkpoint is taken at the end of the epoch in
which every rank has seen them. After a signal the run checkpoints and stops with status
EXIT_CHECKPOINTED (75, "try again": resume it). SIGINT (Ctrl-C) rides the same way and
stops every rank in one epoch without writing anything more (status 130; SignalWatch).
"""
from __future__ import annotations

import os
import shutil
import signal
import time
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np

import brainsim
from brainsim.engine.guards import inject_test_fault
from brainsim.engine.signals import Interrupted, signal_watch
from brainsim.io import checkpoint as files
from brainsim.timesteps import steps_nearest

REQUEST_CHECKPOINT = 1
REQUEST_STOP = 2
REQUEST_INTERRUPT = 4
EXIT_CHECKPOINTED = 75
ACTIVITY_FILE = "population_activity.h5"


@dataclass(frozen=True)
class CheckpointPolicy:
    """every_ms: biological interval (ms); wall_minutes: wall-clock interval; at_end: after
    the last step; keep: newest checkpoints kept; on_signal: checkpoint and stop on
    SIGTERM/SIGUSR1."""
    every_ms: float | None = None
    wall_minutes: float | None = None
    at_end: bool = False
    keep: int = 2
    on_signal: bool = True


class Checkpointer:
    """Writes checkpoints for one rank and answers the engine's end-of-epoch question."""

    def __init__(self, policy: CheckpointPolicy, output_dir: str, comm, engine, recorder,
                 segments, provenance: dict):
        self.policy = policy
        self.root = os.path.join(output_dir, files.CHECKPOINT_DIR)
        self.comm = comm
        self.engine = engine
        self.recorder = recorder          # rank 0 only
        self.segments = segments          # rank 0 only
        self.provenance = provenance
        self.signals = signal_watch().install() if policy.on_signal else None
        self.stopped_by = None
        self.written: list[str] = []
        self.write_seconds: list[float] = []
        dt = engine.dt
        self.every_steps = (max(1, steps_nearest(policy.every_ms, dt))
                            if policy.every_ms else None)
        self.next_bio_step = (engine.step // self.every_steps + 1) * self.every_steps \
            if self.every_steps else None
        self.wall_interval = policy.wall_minutes * 60.0 if policy.wall_minutes else None
        self.next_wall = time.monotonic() + self.wall_interval if self.wall_interval else None
        self._kill_at_step = _kill_step_for_test(comm.rank)
        if comm.rank == 0:
            self._remove_incomplete()

    def _remove_incomplete(self) -> None:
        """Leftovers of a checkpoint interrupted while being written are never valid."""
        if os.path.isdir(self.root):
            for name in os.listdir(self.root):
                if name.startswith(".incomplete_"):
                    shutil.rmtree(os.path.join(self.root, name), ignore_errors=True)

    def signals_polled(self):
        """Context of the epoch loop: a first SIGINT becomes a request bit (SignalWatch)."""
        return self.signals.polled() if self.signals is not None else nullcontext()

    def local_requests(self) -> int:
        bits = 0
        if self.signals is not None and self.signals.received:
            bits |= REQUEST_STOP
        if self.signals is not None and self.signals.interrupted:
            bits |= REQUEST_INTERRUPT
        if self.comm.rank == 0 and self.next_wall is not None and time.monotonic() >= self.next_wall:
            bits |= REQUEST_CHECKPOINT
        return bits

    def after_epoch(self, step: int, agreed_requests: int) -> tuple[int, bool]:
        """Checkpoint if due; returns (this rank's requests for the next exchange, stop)."""
        if self._kill_at_step is not None and step >= self._kill_at_step:
            kill_for_test("simulate", self.comm.rank)
        if not agreed_requests and (self.next_bio_step is None or step < self.next_bio_step):
            return self.local_requests(), False     # the common case, every epoch
        if agreed_requests & REQUEST_INTERRUPT:
            raise Interrupted()             # every rank, in the same epoch; nothing written
        due = bool(agreed_requests & (REQUEST_CHECKPOINT | REQUEST_STOP))
        if self.next_bio_step is not None and step >= self.next_bio_step:
            due = True
            self.next_bio_step = (step // self.every_steps + 1) * self.every_steps
        if due:
            self.write(step)
        if agreed_requests & REQUEST_STOP:
            self.stopped_by = "signal"
            return 0, True
        return self.local_requests(), False

    def at_end(self, step: int) -> None:
        if self.policy.at_end and (not self.written or not self.written[-1].endswith(
                files.checkpoint_name(step))):
            self.write(step)

    def write(self, step: int) -> None:
        """Collective: every rank writes its shard; rank 0 publishes the manifest."""
        started = time.perf_counter()
        self.engine.flush_reports()
        reports = self.engine.report_writers or {}
        if self.comm.rank == 0:
            os.makedirs(files.temporary_dir(self.root, step), exist_ok=True)
            self.recorder.flush()
            self.segments.close_current(step)
            for chain in reports.values():
                chain.close_current(step)
        self.comm.barrier()
        network = self.engine.network
        shard = files.write_shard(files.temporary_dir(self.root, step), self.comm.rank,
                                  network.local_gids, network.state,
                                  self.engine.pending_input(),
                                  self.engine.plastic_state())
        _test_fault_injection(len(self.written))
        kill_for_test("checkpoint", self.comm.rank)
        inject_test_fault("checkpoint", self.comm.rank)     # tests: a pause for a signal
        shard["rank"] = self.comm.rank
        shards = self.comm.gather(shard)
        path = None
        if self.comm.rank == 0:
            manifest = self._manifest(step, shards)
            sampler = self.engine.sampler
            activity = sampler.population_activity if sampler is not None else None
            if activity is not None:
                activity.save(os.path.join(files.temporary_dir(self.root, step),
                                           ACTIVITY_FILE))
                manifest["population_activity"] = ACTIVITY_FILE
            path = files.publish(self.root, step, manifest, self.policy.keep)
            self.segments.start(step)
            for chain in reports.values():
                chain.start(step)
            if self.next_wall is not None:
                self.next_wall = time.monotonic() + self.wall_interval
        path = self.comm.bcast(path)
        self.written.append(path)
        self.write_seconds.append(time.perf_counter() - started)

    def _manifest(self, step: int, shards: list[dict]) -> dict:
        return {
            **self.provenance,
            "format_version": files.FORMAT_VERSION,
            "brainsim_version": brainsim.__version__,
            "numpy_version": np.__version__,
            "step": step, "t_ms": step * self.engine.dt, "ranks": self.comm.size,
            "ring_len": self.engine.ring_len,
            "ring_channels": self.engine.ring_channels,   # absent: 2 (older checkpoints)
            "min_delay_steps": self.engine.min_delay_steps,
            "max_delay_steps": self.engine.max_delay_steps,
            "shards": sorted(shards, key=lambda s: s["rank"]),
            "spikes": {"segments": [dict(s) for s in self.segments.completed],
                       "counts": self.segments.totals()},
            "reports": {variable: {"segments": [dict(s) for s in chain.completed],
                                   "counts": chain.totals()}
                        for variable, chain in (self.engine.report_writers or {}).items()},
            "recorder": self.recorder.saved_counts(),
            "written_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }


def kill_for_test(where: str, rank: int) -> None:
    """Tests only: BRAINSIM_TEST_KILL_AT=where (build, simulate, checkpoint, merge, ...)
    kills rank BRAINSIM_TEST_KILL_RANK (default 0) with SIGKILL there: what kill -9 leaves."""
    env = os.environ
    if env.get("BRAINSIM_TEST_KILL_AT") == where and \
            env.get("BRAINSIM_TEST_KILL_RANK", "0") == str(rank):
        os.kill(os.getpid(), signal.SIGKILL)


def _kill_step_for_test(rank: int) -> int | None:
    """Tests only: the step after which kill_for_test("simulate") fires on this rank
    (BRAINSIM_TEST_KILL_STEP, default 10), or None."""
    env = os.environ
    if env.get("BRAINSIM_TEST_KILL_AT") != "simulate" or \
            env.get("BRAINSIM_TEST_KILL_RANK", "0") != str(rank):
        return None
    return int(env.get("BRAINSIM_TEST_KILL_STEP", "10"))


def _test_fault_injection(index: int) -> None:
    """Tests only: BRAINSIM_TEST_KILL_IN_CHECKPOINT=N kills this process with SIGKILL
    while it writes its N-th checkpoint (0-based): shard written, manifest not yet."""
    wanted = os.environ.get("BRAINSIM_TEST_KILL_IN_CHECKPOINT")
    if wanted is not None and int(wanted) == index:
        os.kill(os.getpid(), signal.SIGKILL)
