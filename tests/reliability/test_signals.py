"""Signals at every phase of a run: the time-limit warning (SIGUSR1) and SIGTERM while the model
loads, MPI starts or the network is built are kept (status 75, and the continuation loses
nothing); Ctrl-C (SIGINT) during start-up, build, simulation and a checkpoint write gives one
line from rank 0, status 130, no traceback, and a rerun or resume that works. Also the exit
path's other statuses: a closed stdout (141, quiet), permission problems (2, naming the path)
and the advice of a failed write (resume only where a checkpoint exists)."""
from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest

from cli_runner import DATA, MODELS, brainsim_command, mpiexec_path, run_brainsim, spike_bytes

MODEL = os.path.join(DATA, "small_network.yaml")
PD14 = os.path.join(MODELS, "potjans_diesmann_2014.yaml")
EXIT_CHECKPOINTED, EXIT_INTERRUPTED, EXIT_CLOSED_PIPE = 75, 130, 141
LONG = ["--set", "simulation.t_sim=20000"]          # ~10 s: always stopped before the end

needs_mpiexec = pytest.mark.skipif(mpiexec_path() is None, reason="mpiexec not found")


def _default_interrupt():
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(args, ranks, tmp_path, pause_at=None, pause_s=3.0):
    """Popen of `brainsim ARGS`; with pause_at, every rank pauses there (test hook) and the
    call returns once all of them have."""
    env = dict(os.environ)
    marker = str(tmp_path / "paused")
    if pause_at:
        env.update(BRAINSIM_TEST_PAUSE_AT=pause_at, BRAINSIM_TEST_PAUSE_FILE=marker,
                   BRAINSIM_TEST_PAUSE_S=str(pause_s))
    # the child gets Ctrl-C's default disposition whatever this process has: an in-process
    # CLI test that was interrupted leaves SIGINT ignored here (guards.exit_after_interrupt),
    # and an ignored SIGINT is inherited across exec (mpiexec resets it, python does not)
    process = subprocess.Popen(brainsim_command(args, ranks), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=env,
                               preexec_fn=_default_interrupt)
    if pause_at:
        deadline = time.monotonic() + 60
        while not all(os.path.exists(f"{marker}.{rank}") for rank in range(ranks or 1)):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the run never reached " + pause_at
            time.sleep(0.02)
        time.sleep(0.2)
    return process


def finish(process, timeout=120):
    stdout, stderr = process.communicate(timeout=timeout)
    return process.returncode, stdout, stderr


def brainsim_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("brainsim")]


def run(args, expect=0, ranks=None):
    done = run_brainsim(args, ranks=ranks, timeout=300)
    assert done.returncode == expect, done.stdout + done.stderr
    return done


# --- SIGUSR1 / SIGTERM before the simulation ---------------------------------------------

@needs_mpiexec
@pytest.mark.parametrize("number", [signal.SIGUSR1, signal.SIGTERM])
def test_stop_signal_during_the_build_checkpoints_and_the_continuation_finishes(
        tmp_path, number):
    """Before: MPI_Init's SIGUSR1 handler swallowed the warning (the run went on to the
    time limit) and SIGTERM killed the ranks (status 15, no checkpoint)."""
    outdir = str(tmp_path / "out")
    args = ["run", MODEL, "-o", outdir, "--no-progress", "--set", "simulation.t_sim=300"]
    process = start(args, 2, tmp_path, pause_at="build")
    process.send_signal(number)                 # to mpiexec, which forwards it to the ranks
    status, stdout, stderr = finish(process)
    assert status == EXIT_CHECKPOINTED, stdout + stderr
    assert f"continue with: brainsim resume {outdir}" in stdout
    assert "Traceback" not in stderr
    assert os.listdir(os.path.join(outdir, "checkpoints")) == ["ckpt_000000000002"]
    run(["resume", outdir, "--no-progress"], ranks=2)
    reference = str(tmp_path / "reference")
    run(args[:3] + [reference] + args[4:])
    assert spike_bytes(outdir) == spike_bytes(reference)


