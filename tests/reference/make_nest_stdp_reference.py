#!/usr/bin/env python3
"""Generate ``tests/reference/nest_stdp_reference.json`` from NEST 3.10: stdp_synapse weight
trajectories for one pre/post pair (as NEST's own STDP tests build it).

    spike_generator -> parrot_neuron (pre) --stdp_synapse--> post (iaf_psc_delta / _exp /
                                                                  _alpha / parrot_neuron)
    spike_generator ----------------------------static-----> post (drives its spikes)

brainsim's tests compare against the committed JSON and do NOT need NEST. To regenerate::

    /work/nestvenv/bin/python tests/reference/make_nest_stdp_reference.py [--out PATH]

Per case: the inputs, parameters, the stdp weight after every `chunk_ms` of simulation
(``weights``), and the spike stamps (ms) of pre and post. Resolution 0.1 ms, one thread.
A case may give its own ``pre_times`` / ``post_times`` (repeated times: multiplicity), or a
``pre_model`` with ``pre_params`` in place of the parrot, driven with ``pre_drive_weight``.
"""
import argparse
import json
import os

import nest

DT = 0.1
PRE_TIMES = [10.0, 15.3, 22.0, 40.0, 41.5, 60.0, 80.2, 100.0, 130.0, 131.0, 160.0, 190.0,
             191.1, 192.2, 230.0]
POST_TIMES = [12.0, 14.5, 21.0, 25.0, 43.0, 55.0, 61.0, 79.0, 101.0, 128.0, 150.0, 175.0,
              195.0, 228.4]
# repeated times: spikes of multiplicity n (the parrot relays them as one event), which NEST
# unrolls into n events for plastic synapses; a parrot target archives n post spikes
PRE_TIMES_MULTIPLE = [10.0, 10.0, 15.3, 22.0, 22.0, 22.0, 40.0, 60.0, 60.0, 100.0, 130.0,
                      130.0, 190.0, 230.0, 230.0]
POST_TIMES_MULTIPLE = [12.0, 12.0, 14.5, 21.0, 25.0, 25.0, 25.0, 43.0, 55.0, 61.0, 61.0,
                       79.0, 101.0, 128.0, 150.0, 175.0, 195.0, 195.0, 228.4]

CASES = {
    "nondefault_delta": dict(
        post_model="iaf_psc_delta", post_params={"tau_minus": 25.0}, drive_weight=100.0,
        stdp={"weight": 1.0, "delay": 1.5, "tau_plus": 16.8, "lambda": 0.05, "alpha": 1.2,
              "mu_plus": 0.4, "mu_minus": 0.6, "Wmax": 2.0}),
    "defaults_exp": dict(
        post_model="iaf_psc_exp", post_params={}, drive_weight=100000.0,
        stdp={"weight": 50.0, "delay": 1.0}),
    "negative_alpha": dict(
        post_model="iaf_psc_alpha", post_params={"tau_minus": 15.0}, drive_weight=100000.0,
        stdp={"weight": -20.0, "delay": 2.3, "lambda": 0.2, "Wmax": -40.0, "mu_plus": 0.0,
              "mu_minus": 0.0}),
    # a parrot target ignores every weight (each spike one event) while the weight learns
    "parrot_post": dict(
        post_model="parrot_neuron", post_params={"tau_minus": 18.0}, drive_weight=2.5,
        stdp={"weight": 3.0, "delay": 1.2, "tau_plus": 14.0, "lambda": 0.03, "alpha": 0.8,
              "mu_plus": 0.5, "mu_minus": 0.7, "Wmax": 10.0}),
    "multiplicity_exp": dict(
        post_model="iaf_psc_exp", post_params={}, drive_weight=100000.0,
        stdp={"weight": 50.0, "delay": 1.0}, pre_times=PRE_TIMES_MULTIPLE),
    "multiplicity_parrot_post": dict(
        post_model="parrot_neuron", post_params={"tau_minus": 18.0}, drive_weight=2.5,
        stdp={"weight": 3.0, "delay": 1.2, "tau_plus": 14.0, "lambda": 0.03, "alpha": 0.8,
              "mu_plus": 0.5, "mu_minus": 0.7, "Wmax": 10.0},
        pre_times=PRE_TIMES_MULTIPLE, post_times=POST_TIMES_MULTIPLE),
    # the presynaptic neuron is an aeif_cond_exp with t_ref = 0 that answers each input
    # spike with a burst, several spikes in one step (each its own event in NEST); the
    # bursts end long before a chunk ends
    "aeif_tref0_pre": dict(
        pre_model="aeif_cond_exp", pre_params={"t_ref": 0.0, "a": 0.0, "b": 0.0,
                                               "V_peak": -20.0},
        pre_drive_weight=20000.0,
        pre_times=[10.0, 22.0, 41.5, 60.0, 80.2, 100.0, 130.0, 160.0, 201.5, 230.0],
        post_model="iaf_psc_exp", post_params={}, drive_weight=100000.0,
        stdp={"weight": 50.0, "delay": 1.0}),
}
T_SIM = 250.0
CHUNK = 5.0


def run(case):
    nest.ResetKernel()
    nest.set_verbosity("M_ERROR")
    nest.SetKernelStatus({"resolution": DT, "local_num_threads": 1, "print_time": False})
    sg_post = nest.Create("spike_generator",
                          params={"spike_times": case.get("post_times", POST_TIMES)})
    pre = nest.Create(case.get("pre_model", "parrot_neuron"), params=case.get("pre_params", {}))
    sg_pre = nest.Create("spike_generator",
                         params={"spike_times": case.get("pre_times", PRE_TIMES)})
    nest.Connect(sg_pre, pre, syn_spec={"weight": case.get("pre_drive_weight", 1.0),
                                        "delay": 1.0})
    post = nest.Create(case["post_model"], params=case["post_params"])
    nest.Connect(sg_post, post, syn_spec={"weight": case["drive_weight"], "delay": 1.0})
    nest.Connect(pre, post, syn_spec={"synapse_model": "stdp_synapse", **case["stdp"]})
    rec_pre, rec_post = nest.Create("spike_recorder"), nest.Create("spike_recorder")
    nest.Connect(pre, rec_pre)
    nest.Connect(post, rec_post)
    conn = nest.GetConnections(pre, post, synapse_model="stdp_synapse")
    weights = []
    for _ in range(int(round(T_SIM / CHUNK))):
        nest.Simulate(CHUNK)
        weights.append(float(conn.get("weight")))
    return {**case, "weights": weights,
            "pre_spikes": [float(t) for t in rec_pre.get("events")["times"]],
            "post_spikes": [float(t) for t in rec_post.get("events")["times"]],
            "post_defaults": {k: float(v) for k, v in post.get().items()
                              if k in ("tau_minus",)}}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__),
                                                      "nest_stdp_reference.json"))
    args = parser.parse_args()
    out = {"nest_version": nest.__version__, "dt": DT, "t_sim_ms": T_SIM, "chunk_ms": CHUNK,
           "pre_times": PRE_TIMES, "post_times": POST_TIMES,
           "cases": {name: run(case) for name, case in CASES.items()}}
    with open(args.out, "w") as handle:
        json.dump(out, handle, indent=1)


if __name__ == "__main__":
    main()
