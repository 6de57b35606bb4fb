"""Projection: PyNN's connectors compute the connections (common.Projection calls
_convergent_connect per local target); they are kept as arrays of gids, weights (NEST
units, with NEST's signs) and delays (ms) and become brainsim projections with explicit
synapse lists (brainsim.pynn.document)."""
from __future__ import annotations

import numpy as np
from pyNN import common

from brainsim.pynn.unsupported import NotSupportedByBrainsim
from pyNN.space import Space

from brainsim.pynn import simulator
from brainsim.pynn.parallel import allgather_concatenated
from brainsim.pynn.synapses import StaticSynapse

_SYNAPSE_PARAMETERS = {
    "static_synapse": (),
    "tsodyks_synapse": ("U", "tau_rec", "tau_fac"),
    "stdp_synapse": ("tau_plus", "lambda", "alpha", "mu_plus", "mu_minus", "Wmax"),
}


class Connection(common.Connection):
    """One synapse of a projection (weight in PyNN units, delay ms); setting them changes
    the projection's lists (before the first run)."""

    def __init__(self, projection, k: int):
        self._projection, self._k = projection, k
        self.presynaptic_index = int(projection.pre_index[k])
        self.postsynaptic_index = int(projection.post_index[k])

    @property
    def weight(self):
        return float(self._projection._values("weight")[self._k])

    @weight.setter
    def weight(self, value):
        prj = self._projection
        simulator.state.note_change("a synapse's weight")
        prj.weights[self._k] = value / prj._pyNN_weights_factor()

    @property
    def delay(self):
        return float(self._projection.delays[self._k])

    @delay.setter
    def delay(self, value):
        simulator.state.note_change("a synapse's delay")
        self._projection.delays[self._k] = value

    def as_tuple(self, *names):
        return tuple(getattr(self, name) for name in names)


