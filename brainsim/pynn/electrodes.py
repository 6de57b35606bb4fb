"""PyNN's current sources as brainsim inputs (NEST dc / step_current / ac / noise
generators), timed as pyNN.nest times them: the device connects with delay min_delay and
its start / stop / step times move earlier by min_delay (clamped at 0), so the current
acts from the time the script gives. Amplitudes nA -> pA."""
from __future__ import annotations

import numpy as np
from pyNN import errors

from brainsim.pynn.unsupported import NotSupportedByBrainsim
from pyNN.parameters import ParameterSpace
from pyNN.standardmodels import StandardCurrentSource, build_translations, electrodes

from brainsim.pynn.simulator import state


class _Source(StandardCurrentSource):
    input_type = ""

    def __init__(self, **parameters):
        self.cell_list = []
        self.parameter_space = ParameterSpace(self.default_parameters, self.get_schema(),
                                              shape=(1,))
        if parameters:
            self.parameter_space.update(**parameters)
        state.current_sources.append(self)

    def inject_into(self, cells):
        for cell in cells:
            if not cell.celltype.injectable:
                raise TypeError("Can't inject current into a spike source.")
        state.note_change("a current source's targets")
        self.cell_list = list(cells)

    def set_native_parameters(self, parameters):
        state.note_change("a current source's parameters")
        standard = self.reverse_translate(parameters)
        standard.evaluate(simplify=True)
        self.parameter_space.update(**standard.as_dict())

    def get_native_parameters(self):
        return self.translate(self.parameter_space)

    def _native(self) -> dict:
        native = self.translate(self.parameter_space)
        native.evaluate(simplify=True)
        return {k: v.value if hasattr(v, "value") else v for k, v in native.items()}

    def _shift(self, t):
        return np.maximum(np.asarray(t, dtype=float) - state.min_delay, 0.0)

    def input_document(self) -> dict:
        """The brainsim input (without target / node_ids: the document builder adds them)."""
        return {"type": self.input_type, "delay": state.min_delay,
                **self._timed(self._native())}


class DCSource(_Source, electrodes.DCSource):
    __doc__ = electrodes.DCSource.__doc__
    translations = build_translations(('amplitude', 'amplitude', 1000.), ('start', 'start'),
                                      ('stop', 'stop'))
    input_type = "dc"

    def _timed(self, p):
        return {"amplitude": float(p["amplitude"]), "start": float(self._shift(p["start"])),
                "stop": _stop(self._shift, p["stop"])}


class ACSource(_Source, electrodes.ACSource):
    __doc__ = electrodes.ACSource.__doc__
    translations = build_translations(
        ('amplitude', 'amplitude', 1000.), ('start', 'start'), ('stop', 'stop'),
        ('frequency', 'frequency'), ('offset', 'offset', 1000.), ('phase', 'phase'))
    input_type = "ac"

    def _timed(self, p):
        # pyNN.nest's phase correction: the sine starts at the given phase at `start`
        phase = p["phase"] - 360.0 * p["frequency"] * p["start"] / 1000.0
        return {"amplitude": float(p["amplitude"]), "offset": float(p["offset"]),
                "frequency": float(p["frequency"]), "phase": float(phase),
                "start": float(self._shift(p["start"])), "stop": _stop(self._shift, p["stop"])}


class StepCurrentSource(_Source, electrodes.StepCurrentSource):
    __doc__ = electrodes.StepCurrentSource.__doc__
    translations = build_translations(('amplitudes', 'amplitude_values', 1000.),
                                      ('times', 'amplitude_times'))
    input_type = "step_current"

    def _timed(self, p):
        times = np.asarray(p["amplitude_times"], dtype=float)
        amplitudes = np.asarray(p["amplitude_values"], dtype=float)
        if times.size and (times.min() < 0 or np.any(np.diff(times) <= 0)):
            raise ValueError("Step current timestamps must be >= 0 and increasing.")
        times = np.round(self._shift(times) / state.dt) * state.dt
        first = np.searchsorted(times, state.dt, side="right") - 1
        if first >= 0:          # steps before the first usable time start at dt (NEST)
            times[first] = state.dt
            times, amplitudes = times[first:], amplitudes[first:]
        keep = np.r_[times[1:] != times[:-1], True]     # a repeated time: the last wins
        return {"amplitude_times": times[keep].tolist(),
                "amplitude_values": amplitudes[keep].tolist()}


class NoisyCurrentSource(_Source, electrodes.NoisyCurrentSource):
    __doc__ = electrodes.NoisyCurrentSource.__doc__
    translations = build_translations(('mean', 'mean', 1000.), ('start', 'start'),
                                      ('stop', 'stop'), ('stdev', 'std', 1000.), ('dt', 'dt'))
    input_type = "noise_generator"

    def _timed(self, p):
        return {"mean": float(p["mean"]), "std": float(p["std"]), "dt": float(p["dt"]),
                "start": float(self._shift(p["start"])), "stop": _stop(self._shift, p["stop"])}


def _stop(shift, stop):
    return None if not np.isfinite(stop) or stop > 1e9 else float(shift(stop))


def unsupported_recording(*args, **kwargs):
    raise NotSupportedByBrainsim("recording a current source's current is not "
                                     "available in brainsim.pynn")


for _cls in (DCSource, ACSource, StepCurrentSource, NoisyCurrentSource):
    _cls.record = unsupported_recording
