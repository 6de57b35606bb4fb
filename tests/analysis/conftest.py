"""Fixtures of the analysis tests: a seeded generator and a synthetic output directory."""
from __future__ import annotations

import numpy as np
import pytest
from analysis_synthetic import poisson_trains, regular_trains, write_output


@pytest.fixture
def rng():
    return np.random.default_rng(20240607)


@pytest.fixture
def synthetic_output(tmp_path, rng):
    """Two populations over 2 s: 'E' Poisson at 8 Hz (200 neurons, 10 silent), 'I'
    regular at 20 Hz (50 neurons); warm-up 500 ms."""
    t_e, i_e = poisson_trains(190, 8.0, 0.0, 2000.0, rng)
    t_i, i_i = regular_trains(50, 50.0, 0.0, 2000.0, rng)
    return write_output(tmp_path / "synthetic", {"E": (t_e, i_e, 200), "I": (t_i, i_i, 50)},
                        t_sim_ms=2000.0, warmup_ms=500.0)
