"""Wall time of each step of the wheel test (build, venv, install), printed at the end of
the session: the build is the longest step of the suite, so its cost stays visible."""
from __future__ import annotations

import pytest

TIMINGS: dict[str, float] = {}


@pytest.fixture(scope="session")
def packaging_timings() -> dict[str, float]:
    return TIMINGS


def pytest_terminal_summary(terminalreporter):
    if TIMINGS:
        terminalreporter.write_line("tests/packaging: " + ", ".join(
            f"{step} {seconds:.0f} s" for step, seconds in TIMINGS.items()))
