"""The backend's state: PyNN's BaseState plus the network described so far.

brainsim builds a network from a whole model document, so the backend collects what the
script creates (populations, projections, current sources, recorders) and hands the
document to brainsim at each run (brainsim.pynn.execute). Times in ms.
"""
from __future__ import annotations

from pyNN import common

name = "brainsim"


class ID(int, common.IDMixin):
    """A neuron's PyNN id: its brainsim gid (populations numbered in creation order)."""

    def __init__(self, n):
        int.__init__(n)
        common.IDMixin.__init__(self)


class State(common.control.BaseState):
    """Simulation time, settings and the network (see module docstring)."""

    def __init__(self):
        common.control.BaseState.__init__(self)
        from brainsim.pynn.parallel import mpi_rank_and_size
        self.mpi_rank, self.num_processes = mpi_rank_and_size()
        self.dt = 0.1
        self.min_delay = 0.1
        self.max_delay = 10.0
        self.seed = 12345
        self.segment_counter = -1
        self.clear()

    def clear(self):
        """setup(): forget the network and every result."""
        self.populations = []
        self.projections = []
        self.current_sources = []
        self.recorders = set()
        self.id_counter = 0
        self.results = None            # brainsim.pynn.execute.Results of the last run
        self.changed_after_start = None    # what was changed after a run, or None
        self.reset()

    def reset(self):
        """reset(): time back to 0, a new recording segment, network kept."""
        self.running = False
        self.t = 0.0
        self.t_start = 0.0
        self.results = None
        self.changed_after_start = None
        self.segment_counter += 1

    def note_change(self, what: str) -> None:
        """A parameter / state / input changed; after a run it cannot be replayed exactly."""
        if self.t > 0.0:
            self.changed_after_start = what

    def run_until(self, tstop: float) -> None:
        from brainsim.pynn.execute import run_network
        if tstop < self.t - 1e-9:
            raise ValueError(f"run_until({tstop}): time {self.t} ms already passed")
        self.results = run_network(self, tstop)
        self.t = tstop
        self.running = True

    def run(self, simtime: float) -> None:
        self.run_until(self.t + simtime)


state = State()
