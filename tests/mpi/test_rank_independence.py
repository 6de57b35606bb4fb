"""The same model gives bit-identical spikes on 1, 2, 3 and 4 ranks (docs/architecture.md
§2.5), the same seed reproduces a run exactly, and another seed changes it."""
from __future__ import annotations

import os

import numpy as np
import pytest

from cli_runner import DATA, run_brainsim, spike_bytes

MODEL = os.path.join(DATA, "small_network.yaml")


@pytest.fixture(scope="module")
def runs(tmp_path_factory, mpiexec):
    """Outputs of the small network for ranks 1..4 plus a rerun and another seed."""
    base = tmp_path_factory.mktemp("ranks")
    outputs = {}
    for name, ranks, extra in [("n1", 1, []), ("n2", 2, []), ("n3", 3, []), ("n4", 4, []),
                               ("n1_again", 1, []), ("n2_seed", 2, ["--set", "simulation.seed=99"])]:
        outdir = str(base / name)
        done = run_brainsim(["run", MODEL, "-o", outdir, "--no-progress", *extra], ranks=ranks)
        assert done.returncode == 0, done.stderr
        outputs[name] = spike_bytes(outdir)
    return outputs


def test_network_spikes_at_all(runs):
    timestamps = np.frombuffer(runs["n1"]["E/timestamps"], dtype=np.float64)
    assert timestamps.size > 100, "the test network must be active to test anything"


@pytest.mark.parametrize("ranks", ["n2", "n3", "n4"])
def test_bit_identical_across_rank_counts(runs, ranks):
    assert runs[ranks] == runs["n1"]


def test_same_seed_reproduces(runs):
    assert runs["n1_again"] == runs["n1"]


def test_other_seed_differs(runs):
    assert runs["n2_seed"]["E/timestamps"] != runs["n1"]["E/timestamps"]
