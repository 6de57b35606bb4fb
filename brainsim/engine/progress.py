"""Progress of a long run on rank 0: biological time, real-time factor, ETA.

On a terminal one line is rewritten in place; otherwise (batch logs) a plain line is
printed every `log_interval_s` of wall time. Checking the clock costs ~50 ns, so it is done
once per epoch.
"""
from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, total_steps: int, dt: float, first_step: int = 0,
                 stream=sys.stdout, log_interval_s: float = 10.0):
        self.total_steps = total_steps
        self.first_step = first_step
        self.dt = dt
        self.stream = stream
        self.interactive = stream.isatty()
        self.interval = 0.5 if self.interactive else log_interval_s
        self.started = time.perf_counter()
        self.next_report = self.started + self.interval

    def tick(self, step: int) -> None:
        now = time.perf_counter()
        if now < self.next_report:
            return
        self.next_report = now + self.interval
        self.stream.write(self.line(step, now) + ("\r" if self.interactive else "\n"))
        self.stream.flush()

    def line(self, step: int, now: float) -> str:
        done = step - self.first_step
        elapsed = now - self.started
        bio_s = done * self.dt * 1e-3
        rtf = elapsed / bio_s if bio_s > 0 else float("nan")
        remaining = (self.total_steps - step) * self.dt * 1e-3 * rtf
        fraction = done / max(1, self.total_steps - self.first_step)
        return (f"[{100 * fraction:5.1f}%] t = {step * self.dt:9.1f} ms  "
                f"RTF {rtf:7.2f}  ETA {remaining:7.1f} s")

    def finish(self) -> None:
        if self.interactive:
            self.stream.write("\n")
            self.stream.flush()
