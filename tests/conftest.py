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


@pytest.fixture(scope="session", autouse=True)
def generated_kernel_cache(tmp_path_factory):
    """One private cache of generated kernels for the whole session (inherited by every
    brainsim subprocess): each equation model compiles once per test run, and the user's
    own cache (~/.cache/brainsim/kernels) is neither read nor written."""
    import os
    previous = os.environ.get("BRAINSIM_KERNEL_CACHE")
    os.environ["BRAINSIM_KERNEL_CACHE"] = str(tmp_path_factory.mktemp("generated_kernels"))
    yield os.environ["BRAINSIM_KERNEL_CACHE"]
    if previous is None:
        del os.environ["BRAINSIM_KERNEL_CACHE"]
    else:
        os.environ["BRAINSIM_KERNEL_CACHE"] = previous
