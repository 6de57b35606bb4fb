"""Batch jobs: `brainsim submit` renders a SLURM or PBS job script from the templates in
jobs/ and submits it; `brainsim status` tells where a (chained) run stands.

    settings.py  job settings: the run config's `run:` mapping, overridden by flags, validated
    render.py    job script text from a template in jobs/ (every user value quoted or checked)
    memory.py    does the run fit the memory of a node?
    joblog.py    OUTDIR/scheduler_log.jsonl, appended to by submit and by the job scripts
    status.py    what `brainsim status OUTDIR` reports
    cli.py       the `submit` and `status` subcommands

Importing this package is cheap (the job scripts run `python -m brainsim.scheduler.joblog`).
"""


class SchedulerError(Exception):
    """A job setting or a scheduler call that cannot be used; str() is one line naming the
    setting (flag or config path), what was found and what is expected."""
