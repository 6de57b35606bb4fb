"""Population, PopulationView, Assembly: PyNN's common classes over native parameter
arrays kept here (one value per neuron, NEST names and units); the document builder
(brainsim.pynn.document) turns them into brainsim populations."""
from __future__ import annotations

import numpy as np
from pyNN import common

from brainsim.pynn.unsupported import NotSupportedByBrainsim
from pyNN.parameters import ParameterSpace, simplify
from pyNN.standardmodels import StandardCellType

from brainsim.pynn import simulator
from brainsim.pynn.recording import Recorder


class Assembly(common.Assembly):
    _simulator = simulator


def _native_names(celltype, names):
    if any(name in celltype.computed_parameters() for name in names):
        return celltype.get_native_names()        # computed ones need all
    return celltype.get_native_names(*names)


class PopulationView(common.PopulationView):
    _assembly_class = Assembly
    _simulator = simulator

    def _get_parameters(self, *names):
        native = self._get_native_parameters(*_native_names(self.celltype, names))
        return self.celltype.reverse_translate(native)

    def _get_native_parameters(self, *names):
        values = {name: simplify(self.parent._parameters[name][self.mask]) for name in names}
        return ParameterSpace(values, shape=(self.size,))

    def _set_parameters(self, parameter_space):
        simulator.state.note_change("parameters of " + self.parent.label)
        parameter_space.evaluate(simplify=False)
        for name, value in parameter_space.items():
            self.parent._parameters[name][self.mask] = value

    def _set_initial_value_array(self, variable, initial_values):
        self.parent._set_initial_value_array(variable, initial_values, self.mask)

    def _get_view(self, selector, label=None):
        return PopulationView(self, selector, label)

    @property
    def local_mask(self):
        return self.parent._mask_local[self.mask]


class Population(common.Population):
    __doc__ = common.Population.__doc__
    _simulator = simulator
    _recorder_class = Recorder
    _assembly_class = Assembly

    def _create_cells(self):
        if not isinstance(self.celltype, StandardCellType) or not hasattr(
                self.celltype, "brainsim_model"):
            raise NotSupportedByBrainsim(
                f"cell type {type(self.celltype).__name__}: brainsim.pynn runs PyNN's "
                "standard cell types only (brainsim.pynn.list_standard_models())")
        state = simulator.state
        self.first_gid = state.id_counter
        self.brainsim_name = f"p{len(state.populations)}"      # labels need not be identifiers
        ids = np.arange(self.first_gid, self.first_gid + self.size)
        self.all_cells = np.array([simulator.ID(i) for i in ids], dtype=simulator.ID)
        self._mask_local = (ids % state.num_processes) == state.mpi_rank
        space = self.celltype.native_parameters
        space.shape = (self.size,)
        space.evaluate(simplify=False)         # every rank keeps every neuron's values
        self._parameters = {
            k: np.array(np.broadcast_to(np.asarray(v, dtype=object if k == "spike_times"
                                                   else float), (self.size,)))
            for k, v in space.items()}
        self._initial = {}
        for cell in self.all_cells:
            cell.parent = self
        state.id_counter += self.size
        state.populations.append(self)

    def _set_initial_value_array(self, variable, initial_values, mask=None):
        """Initial values (PyNN units) of the whole population or of its `mask`."""
        simulator.state.note_change("initial values of " + self.label)
        values = initial_values
        if hasattr(values, "evaluate"):
            values = values.evaluate(simplify=False)
        full = np.array(self._initial.get(variable, np.full(self.size, np.nan)), dtype=float)
        if mask is None:
            full[:] = np.broadcast_to(np.asarray(values, dtype=float), (self.size,))
        else:
            full[mask] = values
        self._initial[variable] = full

    def _get_view(self, selector, label=None):
        return PopulationView(self, selector, label)

    def _get_parameters(self, *names):
        native = self._get_native_parameters(*_native_names(self.celltype, names))
        return self.celltype.reverse_translate(native)

    def _get_native_parameters(self, *names):
        values = {name: simplify(self._parameters[name][self._mask_local]) for name in names}
        return ParameterSpace(values, shape=(self.local_size,))

    def _set_parameters(self, parameter_space):
        simulator.state.note_change("parameters of " + self.label)
        parameter_space.evaluate(simplify=False)
        for name, value in parameter_space.items():
            self._parameters[name][:] = value

    def initial_value_array(self, variable) -> np.ndarray:
        """Initial values of a PyNN state variable for every neuron (PyNN units)."""
        if variable in self._initial:
            return self._initial[variable]
        return np.full(self.size, np.nan)
