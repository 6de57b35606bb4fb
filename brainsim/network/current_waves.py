"""The currents of NEST's step_current_generator and ac_generator, per generator step.

Both send, in generator step T (NEST's update of origin + lag = T), a current that the
neurons use in their update of step T + delay_steps + 1 (the timing of every current
generator, see inputs.dc_table), while the device is active (t_first <= T <= t_last, as
noise_generator). What they send:

- step_current_generator: the amplitude of the last amplitude time whose step (time / dt)
  is <= T + 1 (NEST changes the amplitude one step ahead), 0 before the first.
- ac_generator: y_1 + offset after T + 1 steps of NEST's exact rotation recurrence
  y_0' = A_00 y_0 + A_01 y_1, y_1' = A_10 y_0 + A_11 y_1 (A = rotation by omega dt) from
  y = amplitude (cos phi, sin phi) at t = 0. The oscillator turns in every step, active
  or not (NEST 3). NEST restarts it from the exact phase at the start of each Simulate
  call; brainsim runs it from t = 0 through the whole run, resumed runs included (a
  resumed run equals the uninterrupted one, bit for bit).
"""
from __future__ import annotations

import math

import numpy as np


class StepWave:
    """Amplitude (pA) sent in generator steps T of a step_current_generator."""

    def __init__(self, stamps: np.ndarray, values: np.ndarray):
        self.stamps = np.asarray(stamps, dtype=np.int64)      # steps of the amplitude times
        self.values = np.asarray(values, dtype=np.float64)

    def sent(self, t: np.ndarray) -> np.ndarray:
        k = np.searchsorted(self.stamps, t + 1, side="right") - 1
        return np.where(k >= 0, self.values[np.maximum(k, 0)], 0.0)


class ACWave:
    """y_1 + offset (pA) sent in generator steps T of an ac_generator; the recurrence
    state is kept between calls (steps asked in increasing order, as the engine does) and
    recomputed from t = 0 when an earlier step is asked (a run restarted from 0)."""

    def __init__(self, amplitude: float, offset: float, frequency: float, phase: float,
                 dt: float):
        omega = 2.0 * math.pi * frequency / 1000.0     # NEST's order of operations
        phi_rad = phase * 2.0 * math.pi / 360.0
        self.initial = (amplitude * math.cos(omega * 0.0 + phi_rad),
                        amplitude * math.sin(omega * 0.0 + phi_rad))
        self.a = (math.cos(omega * dt), -math.sin(omega * dt),
                  math.sin(omega * dt), math.cos(omega * dt))
        self.offset = offset
        self._restart()

    def _restart(self):
        self.turns = 0                      # rotations done: y is the state after them
        self.y0, self.y1 = self.initial

    def _turn(self) -> None:
        a00, a01, a10, a11 = self.a
        y0 = self.y0
        self.y0 = a00 * y0 + a01 * self.y1
        self.y1 = a10 * y0 + a11 * self.y1
        self.turns += 1

    def sent(self, t: np.ndarray) -> np.ndarray:
        """Currents of the consecutive generator steps t (ascending, step 1; T < 0: 0)."""
        out = np.zeros(t.shape[0])
        if not t.size or t[-1] < 0:
            return out
        first = max(int(t[0]), 0)
        if self.turns > first:
            self._restart()
        while self.turns < first:
            self._turn()
        for j in range(int(np.searchsorted(t, 0)), t.shape[0]):   # steps, not neurons
            self._turn()                    # step T sends after T + 1 turns
            out[j] = self.y1 + self.offset
        return out
