"""Reliability guards: how a run fails, on every rank together or by aborting all of them.

Rule (docs/architecture.md §5): an error either is *agreed* (every rank raises it together, after a
collective that told them all) and exits with its documented status, or it is *rank-local*
and the rank that met it prints its message and calls MPI_Abort, which ends the whole job
at once, whatever the other ranks are waiting in. docs/errors.md lists every status.

- `agree_setup`: the first collective of `run`/`resume`; a rank whose setup (loading the
  model, checking the checkpoint) failed meets the others there, so a file only one rank
  could read ends the job with status 2 instead of a hang.
- `check_memory`: the resource guard, estimate per rank against MemAvailable of the node
  divided among its ranks, agreed by an allreduce.
- `FiniteStateGuard`: the engine's end-of-epoch control wrapped around the Checkpointer;
  every `check_every_steps` it tests the state arrays for NaN/inf, a finding rides as a
  request bit in the next spike exchange, and `agree()` settles it with one allreduce at
  the end of the loop.
- `inject_test_fault`: tests only, BRAINSIM_TEST_FAIL_RANK / BRAINSIM_TEST_FAIL_AT /
  BRAINSIM_TEST_NAN_RANK / BRAINSIM_TEST_NAN_STEP, and BRAINSIM_TEST_PAUSE_AT (a pause to
  send a signal in).
- `exit_after_error`, `exit_after_interrupt`, `exit_after_closed_pipe`: the CLI's exit
  path (one line, the documented status, no traceback).
"""
from __future__ import annotations

import errno as errno_names
import os
import re
import sys
import traceback

import numpy as np

EXIT_OK = 0
EXIT_INTERNAL = 1          # a bug or an unexpected failure (traceback printed)
EXIT_USAGE = 2             # what the user gave: model, config, --set, output dir, memory
EXIT_NUMERICAL = 3         # a neuron's state became NaN or infinite
EXIT_IO = 74               # writing output failed during the run (EX_IOERR: disk full, ...)
EXIT_CHECKPOINTED = 75     # stopped by a signal after checkpointing (engine.checkpointing)
EXIT_INTERRUPTED = 130     # Ctrl-C (128 + SIGINT, what a shell reports for it)
EXIT_CLOSED_PIPE = 141     # stdout closed by its reader (128 + SIGPIPE, as `yes | head`)
INTERRUPT_GRACE_S = 1.0    # after Ctrl-C, ranks other than 0 wait this long before leaving

# Failed file operations that are the user's to fix (permissions, a read-only target, a
# path through a file), not a run that failed while writing: status 2, like other bad input.
PERMISSION_ERRNOS = (errno_names.EACCES, errno_names.EPERM, errno_names.EROFS,
                     errno_names.ENOTDIR)

# Request bit of the spike exchange header (engine.checkpointing uses 1 and 2).
REQUEST_NONFINITE = 1 << 8
# State is tested every this many ms of biological time (see docs/errors.md, "Numerical").
CHECK_EVERY_MS = 10.0


class NumericalError(Exception):
    """A state variable became NaN or infinite; raised on every rank together."""
    agreed = True


class ResourceError(Exception):
    """The run would not fit in memory; raised on every rank together."""
    agreed = True


class TestFault(RuntimeError):
    """Raised by the test hooks on one rank only (never in a real run)."""


def is_user_error(err: BaseException) -> bool:
    from brainsim.io.checkpoint import CheckpointError
    from brainsim.io.files import OutputError
    from brainsim.spec import SpecError
    return isinstance(err, (SpecError, OutputError, CheckpointError, ResourceError))


def is_agreed(err: BaseException) -> bool:
    """True when every rank raises this error together (no abort needed): a generated
    kernel's compile error is agreed by brainsim.codegen.cache.load_kernel."""
    return bool(getattr(err, "agreed", False)) or is_kernel_compile_error(err)


def is_kernel_compile_error(err: BaseException) -> bool:
    """An equation model's generated kernel did not compile or load (no C compiler, no
    Python headers, ...): one line naming the compiler's first error and its log."""
    from brainsim.codegen.cache import KernelCompileError
    return isinstance(err, KernelCompileError)


_HDF5_ERRNO = re.compile(r"errno = (\d+)")
_HDF5_FILE = re.compile(r"filename = '([^']*)'")


