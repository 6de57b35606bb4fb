"""Times (ms) to whole simulation steps, with NEST 3.10's rounding for each kind of time.

NEST holds every time as an integer number of tics (1000 per ms by default: 1 tic = 1 µs)
and the resolution dt as a whole number of tics per step. A time in ms becomes tics by
``Time::ms``: floor(t * 1000 + 0.5). From there each kind of time has its own rule:

- ``steps_rounded_up``: refractory periods (``Time(Time::ms(t_ref)).get_steps()``, every
  model with ``t_ref``): tics, then whole steps rounded *up*. t_ref = 2.03 ms at dt 0.1 is
  21 steps, 2.0004 ms at dt 0.2 is 10 steps (2000 tics), 2.0005 ms is 11 (2001 tics).
- ``steps_nearest``: synaptic delays (``Time::delay_ms_to_steps``: nearest, halves up, via
  the steps per ms), also for brainsim's own intervals (checkpoints, warm-up).
- ``steps_on_grid``: times NEST requires on the grid and refuses otherwise (``is_grid_time``:
  the tics a multiple of the tics per step): device start / stop, spike_generator times
  (without allow_offgrid_times), recording intervals and windows, noise_generator dt,
  t_sim. ``is_on_grid`` and ``is_whole_steps`` are the checks the model loader makes.

Pure Python (the model loader and the network build both use it); the Cython connection
kernel rounds drawn delays with the same expression as ``steps_nearest`` and the
``steps_per_ms`` given here.
"""
from __future__ import annotations

import math

import numpy as np

TICS_PER_MS = 1000.0             # NEST's default tics per ms (1 tic = 1 µs)
STEP_MAX = (2 ** 63 - 1) // 4    # a far-future step (+inf ms), int64-safe with offsets added


def ms_to_tics(t_ms: float) -> int:
    """NEST's Time::ms: a finite time t_ms >= 0 in whole tics, floor(t * 1000 + 0.5)."""
    return int(math.floor(t_ms * TICS_PER_MS + 0.5))


def tics_per_step(dt: float) -> int:
    """Tics in one step of the resolution dt (ms), as NEST's Time::set_resolution."""
    return int(math.floor(TICS_PER_MS * dt + 0.5))


def is_resolution(dt: float) -> bool:
    """True when NEST accepts dt (ms) as the resolution: at least one tic and a whole number
    of tics (NEST's is_integer(dt * 1000), which allows two bits of rounding error)."""
    tics = dt * TICS_PER_MS
    if not math.isfinite(tics) or tics < 1.0:
        return False
    frac = tics - math.floor(tics)
    return min(frac, 1.0 - frac) < 4.0 * tics * 2.0 ** -52


def steps_per_ms(dt: float) -> float:
    """NEST's Range::STEPS_PER_MS for the resolution dt: 1 / (tics per step / 1000)."""
    return 1.0 / (tics_per_step(dt) / TICS_PER_MS)


def steps_rounded_up(t_ms: float, dt: float) -> int:
    """A refractory period t_ms (>= 0, finite) in steps: tics, then steps rounded up, with
    NEST's arithmetic ((tics + tics_per_step - 1) * (1 / tics_per_step), truncated)."""
    tps = tics_per_step(dt)
    return int((ms_to_tics(t_ms) + tps - 1) * (1.0 / tps))


def steps_nearest(t_ms: float, dt: float) -> int:
    """A delay t_ms in steps, nearest, halves up (NEST's Time::delay_ms_to_steps);
    +inf -> STEP_MAX."""
    if math.isinf(t_ms):
        return STEP_MAX
    return int(math.floor(t_ms * steps_per_ms(dt) + 0.5))


def is_on_grid(t_ms: float, dt: float) -> bool:
    """True when NEST takes t_ms (finite, >= 0) as a grid time of the resolution dt: its tics
    are a multiple of the tics per step (so times within half a tic of the grid count)."""
    return ms_to_tics(t_ms) % tics_per_step(dt) == 0


def is_whole_steps(t_ms: float, dt: float) -> bool:
    """True when t_ms is an interval NEST takes as a multiple of the resolution dt: finite,
    on the grid and at least one step (recording intervals, noise_generator dt)."""
    return (math.isfinite(t_ms) and t_ms > 0 and is_on_grid(t_ms, dt)
            and ms_to_tics(t_ms) >= tics_per_step(dt))


def steps_on_grid(t_ms: float, dt: float) -> int:
    """A grid time t_ms (checked by the loader with is_on_grid) in steps; +inf -> STEP_MAX.
    Raises ValueError off the grid (a loader check was missed)."""
    if math.isinf(t_ms):
        return STEP_MAX
    tics, tps = ms_to_tics(t_ms), tics_per_step(dt)
    if tics % tps:
        raise ValueError(f"{t_ms!r} ms is not a multiple of the resolution {dt!r} ms")
    return tics // tps


def steps_on_grid_array(times_ms: np.ndarray, dt: float) -> np.ndarray:
    """steps_on_grid for an array of finite grid times (ms): int64 steps."""
    tics = np.floor(np.asarray(times_ms, dtype=np.float64) * TICS_PER_MS + 0.5).astype(np.int64)
    tps = tics_per_step(dt)
    if np.any(tics % tps):
        raise ValueError(f"times off the grid of the resolution {dt!r} ms")
    return tics // tps


def off_grid_mask(times_ms: np.ndarray, dt: float) -> np.ndarray:
    """Boolean mask of the finite times (ms, >= 0) that NEST would not take as grid times."""
    tics = np.floor(np.asarray(times_ms, dtype=np.float64) * TICS_PER_MS + 0.5)
    return np.fmod(tics, float(tics_per_step(dt))) != 0.0
