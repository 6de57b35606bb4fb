#!/usr/bin/env python3
"""NEST 3.10 reference for a small explicit network: 300 iaf_psc_exp neurons (240 E, 60 I)
wired by an explicit edge list (what brainsim reads from a SONATA edges file), driven by a
spike_generator (per-neuron times, into E) and a DC current (into all), 300 ms at dt 0.1 ms,
1 thread.

    pip install nest-simulator numpy
    python tests/reference/make_nest_sonata_network.py  # -> tests/reference/nest_sonata_network.json

The JSON holds the edges (population-local ids, weights in pA, delays in ms), the device
settings and NEST's spike times; tests/scientific/test_nest_sonata_network.py writes the
edges as a SONATA file, builds the same network in brainsim and compares spike steps.
"""
import argparse
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
N_E, N_I = 240, 60
PARAMS = {"E_L": -65.0, "V_th": -50.0, "V_reset": -65.0, "t_ref": 2.0, "tau_syn_ex": 0.5,
          "tau_syn_in": 1.0, "C_m": 250.0, "tau_m": 10.0}
T_SIM = 300.0


def edges(rng):
    """(population pair) -> (source ids, target ids, weights pA, delays ms), on the grid."""
    plan = {("E", "E"): (3000, 60.0, 140.0), ("E", "I"): (900, 80.0, 160.0),
            ("I", "E"): (1500, -260.0, -120.0), ("I", "I"): (300, -220.0, -100.0)}
    size = {"E": N_E, "I": N_I}
    result = {}
    for (src, tgt), (count, low, high) in plan.items():
        result[f"{src}_to_{tgt}"] = {
            "source": src, "target": tgt,
            "source_ids": rng.integers(0, size[src], count).tolist(),
            "target_ids": rng.integers(0, size[tgt], count).tolist(),
            "weights": np.round(rng.uniform(low, high, count), 3).tolist(),
            "delays": (np.round(rng.uniform(0.1, 3.0, count), 1)).tolist()}
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(HERE, "nest_sonata_network.json"))
    args = parser.parse_args()
    rng = np.random.default_rng(2026)
    network = edges(rng)
    stim_ids = sorted(rng.choice(N_E, 40, replace=False).tolist())
    stim_times = np.round(rng.uniform(5.0, 250.0, 40), 1).tolist()
    generator = {"node_ids": stim_ids, "times": stim_times, "weight": 900.0, "delay": 1.0}
    dc = {"amplitude": 370.0, "start": 20.0, "stop": 280.0, "delay": 0.1}

    import nest
    nest.ResetKernel()
    nest.set_verbosity("M_ERROR")
    nest.SetKernelStatus({"resolution": 0.1, "local_num_threads": 1})
    pops = {"E": nest.Create("iaf_psc_exp", N_E, params=PARAMS),
            "I": nest.Create("iaf_psc_exp", N_I, params=PARAMS)}
    for item in network.values():
        # numpy arrays of node ids: NEST's connect_arrays path (duplicates, any order)
        first_source = pops[item["source"]][0].global_id
        first_target = pops[item["target"]][0].global_id
        nest.Connect(np.array(item["source_ids"], dtype=np.int64) + first_source,
                     np.array(item["target_ids"], dtype=np.int64) + first_target,
                     "one_to_one", {"synapse_model": "static_synapse",
                                    "weight": np.array(item["weights"]),
                                    "delay": np.array(item["delays"])})
    expected = sum(len(item["weights"]) for item in network.values())
    assert len(nest.GetConnections()) == expected, "every edge must be one NEST connection"
    for node, time in zip(stim_ids, stim_times):
        sg = nest.Create("spike_generator", params={"spike_times": [time]})
        nest.Connect(sg, pops["E"][node], syn_spec={"weight": generator["weight"],
                                                     "delay": generator["delay"]})
    dcg = nest.Create("dc_generator", params={"amplitude": dc["amplitude"], "start": dc["start"],
                                              "stop": dc["stop"]})
    nest.Connect(dcg, pops["E"] + pops["I"], syn_spec={"delay": dc["delay"]})
    recorders = {}
    for name, pop in pops.items():
        recorders[name] = nest.Create("spike_recorder")
        nest.Connect(pop, recorders[name])
    nest.Simulate(T_SIM)
    spikes = {}
    for name, pop in pops.items():
        events = recorders[name].get("events")
        first = pop[0].global_id
        order = np.lexsort((events["senders"], events["times"]))
        spikes[name] = {"times": events["times"][order].tolist(),
                        "node_ids": (events["senders"][order] - first).tolist(),
                        "steps": np.rint(events["times"][order] / 0.1).astype(int).tolist()}
    with open(args.out, "w") as handle:
        json.dump({"nest_version": nest.__version__, "t_sim_ms": T_SIM, "params": PARAMS,
                   "sizes": {"E": N_E, "I": N_I}, "edges": network,
                   "spike_generator": generator, "dc_generator": dc, "spikes": spikes},
                  handle)
    print({name: len(s["times"]) for name, s in spikes.items()})


if __name__ == "__main__":
    main()
