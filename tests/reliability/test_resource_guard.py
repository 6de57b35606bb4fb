"""Resource guard (issue 8): a run whose estimated memory per rank exceeds MemAvailable of
the node divided among its ranks is refused before building, status 2, unless --force
(not tested: it would run out of memory)."""
from __future__ import annotations

import os

import pytest

from cli_runner import MODELS
from reliability_helpers import timed_run

PD14 = os.path.join(MODELS, "potjans_diesmann_2014.yaml")


@pytest.mark.parametrize("ranks", [None, pytest.param(2, marks=pytest.mark.mpi)])
def test_huge_scale_is_refused_quickly_without_building(ranks, tmp_path, mpiexec):
    out = tmp_path / "o"
    done, seconds = timed_run(["run", PD14, "--set", "scale=50", "-o", str(out),
                               "--no-progress"], ranks=ranks)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "estimated peak memory" in lines[0] and "MiB per rank" in lines[0]
    assert "more nodes" in lines[0] and "scale" in lines[0] and "--force" in lines[0]
    assert seconds < 15
    assert not out.exists()


def test_memory_check_splits_memavailable_among_ranks_on_the_node(monkeypatch):
    from brainsim.engine import guards
    from brainsim.engine.comm import SerialComm
    from brainsim.spec import load_model
    model = load_model(PD14, None, ["scale=0.1"])
    monkeypatch.setattr(guards, "available_memory_mib", lambda: 100.0)
    with pytest.raises(guards.ResourceError, match="100 MiB available per rank"):
        guards.check_memory(model, SerialComm())
    guards.check_memory(model, SerialComm(), force=True)
    monkeypatch.setattr(guards, "available_memory_mib", lambda: 1e9)
    guards.check_memory(model, SerialComm())
