"""`brainsim submit MODEL` and `brainsim status OUTDIR`.

submit renders OUTDIR/job.sbatch (SLURM) or OUTDIR/job.pbs (PBS) from the template in jobs/,
keeps it there (it can be read and submitted again by hand) and, unless --dry-run, submits
it and prints the job id. Settings: the config's `run:` mapping, overridden by the flags
(brainsim.scheduler.settings lists the keys). Bad settings print one line and exit with
status 2 before anything is written or submitted.

Importing this module is cheap (argparse only).
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys

EXIT_USAGE = 2
JOB_ID = re.compile(r"[A-Za-z0-9_.\[\]-]+")


def add_parsers(subparsers) -> None:
    """Add `submit` and `status` to brainsim's subparsers."""
    submit = subparsers.add_parser(
        "submit", help="render a SLURM/PBS job script into OUTDIR and submit it")
    submit.add_argument("model", help="model YAML file, or the name of a shipped model "
                        "(brainsim models)")
    submit.add_argument("--config", help="run configuration YAML or shipped config name (its "
                        "run: mapping holds the job settings, see docs/hpc.md)")
    submit.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="PATH=VALUE", help="override one value (passed to the job)")
    submit.add_argument("--scheduler", choices=("slurm", "pbs"),
                        help="batch system (default: run.scheduler)")
    submit.add_argument("-o", "--output", help="output directory; the job script goes there "
                        "(default: the model's output.directory, else output/<model name>)")
    submit.add_argument("--overwrite", action="store_true",
                        help="replace results already in the output directory")
    submit.add_argument("--dry-run", action="store_true",
                        help="write the job script, submit nothing")
    submit.add_argument("--chain", type=int, metavar="K",
                        help="after a checkpointed stop (exit 75) submit a continuation "
                        "job, at most K times")
    submit.add_argument("--nodes", type=int, help="nodes (run.nodes)")
    submit.add_argument("--ntasks-per-node", type=int,
                        help="MPI ranks per node (run.ranks_per_node)")
    submit.add_argument("--cpus-per-task", type=int, help="cores per rank (run.cpus_per_task)")
    submit.add_argument("--time", help="time limit [D-]HH:MM:SS (run.walltime)")
    submit.add_argument("--partition", help="SLURM partition / PBS queue (run.partition)")
    submit.add_argument("--account", help="account charged (run.account)")
    submit.add_argument("--mem", help="memory per node to ask for, e.g. 64G (run.mem)")
    submit.add_argument("--job-name", help="job name (run.job_name; default: the model name)")
    submit.add_argument("--warning-seconds", type=int, metavar="S",
                        help="checkpoint and stop S seconds before the time limit "
                        "(run.warning_seconds; default 120)")
    submit.add_argument("--launcher", help="MPI launcher, e.g. 'srun --mpi=pmix' "
                        "(run.launcher; default 'srun --mpi=pmi2' / 'mpiexec')")
    submit.add_argument("-O", "--overcommit", action="store_true",
                        help="SLURM --overcommit: more ranks than cores (testing)")
    status = subparsers.add_parser(
        "status", help="where a submitted (chained) run stands: jobs, checkpoints, finished")
    status.add_argument("outdir", help="output directory given to brainsim submit")
    status.add_argument("--json", action="store_true", help="print the status as JSON")


def command_submit(args: argparse.Namespace) -> int:
    from brainsim.scheduler import SchedulerError
    try:
        return _submit(args)
    except SchedulerError as err:
        _refuse(err)
        return EXIT_USAGE


def _refuse(err: Exception) -> None:
    """The one line of a refusal: a path or value with a newline or an escape sequence
    (a model file named so, a hostile flag) must not break it or drive the terminal."""
    from brainsim.spec.errors import one_line
    sys.stderr.write(f"brainsim: error: {one_line(str(err))}\n")