class Projection(common.Projection):
    __doc__ = common.Projection.__doc__
    _simulator = simulator
    _static_synapse_class = StaticSynapse

    def __init__(self, presynaptic_population, postsynaptic_population, connector,
                 synapse_type=None, source=None, receptor_type=None, space=Space(),
                 label=None):
        common.Projection.__init__(self, presynaptic_population, postsynaptic_population,
                                   connector, synapse_type, source, receptor_type, space, label)
        if self.receptor_type not in ("excitatory", "inhibitory"):
            raise NotSupportedByBrainsim(
                f"receptor_type {self.receptor_type!r}: brainsim.pynn's standard cells have "
                "'excitatory' and 'inhibitory'")
        if not hasattr(self.synapse_type, "brainsim_model"):
            raise NotSupportedByBrainsim(
                f"synapse type {type(self.synapse_type).__name__} is not available in "
                "brainsim.pynn (StaticSynapse, TsodyksMarkramSynapse, STDPMechanism)")
        self._parts = {"pre": [], "post": [], "weight": [], "delay": [], "params": []}
        simulator.state.note_change("a projection")
        connector.connect(self)
        self._finish_lists()
        simulator.state.projections.append(self)

    def _convergent_connect(self, presynaptic_indices, postsynaptic_index,
                            location_selector=None, **connection_parameters):
        if location_selector is not None:
            raise NotSupportedByBrainsim("brainsim.pynn has point neurons only")
        pre = np.asarray(presynaptic_indices, dtype=np.int64)
        n = pre.size
        parts = self._parts
        parts["pre"].append(pre)
        parts["post"].append(np.full(n, postsynaptic_index, dtype=np.int64))
        parts["weight"].append(np.broadcast_to(
            np.asarray(connection_parameters.pop("weight"), dtype=float), (n,)))
        parts["delay"].append(np.broadcast_to(
            np.asarray(connection_parameters.pop("delay"), dtype=float), (n,)))
        parts["params"].append(connection_parameters)

    def _finish_lists(self):
        parts = self._parts
        pre, post, weight, delay = (np.concatenate(parts[k]) if parts[k] else
                                    np.zeros(0, dtype=np.int64 if k in ("pre", "post") else float)
                                    for k in ("pre", "post", "weight", "delay"))
        pre, post, weight, delay = allgather_concatenated([pre, post, weight, delay])
        celltype = getattr(self.post, "celltype", None)
        weight = weight * getattr(celltype, "receptor_scale", 1.0)
        if self.receptor_type == "inhibitory" and self.post.conductance_based:
            weight = -weight        # NEST: inhibitory conductances as negative weights
        order = np.lexsort((pre, post))     # NEST's order does not matter: sorted by target
        self.pre_index, self.post_index = pre[order], post[order]
        self.weights, self.delays = weight[order].copy(), delay[order].copy()
        self.synapse_params = _constant_params(self, parts["params"])
        del self._parts

    def __len__(self):
        return int(self.pre_index.size)

    def _set_attributes(self, parameter_space):
        """Native values (a [pre, post] space) of weight, delay or a synapse parameter;
        a synapse parameter must stay one value for the projection (brainsim's)."""
        simulator.state.note_change("a projection's synapses")
        parameter_space.evaluate(simplify=False)
        for name, value in parameter_space.items():
            values = np.asarray(value, dtype=float)[self.pre_index, self.post_index]
            if name == "weight":
                scale = getattr(getattr(self.post, "celltype", None), "receptor_scale", 1.0)
                self.weights = values * scale * np.sign(self._pyNN_weights_factor())
            elif name == "delay":
                self.delays = values
            elif values.size and np.any(values != values[0]):
                raise NotSupportedByBrainsim(
                    f"{name} differing between synapses of one projection: brainsim keeps "
                    "one value per projection")
            elif values.size:
                self.synapse_params[name] = float(values[0])

    def _plastic_after_run(self):
        if (self.synapse_type.brainsim_model != "static_synapse"
                and simulator.state.t > 0):
            raise NotSupportedByBrainsim(
                "reading plastic weights after a run is not available in brainsim.pynn")

    def _pyNN_weights_factor(self) -> float:
        """PyNN weight (nA / uS) per stored weight (pA / nS / mV, NEST's sign)."""
        factor = 0.001 / getattr(getattr(self.post, "celltype", None), "receptor_scale", 1.0)
        return -factor if self.receptor_type == "inhibitory" and self.post.conductance_based \
            else factor

    def _pyNN_weights(self):
        return self.weights * self._pyNN_weights_factor()

    @property
    def connections(self):
        return (Connection(self, k) for k in range(len(self)))

    def _values(self, name):
        if name in ("weight", "weights"):
            self._plastic_after_run()
            return self._pyNN_weights()
        if name in ("delay", "delays"):
            return self.delays
        if name == "presynaptic_index":
            return self.pre_index
        if name == "postsynaptic_index":
            return self.post_index
        if name in self.synapse_params:
            return np.full(len(self), self.synapse_params[name])
        raise NotSupportedByBrainsim(f"Projection.get({name!r}) in brainsim.pynn")

    def _get_attributes_as_list(self, names):
        columns = [self._values(name) for name in names]
        return [tuple(row) for row in zip(*columns)]

    def _get_attributes_as_arrays(self, names, multiple_synapses='sum'):
        combine = common.Projection.MULTI_SYNAPSE_OPERATIONS[multiple_synapses]
        arrays = []
        for name in names:
            values = np.full((self.pre.size, self.post.size), np.nan)
            for i, j, v in zip(self.pre_index, self.post_index, self._values(name)):
                values[i, j] = v if np.isnan(values[i, j]) else combine(values[i, j], v)
            arrays.append(values)
        return arrays


def _constant_params(projection, per_target: list[dict]) -> dict:
    """The synapse model's parameters (NEST names), one value for the projection: brainsim
    keeps them per projection (NEST's common properties)."""
    model = projection.synapse_type.brainsim_model
    values = {}
    for name in _SYNAPSE_PARAMETERS[model] + (("tau_minus",) if model == "stdp_synapse" else ()):
        found = {float(v) for d in per_target if name in d
                 for v in np.atleast_1d(np.asarray(d[name], dtype=float))}
        if not found:
            native = projection.synapse_type.native_parameters
            if name in native.keys():
                native.shape = (1,)
                found = {float(native[name].evaluate(simplify=True))}
        if len(found) > 1:
            raise NotSupportedByBrainsim(
                f"{name} differing between synapses of one projection: brainsim keeps one "
                "value per projection")
        if found:
            values[name] = found.pop()
    return values
