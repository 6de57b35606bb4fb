"""Where a submitted (chained) run stands: jobs, latest checkpoint, finished or not.

Reads OUTDIR/scheduler_log.jsonl, run.json, run_interrupted.json and the checkpoint
manifests; asks the scheduler (squeue / qstat) about a job that has not ended, when it can.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess

from brainsim.scheduler import SchedulerError
from brainsim.scheduler import joblog


def run_status(outdir: str) -> dict:
    """Everything `brainsim status` prints, as a JSON-able dict."""
    if not os.path.isdir(outdir):
        raise SchedulerError(f"{outdir}: no such output directory")
    events = joblog.current_chain(joblog.read(outdir))
    submitted = [e for e in events if e["event"] == "submitted"]
    jobs = []
    for record in submitted:
        job = {"job": record.get("job"), "after": record.get("after")}
        for e in events:
            if e.get("job") == job["job"] and e["event"] in ("started", "ended"):
                job[e["event"]] = e["time"]
                job.update({k: e[k] for k in ("action", "host", "status") if k in e})
        jobs.append(job)
    scheduler = submitted[0].get("scheduler") if submitted else None
    done = _read_json(os.path.join(outdir, "run.json"))
    stopped = _read_json(os.path.join(outdir, "run_interrupted.json"))
    checkpoints = joblog.complete_checkpoints(outdir)
    latest = None
    t_sim = None
    if checkpoints:
        from brainsim.io.checkpoint import CheckpointError, read_manifest
        try:
            manifest = read_manifest(os.path.join(outdir, joblog.CHECKPOINT_DIR,
                                                  checkpoints[-1]))
        except CheckpointError:
            manifest = None
        latest = {"name": checkpoints[-1], "t_ms": _number((manifest or {}).get("t_ms"))}
        if latest["t_ms"] is None:
            latest["problem"] = "unreadable manifest: brainsim info names the fault"
        document = (manifest or {}).get("document")
        simulation = document.get("simulation") if isinstance(document, dict) else None
        t_sim = _number(simulation.get("t_sim")) if isinstance(simulation, dict) else None
    for meta in (stopped, done):
        if meta and _number(meta.get("t_sim_ms")) is not None:
            t_sim = meta["t_sim_ms"]
    state, detail = _state(outdir, jobs, done is not None and joblog.finished(outdir),
                           stopped, events, scheduler)
    return {"outdir": outdir, "scheduler": scheduler, "jobs": jobs,
            "latest_checkpoint": latest, "t_sim_ms": t_sim,
            "stopped_at_ms": _number(stopped.get("stopped_at_ms")) if stopped else None,
            "finished": state == "finished", "state": state, "detail": detail}


def _state(outdir, jobs, finished, stopped, events, scheduler) -> tuple[str, str]:
    if finished:
        return "finished", "run.json written"
    if joblog.merge_pending(outdir) and (not jobs or "ended" in jobs[-1]):
        return "merge interrupted", ("the simulation ended, writing its results did not; "
                                     f"finish them with: brainsim resume {outdir}")
    if not jobs:
        return "not submitted", "no job in scheduler_log.jsonl (a --dry-run?)"
    last = jobs[-1]
    if "ended" not in last:
        queue, unasked = _queue_state(scheduler, last["job"])
        if "started" in last:
            return "running", f"job {last['job']} {queue or 'started'}{unasked}"
        if queue is None and not unasked:
            return "lost", (f"job {last['job']} is not queued and never started (cancelled?); "
                            f"resubmit {_script(outdir, scheduler)}")
        return "waiting", f"job {last['job']} {queue or 'submitted'}{unasked}"
    status = last.get("status")
    if status == 75:
        exhausted = any(e["event"] == "chain-exhausted" for e in events)
        stopped_at = _number((stopped or {}).get("stopped_at_ms"))
        at = f" at {stopped_at:g} ms" if stopped_at is not None else ""
        return "stopped", (f"job {last['job']} checkpointed{at} and stopped"
                           + (", no continuation left" if exhausted else "")
                           + f"; continue with: {_resubmit(scheduler)} "
                           f"{_script(outdir, scheduler)} (or brainsim resume {outdir})")
    return "failed", (f"job {last['job']} exited with status {status}; see its output in "
                      f"{outdir}")


def _script(outdir: str, scheduler: str | None) -> str:
    return os.path.join(outdir, "job.pbs" if scheduler == "pbs" else "job.sbatch")


def _resubmit(scheduler: str | None) -> str:
    return "qsub" if scheduler == "pbs" else "sbatch"


# What squeue / qstat print for a job they do not (or no longer) know: not queued.
_UNKNOWN_JOB = ("invalid job id", "unknown job id", "job has finished")


def _queue_state(scheduler: str | None, job: str | None) -> tuple[str | None, str]:
    """(PENDING, RUNNING, ... from squeue, or qstat's state; None when the job is not
    queued, or unknown) and, when the scheduler could not be asked (no command, it failed,
    timed out), a note saying so ("" when it answered). Only an answer may call a job lost."""
    command = (["squeue", "-h", "-j", str(job), "-o", "%T"] if scheduler == "slurm"
               else ["qstat", str(job)])
    if not job:
        return None, " (no job id to ask the scheduler about)"
    if not shutil.which(command[0]):
        return None, f" (the scheduler could not be asked: no {command[0]} here)"
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as err:
        return None, f" (the scheduler could not be asked: {command[0]}: {err})"
    if out.returncode != 0:
        said = " ".join(out.stderr.split())[:120]
        if any(text in said.lower() for text in _UNKNOWN_JOB):
            return None, ""
        return None, (f" (the scheduler could not be asked: {command[0]} exited "
                      f"{out.returncode}{': ' + said if said else ''})")
    if not out.stdout.strip():
        return None, ""
    if scheduler == "slurm":
        return out.stdout.split()[0].lower(), ""
    rows = [line.split() for line in out.stdout.splitlines() if line.split()[:1] == [str(job)]
            or line.split()[:1] and line.split()[0].startswith(f"{job}.")]
    letters = {"Q": "queued", "R": "running", "H": "held", "E": "exiting", "C": "completed"}
    state = letters.get(rows[0][-2], rows[0][-2]) if rows and len(rows[0]) >= 2 else None
    return state, ""


def _number(value) -> float | None:
    """value when it is a finite number (a damaged file may hold anything), else None."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value == value \
            and abs(value) != float("inf"):
        return value
    return None


