"""All inter-rank communication, behind one small interface (the only module importing MPI).

Verbs: `exchange(local_spike_keys, requests)` (every epoch), reductions and gathers (setup
and end of run), `abort`. Each rank's `requests` bit mask (checkpoint, stop) rides along with
the spike counts of the exchange, so every rank learns every request in the same epoch
without an extra collective. `SerialComm` runs without mpi4py; `MpiComm` wraps a communicator with
preallocated buffers so an epoch allocates nothing but the rare buffer growth.
"""
from __future__ import annotations

import os
import signal
import sys
import time
from contextlib import contextmanager

import numpy as np

BARRIER_POLL_S = 0.0005       # MpiComm.barrier's wait between tests (s)


def rank_from_environment() -> int:
    """This process's rank as the launcher announces it, before MPI is initialised."""
    for name in ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK", "SLURM_PROCID"):
        value = os.environ.get(name)
        if value is not None and value.isdigit():
            return int(value)
    return 0


class SerialComm:
    """One rank, no MPI: exchange only sorts the local spikes canonically."""
    rank = 0
    size = 1

    def __init__(self):
        self._received = np.zeros(1024, dtype=np.uint64)
        self.requests = 0

    def exchange(self, local_keys: np.ndarray, requests: int = 0) -> np.ndarray:
        self.requests = requests
        count = local_keys.shape[0]
        if count > self._received.shape[0]:
            self._received = np.zeros(2 * count, dtype=np.uint64)
        received = self._received[:count]
        received[:] = local_keys
        received.sort()
        return received

    def allreduce_min(self, value):
        return value

    def allreduce_max(self, value):
        return value

    def allreduce_sum(self, value):
        return value

    def gather(self, value):
        return [value]

    def bcast(self, value):
        return value

    def barrier(self):
        pass

    def ranks_on_this_node(self) -> int:
        return 1

    def abort(self, status: int):
        sys.exit(status)


class MpiComm:
    """Spike exchange by Allgather (counts) + Allgatherv (keys), then a canonical sort.

    Keys are (lag << 32) | gid, so sorting them orders the epoch's spikes by (lag, gid):
    every rank then delivers them in the same order (docs/architecture.md §2.5).
    """

    def __init__(self, communicator):
        from mpi4py import MPI
        self._mpi = MPI
        self.comm = communicator
        self.rank = communicator.Get_rank()
        self.size = communicator.Get_size()
        self._send_header = np.zeros(2, dtype=np.int64)       # spike count, request bits
        self._headers = np.zeros((self.size, 2), dtype=np.int64)
        self._counts = np.zeros(self.size, dtype=np.int64)
        self.requests = 0
        self._displacements = np.zeros(self.size, dtype=np.int64)
        self._received = np.zeros(1024, dtype=np.uint64)

    def exchange(self, local_keys: np.ndarray, requests: int = 0) -> np.ndarray:
        """All ranks' spikes of the epoch, sorted by (lag, gid); afterwards `self.requests`
        is the OR of every rank's request bits."""
        self._send_header[0] = local_keys.shape[0]
        self._send_header[1] = requests
        self.comm.Allgather(self._send_header, self._headers)
        self._counts[:] = self._headers[:, 0]
        self.requests = int(np.bitwise_or.reduce(self._headers[:, 1]))
        total = int(self._counts.sum())
        if total > self._received.shape[0]:
            self._received = np.zeros(2 * total, dtype=np.uint64)
        np.cumsum(self._counts[:-1], out=self._displacements[1:])
        received = self._received[:total]
        self.comm.Allgatherv(local_keys, [received, (self._counts, self._displacements),
                                          self._mpi.UINT64_T])
        received.sort()
        return received

    def allreduce_min(self, value):
        return self.comm.allreduce(value, op=self._mpi.MIN)

    def allreduce_max(self, value):
        return self.comm.allreduce(value, op=self._mpi.MAX)

    def allreduce_sum(self, value):
        return self.comm.allreduce(value, op=self._mpi.SUM)

    def gather(self, value):
        return self.comm.gather(value, root=0)

    def bcast(self, value):
        return self.comm.bcast(value, root=0)

    def barrier(self):
        """A barrier that Python signal handlers can interrupt while waiting (a blocking
        MPI_Barrier would hold a Ctrl-C until the slowest rank arrives); it is met only
        at setup, checkpoints and the end, so the polling costs nothing."""
        request = self.comm.Ibarrier()
        while not request.Test():
            time.sleep(BARRIER_POLL_S)

    def ranks_on_this_node(self) -> int:
        """Collective: how many ranks of this communicator share this node's memory."""
        node = self.comm.Split_type(self._mpi.COMM_TYPE_SHARED)
        try:
            return node.Get_size()
        finally:
            node.Free()

    def abort(self, status: int):
        self.comm.Abort(status)


def prefer_lean_mpich_netmod() -> None:
    """With the MPICH wheel from PyPI (the `mpich` extra), default its network module to
    libfabric (ofi) instead of UCX: MPI_Init then takes 6.7 instead of 11.5 MiB per rank,
    and ranks on one node talk through shared memory either way. Does nothing when the
    user set MPIR_CVAR_CH4_NETMOD or another MPI is in use (site MPICH builds are not the
    wheel: their own defaults stay)."""
    if "MPIR_CVAR_CH4_NETMOD" in os.environ:
        return
    from importlib import metadata
    try:
        metadata.distribution("mpich")
    except metadata.PackageNotFoundError:
        return
    os.environ["MPIR_CVAR_CH4_NETMOD"] = "ofi"


# Signals whose Python handlers MPI start-up must not replace (engine.checkpointing).
HELD_DURING_MPI_INIT = (signal.SIGTERM, signal.SIGUSR1, signal.SIGINT)


@contextmanager
def signals_kept_through_mpi_init():
    """MPI_Init (MPICH, libfabric) installs its own SIGUSR1 handler, which swallows the
    time-limit warning. Hold SIGTERM/SIGUSR1/SIGINT back while MPI starts (threads it
    starts inherit the mask, so they never take them), put back the Python handlers that
    were installed, then let any signal that arrived meanwhile reach them."""
    held = set(HELD_DURING_MPI_INIT)
    before = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        for number in held:
            handler = signal.getsignal(number)
            if callable(handler):       # a brainsim (or caller's) Python handler
                signal.signal(number, handler)
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def make_comm():
    """MpiComm over COMM_WORLD when mpi4py is importable and more than one rank runs,
    else SerialComm (a singleton MPI run needs no communication, nor an MPI library)."""
    prefer_lean_mpich_netmod()
    try:
        with signals_kept_through_mpi_init():
            from mpi4py import MPI
    except ImportError:
        return SerialComm()
    except RuntimeError:
        # mpi4py >= 4 found no MPI library (installed without the mpich extra, no system
        # MPI): fine for a serial run; a launcher that started several ranks needs one.
        from brainsim.engine.guards import size_from_environment
        if size_from_environment() > 1:
            raise
        return SerialComm()
    if MPI.COMM_WORLD.Get_size() == 1:
        return SerialComm()
    return MpiComm(MPI.COMM_WORLD)
