"""PyNN's connectors, with one fix for brainsim: every connection is made by PyNN's own
code (MapConnector._standard_connect), which fails when the presynaptic side has one
neuron and the map is not homogeneous (a column evaluates to a 0-d array; pyNN.nest
escapes it by connecting AllToAll / FixedProbability natively). Columns are given as 1-d
arrays here; nothing else changes."""
from __future__ import annotations

import numpy as np
from pyNN import connectors


def _as_1d(columns):
    def generate(mask=None):
        for column in columns(mask):
            yield column if column is True or column is False else np.atleast_1d(column)
    return generate


class _OneSourceColumns:
    def _standard_connect(self, projection, connection_map_generator, distance_map=None):
        return super()._standard_connect(projection, _as_1d(connection_map_generator),
                                         distance_map)


def _fixed(base):
    return type(base.__name__, (_OneSourceColumns, base), {"__doc__": base.__doc__})


AllToAllConnector = _fixed(connectors.AllToAllConnector)
FixedProbabilityConnector = _fixed(connectors.FixedProbabilityConnector)
DistanceDependentProbabilityConnector = _fixed(connectors.DistanceDependentProbabilityConnector)
IndexBasedProbabilityConnector = _fixed(connectors.IndexBasedProbabilityConnector)
DisplacementDependentProbabilityConnector = _fixed(
    connectors.DisplacementDependentProbabilityConnector)
FixedNumberPostConnector = _fixed(connectors.FixedNumberPostConnector)
FixedNumberPreConnector = _fixed(connectors.FixedNumberPreConnector)
OneToOneConnector = _fixed(connectors.OneToOneConnector)
ArrayConnector = _fixed(connectors.ArrayConnector)
FixedTotalNumberConnector = _fixed(connectors.FixedTotalNumberConnector)
CloneConnector = _fixed(connectors.CloneConnector)
FromListConnector = connectors.FromListConnector
FromFileConnector = connectors.FromFileConnector
SmallWorldConnector = connectors.SmallWorldConnector
CSAConnector = _fixed(connectors.CSAConnector)
