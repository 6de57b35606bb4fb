"""Job script text: a shipped template (jobs/, found by brainsim.shipped) with its two
marked blocks replaced.

    # >>> brainsim submit: directives     #SBATCH / #PBS lines (values checked by settings.py)
    # >>> brainsim submit: settings       shell assignments (every value shlex-quoted)

The rest of the template (run or resume, forward the time-limit signal, chain) is kept as
it is, so the rendered script and the template do the same thing and either can be
submitted by hand.
"""
from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass

from brainsim.scheduler import SchedulerError
from brainsim.scheduler.settings import (JobSettings, check_directive_path, format_walltime,
                                         mem_megabytes)
from brainsim.shipped import job_template

TEMPLATES = {"slurm": "slurm.sbatch", "pbs": "pbs.pbs"}
SCRIPT_NAMES = {"slurm": "job.sbatch", "pbs": "job.pbs"}
BLOCK = re.compile(r"^# >>> brainsim submit: (?P<name>\w+)\n.*?^# <<< brainsim submit: "
                   r"(?P=name)\n", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class JobRun:
    """What the job runs; every path absolute."""
    model: str                      # model YAML
    config: str | None              # run config YAML
    outdir: str                     # output directory (the script and logs go there too)
    overrides: tuple[str, ...]      # --set values, passed on unchanged
    python: str                     # interpreter with brainsim and mpi4py
    brainsim_root: str              # directory holding the brainsim package (PYTHONPATH)
    workdir: str                    # where the job starts (relative paths in the model)
    overwrite: bool = False


def template_path(scheduler: str, jobs_dir: str | None = None) -> str:
    """The scheduler's template: in jobs_dir if given, else the shipped one (jobs/ of the
    repository, or the copy inside an installed package)."""
    if jobs_dir is None:
        return job_template(TEMPLATES[scheduler])
    return os.path.join(jobs_dir, TEMPLATES[scheduler])


def script_path(settings: JobSettings, outdir: str) -> str:
    return os.path.join(outdir, SCRIPT_NAMES[settings.scheduler])


def render(settings: JobSettings, job: JobRun, jobs_dir: str | None = None) -> str:
    """The job script for `job` under `settings`, from the scheduler's template."""
    path = template_path(settings.scheduler, jobs_dir)
    try:
        with open(path) as handle:
            template = handle.read()
    except OSError as err:
        raise SchedulerError(f"{path}: cannot read the job template ({err.strerror})") from None
    blocks = {"directives": directives(settings, job), "settings": assignments(settings, job)}
    found = [m.group("name") for m in BLOCK.finditer(template)]
    if sorted(found) != sorted(blocks):
        raise SchedulerError(f"{path}: marked blocks {found}; expected one each of "
                             "'# >>> brainsim submit: directives' and '...: settings' "
                             "(each closed by '# <<< brainsim submit: NAME')")

    def fill(match):
        name = match.group("name")
        return (f"# >>> brainsim submit: {name}\n{blocks[name]}"
                f"# <<< brainsim submit: {name}\n")
    return BLOCK.sub(fill, template)


def directives(settings: JobSettings, job: JobRun) -> str:
    if settings.scheduler == "slurm":
        lines = slurm_directives(settings, job)
    else:
        lines = pbs_directives(settings, job)
    return "".join(line + "\n" for line in lines)


def slurm_directives(s: JobSettings, job: JobRun) -> list[str]:
    outdir = check_directive_path(job.outdir, "-o (output directory)")
    lines = [f"--job-name={s.job_name}", f"--nodes={s.nodes}",
             f"--ntasks-per-node={s.ranks_per_node}", f"--cpus-per-task={s.cpus_per_task}",
             f"--time={format_walltime(s.walltime_s)}",
             # B: only the batch shell gets the warning; the script forwards it to srun.
             f"--signal=B:USR1@{s.warning_s}",
             f"--output={os.path.join(outdir, 'slurm-%j.out')}"]
    if s.partition:
        lines.append(f"--partition={s.partition}")
    if s.account:
        lines.append(f"--account={s.account}")
    if s.mem:
        lines.append(f"--mem={s.mem}")
    if s.overcommit:
        lines.append("--overcommit")
    lines += list(s.directives)
    return ["#SBATCH " + line for line in lines]


def pbs_directives(s: JobSettings, job: JobRun) -> list[str]:
    log = check_directive_path(os.path.join(job.outdir, "pbs.out"), "-o (output directory)")
    select = (f"select={s.nodes}:ncpus={s.ranks_per_node * s.cpus_per_task}"
              f":mpiprocs={s.ranks_per_node}")
    if s.mem:
        select += f":mem={mem_megabytes(s.mem)}mb"
    lines = [f"-N {s.job_name}", f"-l {select}", f"-l walltime={format_walltime(s.walltime_s)}",
             "-j oe", f"-o {log}"]
    if s.partition:
        lines.append(f"-q {s.partition}")
    if s.account:
        lines.append(f"-A {s.account}")
    lines += list(s.directives)
    return ["#PBS " + line for line in lines]


def assignments(s: JobSettings, job: JobRun) -> str:
    """The settings block: shell assignments, every value quoted."""
    q = shlex.quote
    run_options = [word for value in job.overrides for word in ("--set", value)]
    if job.overwrite:
        run_options.append("--overwrite")
    lines = [
        f"model={q(job.model)}",
        "config_args=(" + (f"--config {q(job.config)}" if job.config else "") + ")",
        f"outdir={q(job.outdir)}",
        "run_options=(" + " ".join(q(w) for w in run_options) + ")",
        f"workdir={q(job.workdir)}",
        f"brainsim_root={q(job.brainsim_root)}",
        f"python={q(job.python)}",
        "launcher=(" + " ".join(q(w) for w in s.launcher) + ")",
    ]
    if s.scheduler == "pbs":
        lines += [f"ranks={s.ranks}", f"walltime_s={s.walltime_s}", f"warning_s={s.warning_s}"]
    lines += [
        f"chain_left=${{BRAINSIM_CHAIN_LEFT:-{s.chain}}}",
        f"job_script={q(script_path(s, job.outdir))}",
    ]
    lines += [f"export {name}={q(value)}" for name, value in s.environment]
    return "".join(line + "\n" for line in lines)
