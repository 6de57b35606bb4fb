"""A PyNN script under `mpiexec -n 2` gives the spikes of one process, get_data gathering
them on rank 0 (connections computed per rank for its targets, gathered to every rank)."""
import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("pyNN")

SCRIPT = """
import json, sys
import brainsim.pynn as sim
sim.setup(timestep=0.1, min_delay=0.5)
noise = sim.Population(20, sim.SpikeSourcePoisson(rate=80.0))
cells = sim.Population(10, sim.IF_curr_exp())
sim.Projection(noise, cells, sim.FixedProbabilityConnector(0.5, rng=sim.NumpyRNG(seed=1)),
               sim.StaticSynapse(weight=0.8, delay=1.0))
cells.record('spikes')
sim.run(150.0)
sim.run(150.0)
trains = cells.get_data().segments[0].spiketrains
if sim.rank() == 0:
    with open(sys.argv[1], "w") as f:
        json.dump({"ranks": sim.num_processes(), "spikes": sorted(
            (int(st.annotations["source_index"]), [float(t) for t in st.times.magnitude])
            for st in trains)}, f)
sim.end()
"""


def _run(command, path):
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    subprocess.run(command + [str(path)], check=True, env=env, timeout=300,
                   capture_output=True)
    return json.loads(path.read_text())


def test_two_ranks_give_the_spikes_of_one(tmp_path, mpiexec):
    script = tmp_path / "script.py"
    script.write_text(SCRIPT)
    one = _run([sys.executable, str(script)], tmp_path / "one.json")
    two = _run([mpiexec, "-n", "2", sys.executable, str(script)], tmp_path / "two.json")
    assert (one["ranks"], two["ranks"]) == (1, 2)
    assert sum(len(t) for _, t in one["spikes"]) > 100
    assert two["spikes"] == one["spikes"]
