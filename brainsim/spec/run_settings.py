"""The `run:` mapping of a model or run config, checked when the model is loaded.

`brainsim submit` reads the job settings (brainsim.scheduler.settings checks each value it
renders into a job script); `brainsim run` reads `run.checkpoint`. Both are checked here
too, so that a misspelled key or a string where a number belongs is refused by `validate`,
`run` and `resume` alike, in one line naming the file, line and YAML path, before any
output exists.
"""
from __future__ import annotations

import math

from .checker import Checker, describe
from .errors import SpecError

CHECKPOINT_KEYS = ("every", "wall_minutes", "at_end", "keep")


def run_keys() -> tuple[str, ...]:
    """Every key `run:` may hold (the scheduler's job settings and `checkpoint`)."""
    from brainsim.scheduler.settings import RUN_KEYS
    return RUN_KEYS


def read_run(ck: Checker, top: dict) -> None:
    """Refuse a `run:` that is not a mapping, holds an unknown key, or whose `checkpoint`
    mapping holds an unknown key or a value of the wrong type or range."""
    raw = top.get("run")
    if raw is None:
        return
    p = ("run",)
    ck.mapping(raw, p, run_keys(), what="a mapping of job settings")
    if raw.get("kernel_cache") is not None:     # where generated kernels are cached
        ck.string(raw, "kernel_cache", p)
    checkpoint = raw.get("checkpoint")
    if checkpoint is None:
        return
    cp = p + ("checkpoint",)
    ck.mapping(checkpoint, cp, CHECKPOINT_KEYS, what="a mapping (every, wall_minutes, "
               "at_end, keep)")
    ck.number(checkpoint, "every", cp, default=None, unit="ms", above=0.0, nullable=True)
    ck.number(checkpoint, "wall_minutes", cp, default=None, unit="minutes", above=0.0,
              nullable=True)
    ck.boolean(checkpoint, "at_end", cp, default=False)
    ck.number(checkpoint, "keep", cp, default=2, integer=True, minimum=1,
              what="an integer >= 1 (checkpoints kept)")


def positive_finite(value, flag: str, unit: str) -> float | None:
    """A command-line interval (None when not given): a positive finite number, else a
    one-line SpecError naming the flag (argparse's float() accepts inf and nan)."""
    if value is None:
        return None
    if not (math.isfinite(value) and value > 0):
        raise SpecError(f"{flag} {describe(value)}: expected a positive finite number "
                        f"of {unit}")
    return value