def storage_failure(err: BaseException) -> tuple[str, int] | None:
    """(path, errno) when err (or what caused it) is a failed file operation: an OSError with
    an errno, or an HDF5 error whose text carries 'errno = N' (h5py raises those as
    RuntimeError or OSError without errno); None otherwise."""
    seen = 0
    while err is not None and seen < 5:
        if isinstance(err, (OSError, RuntimeError)):
            text = str(err)
            number = err.errno if isinstance(err, OSError) else None
            if number is None and (match := _HDF5_ERRNO.search(text)):
                number = int(match.group(1))
            if number:
                path = getattr(err, "filename", None)
                if path is None and (match := _HDF5_FILE.search(text)):
                    path = match.group(1)
                return path or "output", number
        err, seen = err.__cause__ or err.__context__, seen + 1
    return None


def is_permission_problem(err: BaseException) -> bool:
    failure = storage_failure(err)
    return failure is not None and failure[1] in PERMISSION_ERRNOS


def is_closed_pipe(err: BaseException) -> bool:
    """stdout (or stderr) closed by its reader: `brainsim info ... | head`."""
    return isinstance(err, BrokenPipeError) or (
        isinstance(err, OSError) and err.errno == errno_names.EPIPE)


def exit_status(err: BaseException) -> int:
    if isinstance(err, NumericalError):
        return EXIT_NUMERICAL
    if is_user_error(err) or is_permission_problem(err):
        return EXIT_USAGE
    if storage_failure(err) is not None:
        return EXIT_IO
    return EXIT_INTERNAL


def describe(err: BaseException, output_dir: str | None = None) -> str | None:
    """One line for errors the user can act on; None for bugs (print a traceback).
    output_dir: the run's directory, so that a write failure advises resume only when
    it holds a checkpoint."""
    if is_user_error(err) or isinstance(err, NumericalError):
        return str(err)
    if is_kernel_compile_error(err):
        return (f"{err}; brainsim compiles equation models with the C compiler Python's "
                "setuptools uses (CC) and Python's headers: check that both are installed")
    failure = storage_failure(err)
    if failure is None:
        return None
    path, number = failure
    name = errno_names.errorcode.get(number, "?")
    if number in PERMISSION_ERRNOS:
        return (f"{path}: {os.strerror(number)} (errno {number} {name}); expected a file or "
                "directory brainsim may read and write (check its permissions, or choose "
                "another path)")
    advice = getattr(err, "brainsim_advice", None)   # engine.run: what the directory holds
    if advice is not None:
        return f"{path}: writing failed: {os.strerror(number)} (errno {number} {name}); {advice}"
    return (f"{path}: writing failed: {os.strerror(number)} (errno {number} {name}); "
            "files completed before (earlier checkpoints, spikes.h5 of an earlier run) are "
            f"untouched; {_after_write_failure(output_dir)}")


def _after_write_failure(output_dir: str | None) -> str:
    """What to do after a failed write: resume only where a checkpoint exists; name where
    --overwrite set the previous results aside, when it did."""
    from brainsim.io.files import PREVIOUS_DIR
    kept = ""
    if output_dir and os.path.isdir(os.path.join(output_dir, PREVIOUS_DIR)):
        kept = f" (the previous results are in {os.path.join(output_dir, PREVIOUS_DIR)})"
    if merge_pending(output_dir):
        return (f"free space, then finish with: brainsim resume {output_dir} (the "
                f"simulation is complete; it writes the final files again){kept}")
    latest = latest_checkpoint(output_dir)
    if latest is not None:
        return (f"free space, then continue with: brainsim resume {output_dir} (latest "
                f"checkpoint {latest}){kept}")
    return ("free space or choose another directory with -o, then run the same command "
            f"again{kept}")


def merge_pending(output_dir: str | None) -> bool:
    """True when the simulation ended but writing the final files did not (resume ends it)."""
    from brainsim.scheduler.joblog import merge_pending as pending
    return bool(output_dir) and pending(output_dir)


def latest_checkpoint(output_dir: str | None) -> str | None:
    """Name of the newest complete checkpoint in output_dir, or None (none, or unreadable)."""
    from brainsim.scheduler.joblog import complete_checkpoints
    if not output_dir:
        return None
    try:
        names = complete_checkpoints(output_dir)
    except OSError:
        return None
    return names[-1] if names else None


def report(err: BaseException, rank: int, size: int, output_dir: str | None = None) -> None:
    """stderr: one line (user error) or the traceback (anything else), naming the rank."""
    line = describe(err, output_dir)
    who = f"rank {rank}: " if size > 1 else ""
    if line is not None:
        sys.stderr.write(f"brainsim: error: {who}{line}\n")
    else:
        sys.stderr.write(f"brainsim: {who}failed:\n{traceback.format_exc()}")
    sys.stderr.flush()