@needs_mpiexec
@pytest.mark.parametrize("ranks", [None, 2])
def test_stop_signal_before_mpi_starts_exits_75_with_nothing_written(tmp_path, ranks):
    """Before: SIGUSR1 arriving before any handler killed the process (status 138 / -10)."""
    outdir = str(tmp_path / "out")
    args = ["run", MODEL, "-o", outdir, "--no-progress", "--set", "simulation.t_sim=100"]
    process = start(args, ranks, tmp_path, pause_at="start")
    process.send_signal(signal.SIGUSR1)
    status, stdout, stderr = finish(process)
    assert status == EXIT_CHECKPOINTED, stdout + stderr
    assert "stopped by SIGUSR1 before anything was simulated; nothing was written; run the " \
        "same command again" in stdout
    assert not os.path.exists(outdir)
    run(args)                                   # what the chained job does: run again


@needs_mpiexec
def test_stop_signal_during_a_checkpoint_write_stops_after_it(tmp_path):
    """SIGTERM while a periodic checkpoint is written: that checkpoint completes, the run
    checkpoints again at the next epoch boundary and stops with 75; resume finishes it."""
    outdir = str(tmp_path / "out")
    args = ["run", MODEL, "-o", outdir, "--no-progress", "--set", "simulation.t_sim=300",
            "--checkpoint-every", "100"]
    process = start(args, 2, tmp_path, pause_at="checkpoint", pause_s=1)
    process.send_signal(signal.SIGTERM)
    status, stdout, stderr = finish(process)
    assert status == EXIT_CHECKPOINTED, stdout + stderr
    names = sorted(os.listdir(os.path.join(outdir, "checkpoints")))
    assert names[0] == "ckpt_000000001000" and len(names) == 2, names
    run(["resume", outdir, "--no-progress"], ranks=2)
    reference = str(tmp_path / "reference")
    run(["run", MODEL, "-o", reference, "--no-progress", "--set", "simulation.t_sim=300"])
    assert spike_bytes(outdir) == spike_bytes(reference)


def test_stop_signal_before_a_resume_starts(tmp_path):
    """A resume stopped before it touched anything: status 75, the checkpoint as it was."""
    outdir = str(tmp_path / "out")
    run(["run", MODEL, "-o", outdir, "--no-progress", "--set", "simulation.t_sim=50",
         "--checkpoint-at-end"])
    process = start(["resume", outdir, "--no-progress", "--set", "simulation.t_sim=100"],
                    None, tmp_path, pause_at="start")
    process.send_signal(signal.SIGUSR1)
    status, stdout, stderr = finish(process)
    assert status == EXIT_CHECKPOINTED, stdout + stderr
    assert f"nothing was written; continue with: brainsim resume {outdir}" in stdout
    run(["resume", outdir, "--no-progress", "--set", "simulation.t_sim=100"])


def test_signal_handlers_survive_mpi_init():
    """MPI_Init replaces the SIGUSR1 handler (MPICH/libfabric); make_comm puts ours back and
    lets a signal that arrived during start-up through."""
    code = ("import os, signal\n"
            "from brainsim.engine.signals import signal_watch\n"
            "from brainsim.engine import comm\n"
            "watch = signal_watch().install()\n"
            "with comm.signals_kept_through_mpi_init():\n"
            "    os.kill(os.getpid(), signal.SIGUSR1)   # held back until MPI has started\n"
            "    from mpi4py import MPI\n"
            "assert watch.received == 'SIGUSR1', watch.received\n"
            "watch.received = None\n"
            "os.kill(os.getpid(), signal.SIGUSR1)\n"
            "assert watch.received == 'SIGUSR1', 'MPI replaced the handler'\n")
    pytest.importorskip("mpi4py")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr


# --- Ctrl-C -----------------------------------------------------------------------------

def check_one_interrupt_line(status, stdout, stderr):
    assert status == EXIT_INTERRUPTED, stdout + stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    lines = brainsim_lines(stderr)
    assert len(lines) == 1 and lines[0].startswith("brainsim: interrupted (Ctrl-C)"), stderr
    return lines[0]


@needs_mpiexec
@pytest.mark.parametrize("ranks", [None, 2])
def test_ctrl_c_while_simulating(tmp_path, ranks):
    """Before: a traceback per rank, mpiexec's status 2 (the bad-input status), and the
    leftover .segments refused a rerun."""
    outdir = str(tmp_path / "out")
    args = ["run", MODEL, "-o", outdir, "--no-progress", *LONG]
    process = start(args, ranks, tmp_path)
    deadline = time.monotonic() + 60
    while not os.path.isdir(os.path.join(outdir, ".segments")):
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.02)
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    line = check_one_interrupt_line(*finish(process))
    assert f"no checkpoint was reached, so nothing of this run is kept in {outdir}: run the " \
        "same command again" in line
    assert not os.path.exists(os.path.join(outdir, "run_interrupted.json"))
    run(["run", MODEL, "-o", outdir, "--no-progress", "--set", "simulation.t_sim=50"])


