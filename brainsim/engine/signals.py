"""The process's record of the signals a run acts on: SIGTERM / SIGUSR1 (checkpoint and
stop: what SLURM sends before a time limit, engine.checkpointing) and SIGINT (Ctrl-C).

Kept apart from engine.checkpointing so that `brainsim run`/`resume` can install it before
anything heavy is imported (numpy, MPI): a signal that arrives while the model loads, MPI
starts (engine.comm keeps MPI_Init from replacing the handlers) or the network is built is
remembered, and acted on as soon as a checkpoint is possible (docs/hpc.md).
"""
from __future__ import annotations

import signal
from contextlib import contextmanager

STOP_SIGNALS = (signal.SIGTERM, signal.SIGUSR1)


class Interrupted(Exception):
    """Ctrl-C (SIGINT): every rank stops together at an epoch boundary; status 130."""
    agreed = True


class SignalWatch:
    """The process's one record of SIGTERM / SIGUSR1 (checkpoint and stop) and SIGINT.

    `brainsim run`/`resume` install it first thing (before MPI starts, see
    engine.comm.make_comm), so a signal that arrives while the model loads or the network
    is built is kept, and the Checkpointer acts on it at its first epoch boundary.

    SIGINT raises KeyboardInterrupt at once, except inside `polled()` (the epoch loop):
    there the first one only sets `interrupted`, which rides the next spike exchange so
    that every rank stops in the same epoch; a second one raises at once."""

    def __init__(self):
        self.received: str | None = None    # name of the first stop signal
        self.interrupted = False            # SIGINT seen
        self.polling = False                # the epoch loop reads `interrupted`

    def install(self, interrupt: bool = False) -> "SignalWatch":
        """Handle SIGTERM and SIGUSR1 (and SIGINT when interrupt: the command line only,
        never a library caller's process). Returns self."""
        for number in STOP_SIGNALS:
            signal.signal(number, self._note)
        # An ignored SIGINT stays ignored: a shell starts background commands so (a job
        # script's `step &`), and Ctrl-C at its terminal is then not meant for them.
        if interrupt and signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
            signal.signal(signal.SIGINT, self._interrupt)
        return self

    def _note(self, number, frame):
        if self.received is None:
            self.received = signal.Signals(number).name

    def _interrupt(self, number, frame):
        again = self.interrupted
        self.interrupted = True
        if again or not self.polling:
            raise KeyboardInterrupt

    @contextmanager
    def polled(self):
        """The epoch loop: a first SIGINT is left to the loop's request bits."""
        self.polling = True
        try:
            yield self
        finally:
            self.polling = False


_WATCH = SignalWatch()


def signal_watch() -> SignalWatch:
    """The SignalWatch of this process (installed or not)."""
    return _WATCH


class StoppedBeforeStart(Exception):
    """SIGTERM/SIGUSR1 arrived before the output directory was touched; every rank stops
    together with status 75 and nothing written (a rerun or a chained job loses nothing)."""
    agreed = True


def agree_no_stop_before_start(comm) -> None:
    """Collective, the last step before a run touches its output directory: when any rank
    has seen a stop signal, every rank raises StoppedBeforeStart. A signal arriving after
    this point is acted on by the Checkpointer at its first epoch boundary instead."""
    received = _WATCH.received
    if comm.allreduce_max(1 if received else 0):
        raise StoppedBeforeStart(f"stopped by {received or 'a signal on another rank'} "
                                 "before anything was simulated; nothing was written")