def abort_on_rank_local(comm, err: BaseException, output_dir: str | None = None) -> None:
    """Inside collective code: an error not agreed by every rank ends the whole job now."""
    if comm.size > 1 and not is_agreed(err):
        report(err, comm.rank, comm.size, output_dir)
        _abort(comm, exit_status(err))


def _abort(comm, status: int) -> None:
    """MPI_Abort, and never return (MPICH's may return before the launcher kills us)."""
    try:
        comm.abort(status)
    finally:
        os._exit(status)


class SetupFailedElsewhere(Exception):
    """This rank's setup succeeded but another's failed (that rank printed why)."""
    agreed = True


def size_from_environment() -> int:
    """Ranks the launcher started, read before MPI is initialised (1 when not launched)."""
    for name in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS"):
        value = os.environ.get(name)
        if value is not None and value.isdigit():
            return int(value)
    return 1


def _first_failed_rank(comm, failed: bool) -> int:
    """Collective (the meeting point of run/resume): lowest rank whose setup failed, or size."""
    return int(comm.allreduce_min(comm.rank if failed else comm.size))


def agree_setup(comm) -> None:
    """Called by every rank whose setup succeeded, right after MPI starts: raises
    SetupFailedElsewhere (status 2 on every rank) when another rank's setup failed."""
    if _first_failed_rank(comm, False) < comm.size:
        raise SetupFailedElsewhere()


def exit_after_error(err: Exception, met_other_ranks: bool, output_dir: str | None = None
                     ) -> int:
    """Top level of the CLI: print what the user must see and return the exit status;
    re-raises a bug in a serial run (traceback, status 1).

    met_other_ranks: False when `run`/`resume` failed before `agree_setup`; under a
    launcher this rank then starts MPI and meets the others there (or aborts on a bug).
    output_dir: the run's directory, when known (for the advice after a failed write)."""
    from brainsim.engine.comm import make_comm, rank_from_environment
    if is_closed_pipe(err):
        return exit_after_closed_pipe()
    if not met_other_ranks and size_from_environment() > 1 and not is_agreed(err):
        comm = make_comm()
        if comm.size > 1:
            if describe(err) is None:
                report(err, comm.rank, comm.size)
                _abort(comm, EXIT_INTERNAL)
            if _first_failed_rank(comm, True) == comm.rank:
                sys.stderr.write(f"brainsim: error: {err}\n")
            return exit_status(err)
    if isinstance(err, SetupFailedElsewhere):
        return EXIT_USAGE
    line = describe(err, output_dir)
    if line is None:
        raise err
    if rank_from_environment() == 0 or not is_agreed(err):
        sys.stderr.write(f"brainsim: error: {line}\n")
    if storage_failure(err) is not None and not is_user_error(err):
        # HDF5 handles to the failed file crash the interpreter's teardown: leave now.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(exit_status(err))
    return exit_status(err)


def exit_after_closed_pipe() -> int:
    """The reader of stdout went away (`brainsim models | head`): stop quietly, as other
    command-line tools do. stdout goes to /dev/null so that the interpreter's last flush
    does not complain about the closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return EXIT_CLOSED_PIPE


def exit_after_interrupt(output_dir: str | None, simulating: bool) -> int:
    """Ctrl-C: one line (rank 0 only) saying what is kept, status 130.

    simulating: `run`/`resume`, which leave at once (os._exit): other ranks may wait in
    a collective, and open HDF5 segment files must not be flushed half-way by the
    interpreter's teardown (nothing under a final name is half-written either way)."""
    import signal
    from brainsim.engine.comm import rank_from_environment
    signal.signal(signal.SIGINT, signal.SIG_IGN)        # leaving anyway: no second traceback
    rank = rank_from_environment()
    if rank == 0:
        sys.stderr.write(f"brainsim: interrupted (Ctrl-C){_after_interrupt(output_dir)}\n")
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:
        pass
    if simulating:
        if rank != 0:
            # The launcher ends every rank as soon as one has exited: leave rank 0 the
            # moment it needs to print the job's line.
            import time
            time.sleep(INTERRUPT_GRACE_S)
        os._exit(EXIT_INTERRUPTED)
    return EXIT_INTERRUPTED


