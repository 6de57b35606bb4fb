"""Fixtures shared by every test tier."""
from __future__ import annotations

import pytest

from cli_runner import mpiexec_path


@pytest.fixture(scope="session")
def mpiexec():
    path = mpiexec_path()
    if path is None:
        pytest.fail("mpiexec not found: install the mpich wheel (pip install mpich)")
    return path
