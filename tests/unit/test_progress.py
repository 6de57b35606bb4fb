"""The progress line: biological time, real-time factor and ETA; plain lines in logs."""
from __future__ import annotations

import io

from brainsim.engine.progress import Progress


def test_plain_log_lines_when_not_a_terminal():
    stream = io.StringIO()
    progress = Progress(total_steps=1000, dt=0.1, stream=stream, log_interval_s=0.0)
    progress.tick(500)
    progress.tick(1000)
    progress.finish()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    assert "t =      50.0 ms" in lines[0] and "RTF" in lines[0] and "ETA" in lines[0]
    assert lines[1].startswith("[100.0%]")
    assert "\r" not in stream.getvalue()


def test_no_line_before_the_interval():
    stream = io.StringIO()
    progress = Progress(total_steps=1000, dt=0.1, stream=stream, log_interval_s=3600.0)
    progress.tick(999)
    assert stream.getvalue() == ""
