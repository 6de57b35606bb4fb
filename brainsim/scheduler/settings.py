"""Job settings: the run config's `run:` mapping, overridden by command-line flags.

Every value that reaches a job script is checked here against an allowed-character pattern
(names, partition, account, time, memory, extra directives) or is later shell-quoted by
render.py (paths, --set values, environment values, launcher words). A value that could
break out of a `#SBATCH` / `#PBS` line or a shell word is refused with one line naming the
setting, what was found and what is expected.

Keys of `run:` (all optional; docs/hpc.md has the table):
    scheduler            slurm | pbs
    nodes                nodes to ask for
    ranks_per_node       MPI ranks (tasks) per node
    ranks                total ranks on one node (laptop/workstation configs), used when
                         ranks_per_node is absent
    cpus_per_task        cores per rank (brainsim is single-threaded: 1)
    walltime             time limit, [D-]HH:MM:SS
    partition            SLURM partition / PBS queue
    account              account (project) charged
    mem                  memory per node asked of the scheduler, e.g. 64G
    memory_per_node_gb   memory a node has (GB), for the fit warning
    job_name             job name (default: the model name)
    warning_seconds      time-limit warning (checkpoint and stop) this many seconds before
                         the limit (default 120, at most a quarter of the time limit)
    launcher             MPI launcher command (default "srun --mpi=pmi2" / "mpiexec")
    overcommit           SLURM --overcommit: more ranks than cores (testing only)
    chain                continuation jobs submitted at most (default 0)
    directives           extra scheduler directives, e.g. ["--constraint=haswell"]
    environment          variables exported in the job, e.g. {HDF5_USE_FILE_LOCKING: "FALSE"}
    checkpoint           read by brainsim run itself (docs/checkpointing.md)
"""
from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from brainsim.scheduler import SchedulerError

SCHEDULERS = ("slurm", "pbs")
RUN_KEYS = ("scheduler", "nodes", "ranks_per_node", "ranks", "cpus_per_task", "walltime",
            "partition", "account", "mem", "memory_per_node_gb", "job_name",
            "warning_seconds", "launcher", "overcommit", "chain", "directives", "environment",
            "checkpoint", "kernel_cache")
DEFAULT_LAUNCHER = {"slurm": "srun --mpi=pmi2", "pbs": "mpiexec"}
DEFAULT_WALLTIME_S = 3600
DEFAULT_WARNING_S = 120

# Allowed characters. SLURM job names may be long; PBS wants a letter first and (Torque)
# at most 15 characters, so one pattern per scheduler.
JOB_NAME = {"slurm": re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]{0,63}"),
            "pbs": re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,14}")}
PARTITION = re.compile(r"[A-Za-z0-9_.-]+(,[A-Za-z0-9_.-]+)*")
ACCOUNT = re.compile(r"[A-Za-z0-9_.-]+")
MEM = re.compile(r"([0-9]+)([KMGT]?)", re.IGNORECASE)
TIME = re.compile(r"(?:([0-9]+)-)?([0-9]+):([0-5][0-9]):([0-5][0-9])")
DIRECTIVE = re.compile(r"-{1,2}[A-Za-z][A-Za-z0-9-]*(?:[ =][A-Za-z0-9_.,:=@+/-]+)?")
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
LAUNCHER_WORD = re.compile(r"[A-Za-z0-9_.,:=@+/-]+")
# Paths written into a directive line (#SBATCH --output=...) cannot be quoted there.
DIRECTIVE_PATH = re.compile(r"[A-Za-z0-9_./+,=:@~-]+")


@dataclass(frozen=True)
class JobSettings:
    """What the job asks of the scheduler; times in seconds, memory as the scheduler's
    string (mem) and in GB (memory_per_node_gb)."""
    scheduler: str
    nodes: int
    ranks_per_node: int
    cpus_per_task: int
    walltime_s: int
    job_name: str
    partition: str | None = None
    account: str | None = None
    mem: str | None = None
    memory_per_node_gb: float | None = None
    warning_s: int = DEFAULT_WARNING_S
    launcher: tuple[str, ...] = ()
    overcommit: bool = False
    chain: int = 0
    directives: tuple[str, ...] = ()
    environment: tuple[tuple[str, str], ...] = ()

    @property
    def ranks(self) -> int:
        return self.nodes * self.ranks_per_node


