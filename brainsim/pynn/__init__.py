"""brainsim as a PyNN 0.13 backend: `import brainsim.pynn as sim` (docs/pynn.md).

Requires the optional dependencies PyNN and neo (`pip install brainsim[pynn]`).
"""
from pyNN import errors, random, space                                  # noqa: F401
from pyNN.connectors import *                                           # noqa: F401,F403
from pyNN.network import Network                                        # noqa: F401
from pyNN.random import GSLRNG, NumpyRNG, RandomDistribution            # noqa: F401
from pyNN.recording import *                                            # noqa: F401,F403
from pyNN.space import Space                                            # noqa: F401
from pyNN.standardmodels import StandardCellType

from brainsim.pynn.cells import (EIF_cond_alpha_isfa_ista, EIF_cond_exp_isfa_ista,  # noqa: F401
                                 HH_cond_exp, IF_cond_alpha, IF_cond_exp, IF_curr_alpha,
                                 IF_curr_delta, IF_curr_exp, Izhikevich, SpikeSourceArray,
                                 SpikeSourcePoisson)
from brainsim.pynn.connectors import (AllToAllConnector, ArrayConnector,  # noqa: F401
                                      CloneConnector, CSAConnector,
                                      DisplacementDependentProbabilityConnector,
                                      DistanceDependentProbabilityConnector,
                                      FixedNumberPostConnector, FixedNumberPreConnector,
                                      FixedProbabilityConnector, FixedTotalNumberConnector,
                                      FromFileConnector, FromListConnector,
                                      IndexBasedProbabilityConnector, OneToOneConnector,
                                      SmallWorldConnector)
from brainsim.pynn.control import (end, get_current_time, get_max_delay,  # noqa: F401
                                   get_min_delay, get_time_step, initialize, num_processes,
                                   rank, reset, run, run_for, run_until, setup)
from brainsim.pynn.electrodes import (ACSource, DCSource, NoisyCurrentSource,  # noqa: F401
                                      StepCurrentSource)
from brainsim.pynn.populations import Assembly, Population, PopulationView  # noqa: F401
from brainsim.pynn.procedural_api import (connect, create, record, record_gsyn,  # noqa: F401
                                          record_v)
from brainsim.pynn.projections import Projection                        # noqa: F401
from brainsim.pynn.synapses import (AdditivePotentiationMultiplicativeDepression,  # noqa: F401
                                    AdditiveWeightDependence, GutigWeightDependence,
                                    MultiplicativeWeightDependence, SpikePairRule,
                                    StaticSynapse, STDPMechanism, TsodyksMarkramSynapse)


def list_standard_models():
    """The names of the StandardCellType classes this backend runs."""
    return [obj.__name__ for obj in globals().values()
            if isinstance(obj, type) and issubclass(obj, StandardCellType)
            and obj is not HH_cond_exp]
