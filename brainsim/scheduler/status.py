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
        manifest = _read_json(os.path.join(outdir, joblog.CHECKPOINT_DIR, checkpoints[-1],
                                           joblog.MANIFEST)) or {}
        latest = {"name": checkpoints[-1], "t_ms": manifest.get("t_ms")}
        t_sim = ((manifest.get("document") or {}).get("simulation") or {}).get("t_sim")
    for meta in (stopped, done):
        if meta and meta.get("t_sim_ms") is not None:
            t_sim = meta["t_sim_ms"]
    state, detail = _state(outdir, jobs, done is not None and joblog.finished(outdir),
                           stopped, events, scheduler)
    return {"outdir": outdir, "scheduler": scheduler, "jobs": jobs,
            "latest_checkpoint": latest, "t_sim_ms": t_sim,
            "stopped_at_ms": stopped.get("stopped_at_ms") if stopped else None,
            "finished": state == "finished", "state": state, "detail": detail}


def _state(outdir, jobs, finished, stopped, events, scheduler) -> tuple[str, str]:
    if finished:
        return "finished", "run.json written"
    if not jobs:
        return "not submitted", "no job in scheduler_log.jsonl (a --dry-run?)"
    last = jobs[-1]
    if "ended" not in last:
        queue = _queue_state(scheduler, last["job"])
        if "started" in last:
            return "running", f"job {last['job']} {queue or 'started'}"
        if queue is None and shutil.which("squeue" if scheduler == "slurm" else "qstat"):
            return "lost", (f"job {last['job']} is not queued and never started (cancelled?); "
                            f"resubmit {_script(outdir, scheduler)}")
        return "waiting", f"job {last['job']} {queue or 'submitted'}"
    status = last.get("status")
    if status == 75:
        exhausted = any(e["event"] == "chain-exhausted" for e in events)
        at = f" at {stopped['stopped_at_ms']:g} ms" if stopped else ""
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


def _queue_state(scheduler: str | None, job: str | None) -> str | None:
    """PENDING, RUNNING, ... from squeue (or qstat's state letter); None when unknown."""
    command = (["squeue", "-h", "-j", str(job), "-o", "%T"] if scheduler == "slurm"
               else ["qstat", str(job)])
    if not job or not shutil.which(command[0]):
        return None
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0 or not out.stdout.strip():
        return None
    if scheduler == "slurm":
        return out.stdout.split()[0].lower()
    rows = [line.split() for line in out.stdout.splitlines() if line.split()[:1] == [str(job)]
            or line.split()[:1] and line.split()[0].startswith(f"{job}.")]
    letters = {"Q": "queued", "R": "running", "H": "held", "E": "exiting", "C": "completed"}
    return letters.get(rows[0][-2], rows[0][-2]) if rows and len(rows[0]) >= 2 else None


def _read_json(path: str) -> dict | None:
    try:
        with open(path) as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


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
    else:
        lines.append("latest checkpoint: none")
    if t_sim is not None:
        lines.append(f"biological time to reach: {t_sim:g} ms"
                     + ("; reached" if report["finished"] else ""))
    return "\n".join(lines)