def _read_json(path: str) -> dict | None:
    """The JSON object in path; None when absent, unreadable or not an object."""
    try:
        with open(path, "rb") as handle:
            data = json.loads(handle.read(64 << 20).decode())
    except (OSError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def format_status(report: dict) -> str:
    lines = [f"{report['outdir']}: {report['state']} ({report['detail']})"]
    for job in report["jobs"]:
        parts = [f"job {job['job']}"]
        if job.get("after"):
            parts.append(f"after {job['after']}")
        if job.get("action"):
            parts.append(job["action"])
        if job.get("host"):
            parts.append(f"on {job['host']}")
        if "status" in job:
            meaning = {0: "finished", 75: "checkpointed, stopped"}.get(job["status"], "failed")
            parts.append(f"exit {job['status']} ({meaning})")
        elif "started" in job:
            parts.append("running")
        else:
            parts.append("waiting")
        lines.append("  " + ", ".join(parts))
    t_sim = report["t_sim_ms"]
    latest = report["latest_checkpoint"]
    if latest and latest.get("t_ms") is not None:
        of = f" of {t_sim:g} ms ({100 * latest['t_ms'] / t_sim:.0f} %)" if t_sim else ""
        lines.append(f"latest checkpoint: {latest['name']} at {latest['t_ms']:g} ms{of}")
    elif latest:
        lines.append(f"latest checkpoint: {latest['name']} ({latest['problem']})")
    else:
        lines.append("latest checkpoint: none")
    if t_sim is not None:
        lines.append(f"biological time to reach: {t_sim:g} ms"
                     + ("; reached" if report["finished"] else ""))
    return "\n".join(lines)