@needs_mpiexec
@pytest.mark.parametrize("where, ranks", [("start", 2), ("build", 2), ("build", None)])
def test_ctrl_c_during_start_up_and_build(tmp_path, where, ranks):
    outdir = str(tmp_path / "out")
    args = ["run", MODEL, "-o", outdir, "--no-progress", *LONG]
    process = start(args, ranks, tmp_path, pause_at=where)
    process.send_signal(signal.SIGINT)
    line = check_one_interrupt_line(*finish(process))
    if where == "start":
        assert line.endswith("nothing was written") and not os.path.exists(outdir)
    run(["run", MODEL, "-o", outdir, "--no-progress", "--set", "simulation.t_sim=50"])


@needs_mpiexec
def test_ctrl_c_during_a_checkpoint_write_finishes_it_and_resume_continues(tmp_path):
    """Inside the epoch loop a first Ctrl-C waits for the epoch's end: the checkpoint being
    written completes, every rank stops, and resume from it equals an unbroken run."""
    outdir = str(tmp_path / "out")
    args = ["run", MODEL, "-o", outdir, "--no-progress", "--set", "simulation.t_sim=300",
            "--checkpoint-every", "100"]
    process = start(args, 2, tmp_path, pause_at="checkpoint", pause_s=2)
    process.send_signal(signal.SIGINT)
    line = check_one_interrupt_line(*finish(process))
    assert f"continue with: brainsim resume {outdir} (latest checkpoint ckpt_000000001000)" \
        in line
    run(["resume", outdir, "--no-progress"], ranks=2)
    reference = str(tmp_path / "reference")
    run(["run", MODEL, "-o", reference, "--no-progress", "--set", "simulation.t_sim=300"])
    assert spike_bytes(outdir) == spike_bytes(reference)


def test_second_ctrl_c_during_a_checkpoint_write_stops_at_once(tmp_path):
    """A second Ctrl-C does not wait: the checkpoint stays .incomplete_ (never used), and a
    rerun removes what is left."""
    outdir = str(tmp_path / "out")
    args = ["run", MODEL, "-o", outdir, "--no-progress", *LONG, "--checkpoint-every", "100"]
    process = start(args, None, tmp_path, pause_at="checkpoint", pause_s=5)
    process.send_signal(signal.SIGINT)
    time.sleep(0.3)
    process.send_signal(signal.SIGINT)
    line = check_one_interrupt_line(*finish(process))
    assert "no checkpoint was reached" in line
    assert os.listdir(os.path.join(outdir, "checkpoints")) == [".incomplete_ckpt_000000001000"]
    run(["run", MODEL, "-o", outdir, "--no-progress", "--set", "simulation.t_sim=50"])
    assert not os.path.exists(os.path.join(outdir, "checkpoints"))


