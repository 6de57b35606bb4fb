"""brainsim.timesteps against NEST 3.10's rules (nestkernel/nest_time.h): the values below
are what NEST computes (t_ref steps checked by runs: tests/reference/
nest_reference_models.json, *tref* cases)."""
import math

import numpy as np
import pytest

from brainsim.timesteps import (STEP_MAX, is_on_grid, is_resolution, is_whole_steps, ms_to_tics,
                                off_grid_mask, steps_nearest, steps_on_grid,
                                steps_on_grid_array, steps_rounded_up)


@pytest.mark.parametrize("t_ref,dt,steps", [
    (2.0, 0.1, 20), (2.03, 0.1, 21), (0.15, 0.1, 2), (0.05, 0.1, 1), (0.0, 0.1, 0),
    (2.3, 0.2, 12), (4.1, 0.2, 21), (0.9, 0.2, 5), (0.15, 0.2, 1),
    (2.0004, 0.2, 10),      # 2000 tics: on the grid, not rounded up
    (2.0005, 0.2, 11),      # 2001 tics
    (1.5, 0.25, 6), (0.3, 0.1, 3)])
def test_refractory_steps_round_up_from_tics(t_ref, dt, steps):
    assert steps_rounded_up(t_ref, dt) == steps


@pytest.mark.parametrize("delay,dt,steps", [
    (1.5, 0.1, 15), (0.15, 0.1, 2), (0.14, 0.1, 1), (0.05, 0.1, 1), (0.3, 0.2, 2),
    (2.3, 0.2, 12), (2.29, 0.2, 11), (math.inf, 0.1, STEP_MAX)])
def test_delays_round_to_nearest_halves_up(delay, dt, steps):
    assert steps_nearest(delay, dt) == steps


def test_grid_times_in_tics():
    assert ms_to_tics(10.0004) == 10000 and is_on_grid(10.0004, 0.1)   # within half a tic
    assert not is_on_grid(10.0005, 0.1) and not is_on_grid(10.05, 0.1)
    assert is_on_grid(0.1 * 3, 0.1) and steps_on_grid(0.1 * 3, 0.1) == 3
    assert steps_on_grid(math.inf, 0.1) == STEP_MAX
    with pytest.raises(ValueError, match="not a multiple"):
        steps_on_grid(10.05, 0.1)
    times = np.array([0.1, 10.0, 10.0004, 10.05, 22.2])
    assert off_grid_mask(times, 0.1).tolist() == [False, False, False, True, False]
    assert steps_on_grid_array(times[[0, 1, 2, 4]], 0.1).tolist() == [1, 100, 100, 222]
    with pytest.raises(ValueError):
        steps_on_grid_array(times, 0.1)


@pytest.mark.parametrize("dt,ok", [(0.1, True), (0.2, True), (0.001, True), (1.0, True),
                                   (0.0005, False), (0.1005, False), (math.inf, False),
                                   (0.1 * 3, True)])
def test_resolution_is_a_whole_number_of_tics(dt, ok):
    assert is_resolution(dt) is ok


def test_whole_steps_intervals():
    assert is_whole_steps(0.1, 0.1) and is_whole_steps(1.0, 0.1)
    assert is_whole_steps(0.1000004, 0.1)          # 100 tics, as NEST
    assert not is_whole_steps(1e-9, 0.1)           # 0 tics: on the grid but no step
    assert not is_whole_steps(0.15, 0.1) and not is_whole_steps(math.inf, 0.1)
