"""Run by test_api_ranks under mpiexec (or alone): the API's results to an .npz on rank 0."""
import sys

import numpy as np

import brainsim
from test_api import BRUNEL, SMALL

sim = brainsim.Simulation(brainsim.load(BRUNEL, SMALL))
sim.run(40.0)
sim.run(13.3)
sim.set("E", [1, 2], V_m=[3.0, 4.0])
sim.run(20.0)
v_now = sim.get("E", "V_m", [0, 1, 2, 3])
spikes = sim.spikes()
times, values, ids = sim.state("V_m", "E")
if sim.comm.rank == 0:
    np.savez(sys.argv[1], E_t=spikes["E"][0], E_i=spikes["E"][1], I_t=spikes["I"][0],
             I_i=spikes["I"][1], V=values, v_now=v_now)
else:
    assert len(spikes["E"][0]) == 0 and values.shape[0] == 0
