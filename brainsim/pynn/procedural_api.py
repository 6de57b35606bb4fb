"""PyNN's procedural API (create, connect, record) on the brainsim classes."""
from pyNN import common

from brainsim.pynn import simulator
from brainsim.pynn.connectors import FixedProbabilityConnector
from brainsim.pynn.populations import Population
from brainsim.pynn.projections import Projection
from brainsim.pynn.synapses import StaticSynapse

create = common.build_create(Population)
connect = common.build_connect(Projection, FixedProbabilityConnector, StaticSynapse)
record = common.build_record(simulator)


def record_v(source, filename):
    return record(['v'], source, filename)


def record_gsyn(source, filename):
    return record(['gsyn_exc', 'gsyn_inh'], source, filename)