# command-line flag (argparse dest) -> run: key
FLAG_KEYS = {"scheduler": "scheduler", "nodes": "nodes", "ntasks_per_node": "ranks_per_node",
             "cpus_per_task": "cpus_per_task", "time": "walltime", "partition": "partition",
             "account": "account", "mem": "mem", "job_name": "job_name",
             "warning_seconds": "warning_seconds", "launcher": "launcher",
             "overcommit": "overcommit", "chain": "chain"}
FLAG_NAMES = {"ntasks_per_node": "--ntasks-per-node", "cpus_per_task": "--cpus-per-task",
              "time": "--time", "job_name": "--job-name",
              "warning_seconds": "--warning-seconds"}


def job_settings(run: dict | None, flags: dict, config_label: str, model_name: str
                 ) -> JobSettings:
    """Merge `run:` (from the config and --set) with the flags (None = not given) and check
    every value. config_label names where `run:` came from, for messages."""
    run = dict(run or {})
    unknown = sorted(set(run) - set(RUN_KEYS))
    if unknown:
        raise SchedulerError(f"{config_label}: run.{unknown[0]}: unknown key; expected one of "
                             + ", ".join(RUN_KEYS))
    values, where = {}, {}
    for key, value in run.items():
        values[key], where[key] = value, f"{config_label}: run.{key}"
    for dest, key in FLAG_KEYS.items():
        if flags.get(dest) is not None and flags.get(dest) is not False:
            values[key] = flags[dest]
            where[key] = FLAG_NAMES.get(dest, "--" + dest.replace("_", "-"))
    return _check(values, lambda key: where.get(key, f"run.{key}"), model_name)