def command_status(args: argparse.Namespace) -> int:
    import json
    from brainsim.scheduler import SchedulerError
    from brainsim.scheduler.status import format_status, run_status
    try:
        report = run_status(args.outdir)
    except SchedulerError as err:
        _refuse(err)
        return EXIT_USAGE
    print(json.dumps(report, indent=2) if args.json else format_status(report))
    return 0


def _submit(args: argparse.Namespace) -> int:
    import brainsim
    from brainsim.io.files import check_output_dir, prepare_output_dir
    from brainsim.scheduler import joblog
    from brainsim.scheduler.memory import memory_warning
    from brainsim.scheduler.render import JobRun, render, script_path
    from brainsim.scheduler.settings import format_walltime, job_settings, mem_megabytes
    from brainsim.shipped import resolve_arguments
    from brainsim.spec import load_model

    resolve_arguments(args)        # shipped model / config names -> their files
    model = load_model(args.model, args.config, args.overrides)
    settings = job_settings(model.document.get("run"), vars(args),
                            args.config or args.model, model.name)
    outdir = os.path.abspath(args.output or model.output_dir or os.path.join("output",
                                                                             model.name))
    check_output_dir(outdir, args.overwrite)
    warning = memory_warning(model, settings.nodes, settings.ranks_per_node,
                             settings.memory_per_node_gb,
                             mem_megabytes(settings.mem) if settings.mem else None)
    if warning:
        sys.stderr.write(f"brainsim: {warning}\n")
    job = JobRun(model=os.path.abspath(args.model),
                 config=os.path.abspath(args.config) if args.config else None,
                 outdir=outdir, overrides=tuple(args.overrides), python=sys.executable,
                 brainsim_root=os.path.dirname(os.path.dirname(os.path.abspath(
                     brainsim.__file__))),
                 workdir=os.getcwd(), overwrite=args.overwrite)
    text = render(settings, job)
    prepare_output_dir(outdir)
    path = script_path(settings, outdir)
    with open(path + ".partial", "w") as handle:
        handle.write(text)
    os.chmod(path + ".partial", 0o755)
    os.replace(path + ".partial", path)
    command = ["sbatch", "--parsable", path] if settings.scheduler == "slurm" else ["qsub", path]
    print(f"job script: {path} ({settings.nodes} node(s) x {settings.ranks_per_node} "
          f"rank(s), time limit {format_walltime(settings.walltime_s)}, "
          f"chain {settings.chain})")
    if args.dry_run:
        print(f"dry run: nothing submitted; submit with: {command[0]} {path}")
        return 0
    job_id = _call_scheduler(command, outdir)   # scheduler output files land in OUTDIR
    joblog.append(outdir, "submitted", job=job_id, scheduler=settings.scheduler,
                  script=path, chain_left=settings.chain, fresh=True)
    print(f"submitted job {job_id}; follow it with: brainsim status {outdir}")
    return 0


def _call_scheduler(command: list[str], cwd: str) -> str:
    """Run sbatch/qsub; the job id it prints."""
    from brainsim.scheduler import SchedulerError
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=cwd)
    except FileNotFoundError:
        raise SchedulerError(f"{command[0]}: not found on PATH; expected a login node of the "
                             "cluster (or use --dry-run and submit the script later)") from None
    except subprocess.TimeoutExpired:
        raise SchedulerError(f"{command[0]}: no answer in 120 s") from None
    if out.returncode != 0:
        reason = (out.stderr.strip() or out.stdout.strip()).splitlines()
        raise SchedulerError(f"{' '.join(command)}: exit status {out.returncode}"
                             + (f" ({reason[-1]})" if reason else ""))
    words = out.stdout.strip().split()
    job_id = words[-1].split(";")[0] if words else ""
    if not JOB_ID.fullmatch(job_id):
        raise SchedulerError(f"{' '.join(command)}: printed {out.stdout.strip()!r}; expected "
                             "a job id")
    return job_id