def _after_interrupt(output_dir: str | None) -> str:
    if output_dir is None or not os.path.isdir(output_dir):
        return "; nothing was written"
    from brainsim.scheduler.joblog import merge_pending
    if merge_pending(output_dir):       # stopped while writing the final files
        return f"; finish writing the results with: brainsim resume {output_dir}"
    latest = latest_checkpoint(output_dir)
    if latest is not None:
        return f"; continue with: brainsim resume {output_dir} (latest checkpoint {latest})"
    return (f"; no checkpoint was reached, so nothing of this run is kept in {output_dir}: "
            "run the same command again")


# ----------------------------------------------------------------------------- resources

def available_memory_mib() -> float | None:
    """MemAvailable of this node (MiB), None where /proc/meminfo is absent."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 1024.0
    except (OSError, ValueError, IndexError):
        pass
    return None


def ranks_on_this_node(comm) -> int:
    """Ranks sharing this node: an MPI shared-memory split where the comm offers one, else
    the launcher's environment (MPICH, Open MPI, SLURM), else 1."""
    if hasattr(comm, "ranks_on_this_node"):
        return max(1, int(comm.ranks_on_this_node()))
    for name in ("MPI_LOCALNRANKS", "OMPI_COMM_WORLD_LOCAL_SIZE", "PMI_LOCAL_SIZE"):
        value = os.environ.get(name)
        if value and value.isdigit():
            return max(1, int(value))
    return 1


def check_memory(model, comm, force: bool = False) -> None:
    """Collective: refuse (ResourceError on every rank) a run whose estimated peak memory per
    rank exceeds MemAvailable / ranks on the node, on the tightest node, unless force."""
    from brainsim.network.estimate import estimate_memory
    parts = estimate_memory(model, comm.size)
    estimate = parts.total_mib
    available = available_memory_mib()
    on_node = ranks_on_this_node(comm)
    per_rank = available / on_node if available is not None else np.inf
    per_rank = comm.allreduce_min(float(per_rank))
    if force or not estimate > per_rank:
        return
    found = (f"{model.source}: estimated peak memory {estimate:,.0f} MiB per rank on "
             f"{comm.size} rank(s) exceeds the {per_rank:,.0f} MiB available per rank "
             f"(MemAvailable of the node / {on_node} rank(s) on it)")
    # Parts that every rank (inputs) or rank 0 (activity) holds whole: more nodes do not help.
    if parts.recording_mib > per_rank / 2:
        raise ResourceError(f"{found}; population activity takes {parts.recording_mib:,.0f} "
                            "MiB on rank 0 for the whole run: use a larger "
                            "recording.population_activity bin (or mean_V_m interval) or a "
                            "shorter t_sim, or pass --force to try anyway")
    if parts.input_mib > per_rank / 2:
        raise ResourceError(f"{found}; spike_generator times take {parts.input_mib:,.0f} MiB "
                            "on every rank: use fewer spike times (e.g. a poisson input), or "
                            "pass --force to try anyway")
    nodes = int(np.ceil(comm.size * estimate / (per_rank * on_node)))
    raise ResourceError(
        f"{found}; spread the run over more nodes (about {nodes} like this one), use a "
        "smaller scale (--set scale=...), or pass --force to try anyway")


# ----------------------------------------------------------------------------- numerics