def _check(values: dict, where, model_name: str) -> JobSettings:
    def fail(key, found, expected):
        return SchedulerError(f"{where(key)}: {found!r}; expected {expected}")

    scheduler = values.get("scheduler")
    if scheduler not in SCHEDULERS:
        if scheduler is None:
            raise SchedulerError("no scheduler: give --scheduler slurm|pbs or run.scheduler "
                                 "in the config")
        raise fail("scheduler", scheduler, "one of " + ", ".join(SCHEDULERS))

    def positive_int(key, default):
        value = values.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise fail(key, value, "a positive integer")
        return value

    nodes = positive_int("nodes", 1)
    if "ranks_per_node" in values or "ranks" not in values:
        ranks_per_node = positive_int("ranks_per_node", 1)
    else:
        total = positive_int("ranks", 1)
        if total % nodes:
            raise fail("ranks", total, f"a multiple of nodes = {nodes} (or set ranks_per_node)")
        ranks_per_node = total // nodes
    cpus = positive_int("cpus_per_task", 1)
    walltime_s = parse_walltime(values.get("walltime"), where("walltime"))
    warning_s = values.get("warning_seconds", min(DEFAULT_WARNING_S, walltime_s // 4))
    if isinstance(warning_s, bool) or not isinstance(warning_s, int) or not 0 < warning_s < walltime_s:
        raise fail("warning_seconds", warning_s,
                   f"a whole number of seconds in (0, {walltime_s}) (the time limit)")
    chain = values.get("chain", 0)
    if isinstance(chain, bool) or not isinstance(chain, int) or chain < 0:
        raise fail("chain", chain, "a non-negative integer (continuation jobs)")
    name = values.get("job_name") or default_job_name(model_name, scheduler)
    _match(name, JOB_NAME[scheduler], where("job_name"),
           "a job name of letters, digits, _ . - "
           + ("(+), at most 64" if scheduler == "slurm" else ", a letter first, at most 15"))
    partition = _optional(values, "partition", PARTITION, where,
                          "partition names of letters, digits, _ . - (comma-separated)")
    account = _optional(values, "account", ACCOUNT, where, "letters, digits, _ . -")
    mem = _optional(values, "mem", MEM, where, "a size like 64G, 500M or 1024 (MB)")
    per_node = values.get("memory_per_node_gb")
    if per_node is not None and (isinstance(per_node, bool)
                                 or not isinstance(per_node, (int, float)) or not per_node > 0):
        raise fail("memory_per_node_gb", per_node, "a positive number of GB")
    launcher = values.get("launcher", DEFAULT_LAUNCHER[scheduler])
    words = _launcher_words(launcher, where("launcher"))
    overcommit = values.get("overcommit", False)
    if not isinstance(overcommit, bool):
        raise fail("overcommit", overcommit, "true or false")
    directives = values.get("directives", [])
    if not isinstance(directives, list):
        raise fail("directives", directives, "a list of directives like --constraint=haswell")
    for directive in directives:
        _match(directive, DIRECTIVE, where("directives"),
               "a directive like --constraint=haswell or -l place=scatter (letters, digits "
               "and _ . , : = @ + / - only)")
    environment = values.get("environment", {})
    if not isinstance(environment, dict):
        raise fail("environment", environment, "a mapping NAME: value")
    for env_name, env_value in environment.items():
        _match(env_name, ENV_NAME, where("environment"), "a variable name ([A-Za-z_][A-Za-z0-9_]*)")
        if not isinstance(env_value, (str, int, float)) or isinstance(env_value, bool) \
                or _has_control(str(env_value)):
            raise fail("environment", {env_name: env_value},
                       "a string or number value without control characters")
    return JobSettings(
        scheduler=scheduler, nodes=nodes, ranks_per_node=ranks_per_node, cpus_per_task=cpus,
        walltime_s=walltime_s, job_name=name, partition=partition, account=account,
        mem=mem.upper() if mem else None,
        memory_per_node_gb=float(per_node) if per_node is not None else None,
        warning_s=warning_s, launcher=words, overcommit=overcommit, chain=chain,
        directives=tuple(directives),
        environment=tuple((k, str(v)) for k, v in environment.items()))


def _match(value, pattern: re.Pattern, label: str, expected: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise SchedulerError(f"{label}: {value!r}; expected {expected}")
    return value


def _optional(values, key, pattern, where, expected) -> str | None:
    value = values.get(key)
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return _match(value, pattern, where(key), expected)


def _launcher_words(launcher, label: str) -> tuple[str, ...]:
    if isinstance(launcher, str) and _has_control(launcher):
        raise SchedulerError(f"{label}: {launcher!r}; expected a command on one line, like "
                             "'srun --mpi=pmi2'")
    if isinstance(launcher, str):
        try:
            words = shlex.split(launcher)
        except ValueError as err:
            raise SchedulerError(f"{label}: {launcher!r}; expected a command like "
                                 f"'srun --mpi=pmi2' ({err})") from None
    elif isinstance(launcher, list):
        words = launcher
    else:
        raise SchedulerError(f"{label}: {launcher!r}; expected a command string or list")
    if not words:
        raise SchedulerError(f"{label}: empty; expected a command like 'srun --mpi=pmi2'")
    for word in words:
        _match(word, LAUNCHER_WORD, label,
               "launcher words of letters, digits and _ . , : = @ + / - only")
    return tuple(words)


def _has_control(text: str) -> bool:
    return any(ord(c) < 32 or ord(c) == 127 for c in text)


def parse_walltime(value, label: str) -> int:
    """'[D-]HH:MM:SS' -> seconds (None: the default, one hour)."""
    if value is None:
        return DEFAULT_WALLTIME_S
    match = TIME.fullmatch(value) if isinstance(value, str) else None
    if not match:
        raise SchedulerError(f"{label}: {value!r}; expected a time limit HH:MM:SS or "
                             "D-HH:MM:SS (quote it in YAML)")
    days, hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    total = ((days * 24 + hours) * 60 + minutes) * 60 + seconds
    if total <= 0:
        raise SchedulerError(f"{label}: {value!r}; expected a positive time limit")
    return total


def format_walltime(seconds: int) -> str:
    """Seconds -> HH:MM:SS (hours may exceed 24; both SLURM and PBS accept that)."""
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def default_job_name(model_name: str, scheduler: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", model_name or "brainsim")
    if not name[0].isalpha():
        name = "b" + name
    return name[:15] if scheduler == "pbs" else name[:64]


def mem_megabytes(mem: str) -> int:
    """'64G' -> 65536 (SLURM units: K, M (default), G, T are binary)."""
    number, unit = MEM.fullmatch(mem).groups()
    return int(number) * {"K": 1 / 1024, "": 1, "M": 1, "G": 1024, "T": 1 << 20}[unit.upper()]


def check_directive_path(path: str, label: str) -> str:
    """A path written into a #SBATCH / #PBS line, where it cannot be quoted."""
    return _match(path, DIRECTIVE_PATH, label,
                  "a path of letters, digits and _ . / + , = : @ ~ - only (no spaces, no %: "
                  "it goes into a scheduler directive); choose another -o")
