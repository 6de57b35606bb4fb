"""OUTDIR/scheduler_log.jsonl: one JSON object a line, appended by `brainsim submit` and by
the job scripts, read by `brainsim status`.

Events (every one has "event" and "time", UTC ISO 8601):
    submitted        job, scheduler, script, chain_left; after (the job it continues) or
                     fresh: true (a new submission by `brainsim submit`)
    started          job, action (run | resume), host
    ended            job, action, status (0 finished, 75 checkpointed and stopped, other: failed)
    chain-exhausted  job (stopped with 75, no continuation left)

The job scripts call it as a program (cheap: no numpy):
    python -m brainsim.scheduler.joblog OUTDIR started --job 123 --action run --host n01
    python -m brainsim.scheduler.joblog OUTDIR next-action     # prints run | resume | done
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import sys

LOG_NAME = "scheduler_log.jsonl"
CHECKPOINT_DIR = "checkpoints"      # as brainsim.io.checkpoint (not imported: numpy)
MANIFEST = "manifest.json"
# The record of a final merge that has not completed (as brainsim.io.finish.record_path).
FINISH_RECORD = os.path.join(".segments", "finish.json")


def log_path(outdir: str) -> str:
    return os.path.join(outdir, LOG_NAME)


def append(outdir: str, event: str, **fields) -> dict:
    """Append one event; a single write of one line, so concurrent jobs do not interleave."""
    record = {"event": event,
              "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
    record.update({key: value for key, value in fields.items() if value is not None})
    line = json.dumps(record, sort_keys=True) + "\n"
    fd = os.open(log_path(outdir), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)
    return record


def read(outdir: str) -> list[dict]:
    """Every event, oldest first; a line that is not a JSON object (a torn write) is skipped."""
    try:
        with open(log_path(outdir)) as handle:
            lines = handle.readlines()
    except FileNotFoundError:
        return []
    events = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and "event" in record:
            events.append(record)
    return events


def current_chain(events: list[dict]) -> list[dict]:
    """The events since the latest fresh submission (all of them when there is none)."""
    starts = [i for i, e in enumerate(events) if e["event"] == "submitted" and e.get("fresh")]
    return events[starts[-1]:] if starts else events


def complete_checkpoints(outdir: str) -> list[str]:
    root = os.path.join(outdir, CHECKPOINT_DIR)
    if not os.path.isdir(root):
        return []
    return sorted(n for n in os.listdir(root)
                  if n.startswith("ckpt_") and os.path.exists(os.path.join(root, n, MANIFEST)))


def finished(outdir: str) -> bool:
    """run.json is written only when a run completes; an older one than run_interrupted.json
    belongs to a run that was extended and stopped again."""
    done = os.path.join(outdir, "run.json")
    stopped = os.path.join(outdir, "run_interrupted.json")
    if not os.path.exists(done) or merge_pending(outdir):
        return False
    return not os.path.exists(stopped) or os.path.getmtime(done) >= os.path.getmtime(stopped)


def merge_pending(outdir: str) -> bool:
    """The simulation ended, writing the final files did not: `resume` finishes them."""
    return os.path.exists(os.path.join(outdir, FINISH_RECORD))


def next_action(outdir: str) -> str:
    """What a job on OUTDIR does: 'run' for the first job of a submission, else 'done' when
    the run has finished, 'resume' when there is a checkpoint (or a final merge to finish),
    'run' otherwise."""
    chain = current_chain(read(outdir))
    fresh = bool(chain) and chain[0]["event"] == "submitted" and chain[0].get("fresh")
    if fresh and not any(e["event"] == "started" for e in chain):
        return "run"
    if finished(outdir):
        return "done"
    if complete_checkpoints(outdir) or merge_pending(outdir):
        return "resume"
    return "run"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m brainsim.scheduler.joblog")
    parser.add_argument("outdir")
    parser.add_argument("event", choices=("submitted", "started", "ended", "chain-exhausted",
                                          "next-action"))
    parser.add_argument("--job")
    parser.add_argument("--action")
    parser.add_argument("--host")
    parser.add_argument("--after")
    parser.add_argument("--status", type=int)
    parser.add_argument("--chain-left", type=int)
    args = parser.parse_args(argv)
    if args.event == "next-action":
        print(next_action(args.outdir))
        return 0
    append(args.outdir, args.event, job=args.job, action=args.action, host=args.host,
           after=args.after, status=args.status, chain_left=args.chain_left)
    return 0


if __name__ == "__main__":
    sys.exit(main())