def test_ctrl_c_in_other_commands_is_one_line():
    code = ("import signal, sys\n"
            "from brainsim import cli\n"
            "def interrupt(args):\n"
            "    raise KeyboardInterrupt\n"
            "cli.COMMANDS['validate'] = interrupt\n"
            f"sys.exit(cli.main(['validate', {MODEL!r}]))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == EXIT_INTERRUPTED
    assert done.stderr == "brainsim: interrupted (Ctrl-C); nothing was written\n"


# --- closed pipes, permissions, the advice of exit 74 ---------------------------------------

@pytest.mark.parametrize("args", [["info", PD14], ["validate", PD14], ["models"], ["--help"]])
def test_closed_stdout_exits_quietly(args):
    """Before: `brainsim info ... | head` gave status 74 'writing failed ... resume'."""
    read_end, write_end = os.pipe()
    os.close(read_end)                          # the reader has gone, as after `head`
    done = subprocess.run(brainsim_command(args), stdout=write_end, stderr=subprocess.PIPE,
                          text=True, timeout=60)
    os.close(write_end)
    assert done.returncode in (0, EXIT_CLOSED_PIPE), done.stderr
    assert done.stderr == ""


def as_nobody():
    """argv prefix running a command as user nobody, or skip."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to run a command as an unprivileged user")
    return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


@pytest.fixture
def shared_tmp():
    """A directory user nobody can enter (pytest's tmp_path is root's only)."""
    path = tempfile.mkdtemp(prefix="brainsim_signals_", dir="/tmp")
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_unlistable_output_directory_is_bad_input(shared_tmp):
    """Before: status 74 ('writing failed ... resume from the latest checkpoint')."""
    prefix = as_nobody()
    outdir = os.path.join(shared_tmp, "locked")
    os.mkdir(outdir)
    os.chmod(outdir, 0o333)                     # enter and write, but not list
    done = subprocess.run(prefix + brainsim_command(
        ["run", MODEL, "-o", outdir, "--no-progress", "--set", "simulation.t_sim=50"]),
        capture_output=True, text=True, timeout=120, cwd=shared_tmp)
    assert done.returncode == 2, done.stderr
    assert done.stderr == (f"brainsim: error: {outdir}: Permission denied (errno 13 EACCES); "
                           "expected a file or directory brainsim may read and write (check "
                           "its permissions, or choose another path)\n")


def test_read_only_analyse_target_is_bad_input(shared_tmp):
    """Before: status 74 with resume advice, for a directory analyse cannot write into."""
    prefix = as_nobody()
    outdir = os.path.join(shared_tmp, "run")
    run(["run", MODEL, "-o", outdir, "--no-progress", "--set", "simulation.t_sim=50"])
    for root, dirs, files in os.walk(outdir):
        for name in dirs + files:
            os.chmod(os.path.join(root, name), 0o755)
    os.chmod(outdir, 0o555)
    done = subprocess.run(prefix + brainsim_command(["analyse", outdir, "--no-plots"]),
                          capture_output=True, text=True, timeout=120, cwd=shared_tmp)
    assert done.returncode == 2, done.stderr
    lines = brainsim_lines(done.stderr)
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert lines[0].startswith(f"brainsim: error: {os.path.join(outdir, 'analysis')}: "
                               "Permission denied (errno 13 EACCES)")


def test_write_failure_advises_resume_only_with_a_checkpoint(tmp_path):
    from brainsim.engine.guards import EXIT_IO, EXIT_USAGE, describe, exit_status
    full = OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "spikes.h5"))
    assert exit_status(full) == EXIT_IO
    line = describe(full, str(tmp_path))
    assert "resume" not in line and line.endswith("then run the same command again")
    checkpoint = tmp_path / "checkpoints" / "ckpt_000000000500"
    checkpoint.mkdir(parents=True)
    (checkpoint / "manifest.json").write_text("{}")
    assert describe(full, str(tmp_path)).endswith(
        f"then continue with: brainsim resume {tmp_path} (latest checkpoint "
        "ckpt_000000000500)")
    for number in (errno.EACCES, errno.EROFS, errno.EPERM):
        refused = OSError(number, os.strerror(number), "/x")
        assert exit_status(refused) == EXIT_USAGE
        assert "resume" not in describe(refused, str(tmp_path))


def test_an_ignored_sigint_stays_ignored(tmp_path):
    """A shell starts background commands with SIGINT ignored (a job script's `step &`):
    brainsim keeps it so and the run finishes."""
    outdir = str(tmp_path / "out")
    env = dict(os.environ, BRAINSIM_TEST_PAUSE_AT="build", BRAINSIM_TEST_PAUSE_S="2",
               BRAINSIM_TEST_PAUSE_FILE=str(tmp_path / "paused"))
    process = subprocess.Popen(
        brainsim_command(["run", MODEL, "-o", outdir, "--no-progress", "--set",
                          "simulation.t_sim=50"]), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env=env,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    while not os.path.exists(tmp_path / "paused.0"):
        assert process.poll() is None
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    status, stdout, stderr = finish(process)
    assert status == 0, stderr


def test_advice_after_a_failed_or_interrupted_final_merge(tmp_path):
    """With the final merge's record in place (the simulation is complete), both the exit-74
    line and the Ctrl-C line say that resume finishes the run."""
    from brainsim.engine.guards import _after_interrupt, describe
    (tmp_path / ".segments").mkdir()
    (tmp_path / ".segments" / "finish.json").write_text("{}")
    full = OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "spikes.h5"))
    assert f"then finish with: brainsim resume {tmp_path}" in describe(full, str(tmp_path))
    assert f"finish writing the results with: brainsim resume {tmp_path}" in \
        _after_interrupt(str(tmp_path))