class FiniteStateGuard:
    """The engine's control: the Checkpointer's decisions, plus a NaN/inf test of every
    floating-point state array each `check_every_steps` (one pass of np.isfinite)."""

    def __init__(self, control, engine, model, check_every_ms: float | None = None):
        self.control = control
        self.engine = engine
        self.model = model
        self.comm = engine.comm
        every_ms = CHECK_EVERY_MS if check_every_ms is None else check_every_ms
        self.every_steps = max(1, int(round(every_ms / engine.dt)))
        self.next_check = engine.step + self.every_steps
        self.finding: dict | None = None
        self.arrays = [(name, values) for name, values in engine.network.state.items()
                       if values.dtype.kind == "f"]
        self._faults = _TestFaults(self.comm.rank)

    def after_epoch(self, step: int, agreed_requests: int) -> tuple[int, bool]:
        if agreed_requests & REQUEST_NONFINITE:
            return 0, True                      # every rank sees the bit in the same epoch
        if self.control is not None:
            requests, stop = self.control.after_epoch(step, agreed_requests)
        else:
            requests, stop = 0, False
        self._faults.during_simulation(step, self.engine.network)
        if step >= self.next_check:
            self.next_check = step + self.every_steps
            if self.finding is None:
                self.finding = self.scan(step)
        if self.finding is not None:
            requests |= REQUEST_NONFINITE
        return requests, stop

    def scan(self, step: int) -> dict | None:
        """The first non-finite value of this rank (lowest gid), or None."""
        found = None
        for name, values in self.arrays:
            if np.isfinite(values).all():       # the cheap test; below only when it fails
                continue
            local = int(np.flatnonzero(~np.isfinite(values))[0])
            gid = int(self.engine.network.local_gids[local])
            if found is None or gid < found["gid"]:
                found = {"gid": gid, "variable": name, "value": float(values[local]),
                         "step": int(step)}
        return found

    def agree(self) -> NumericalError | None:
        """Collective, once after the loop: the error every rank raises, or None."""
        if self.finding is None:
            self.finding = self.scan(self.engine.step)
        if not self.comm.allreduce_max(1 if self.finding is not None else 0):
            return None
        findings = [f for f in (self.comm.gather(self.finding) or []) if f is not None]
        message = None
        if self.comm.rank == 0:
            first = min(findings, key=lambda f: (f["step"], f["gid"]))
            message = self._message(first)
        return NumericalError(self.comm.bcast(message))

    def _message(self, finding: dict) -> str:
        dt = self.engine.dt
        gid = finding["gid"]
        population = next(p for p in self.model.populations
                          if p.offset <= gid < p.offset + p.size)
        return (f"{self.model.source}: neuron gid {gid} (population {population.name}, node id "
                f"{gid - population.offset}) has {finding['variable']} = {finding['value']} at "
                f"step {finding['step']} ({finding['step'] * dt:g} ms; state is tested every "
                f"{self.every_steps} steps); the recordings up to there are written. Check the "
                f"parameters and weights of {population.name} (huge weights, a too large dt "
                f"for this model, or an unstable parameter set)")


# ----------------------------------------------------------------------------- test hooks

class _TestFaults:
    """BRAINSIM_TEST_FAIL_RANK=r with BRAINSIM_TEST_FAIL_AT=build|simulate raises TestFault
    on rank r (simulate: at the first check after BRAINSIM_TEST_FAIL_STEP, default 10);
    BRAINSIM_TEST_NAN_RANK=r with BRAINSIM_TEST_NAN_STEP=s writes NaN into the V_m of rank
    r's first neuron after step s."""

    def __init__(self, rank: int):
        env = os.environ
        self.fail = (env.get("BRAINSIM_TEST_FAIL_AT") == "simulate"
                     and env.get("BRAINSIM_TEST_FAIL_RANK") == str(rank))
        self.fail_step = int(env.get("BRAINSIM_TEST_FAIL_STEP", "10"))
        self.nan = env.get("BRAINSIM_TEST_NAN_RANK") == str(rank)
        self.nan_step = int(env.get("BRAINSIM_TEST_NAN_STEP", "10"))

    def during_simulation(self, step: int, network) -> None:
        if self.fail and step >= self.fail_step:
            raise TestFault(f"injected test fault on rank {network.rank} at step {step}")
        if self.nan and step >= self.nan_step and network.num_local:
            self.nan = False
            network.state["V_m"][0] = np.nan


def inject_test_fault(where: str, rank: int) -> None:
    """Tests only: raise on rank BRAINSIM_TEST_FAIL_RANK when BRAINSIM_TEST_FAIL_AT == where;
    pause there when BRAINSIM_TEST_PAUSE_AT == where (pause_for_test)."""
    env = os.environ
    if env.get("BRAINSIM_TEST_PAUSE_AT") == where:
        pause_for_test(where, rank)
    if env.get("BRAINSIM_TEST_FAIL_AT") == where and env.get("BRAINSIM_TEST_FAIL_RANK") == str(rank):
        raise TestFault(f"injected test fault on rank {rank} at {where}")


def pause_for_test(where: str, rank: int) -> None:
    """Tests only: every rank creates BRAINSIM_TEST_PAUSE_FILE.<rank> (so a test knows
    where the run is) and sleeps BRAINSIM_TEST_PAUSE_S seconds (default 3), the time for a
    test to send a signal during start-up, the build or a checkpoint write."""
    import time
    marker = os.environ.get("BRAINSIM_TEST_PAUSE_FILE")
    if marker:
        with open(f"{marker}.{rank}", "w") as handle:
            handle.write(where + "\n")
    time.sleep(float(os.environ.get("BRAINSIM_TEST_PAUSE_S", "3")))
