#!/usr/bin/env python3
"""Generate ``tests/reference/nest_plasticity_reference.json`` from NEST 3.10 for
stdp_pl_synapse_hom, tsodyks_synapse and tsodyks2_synapse (one pre/post pair):

    spike_generator -> parrot_neuron (pre) --synapse--> post
    spike_generator ----------------------static------> post (stdp_pl cases: post spikes)

After every `chunk_ms`: the synapse's weight (stdp_pl), its state x, y, u (tsodyks) and
the post neuron's V_m; plus the spike stamps (ms) of pre and post. A case may give its own
``pre_times`` (repeated times: spikes of multiplicity n through the parrot). brainsim's tests
compare against the committed JSON and do NOT need NEST. To regenerate::

    /work/nestvenv/bin/python tests/reference/make_nest_plasticity_reference.py [--out PATH]
"""
import argparse
import json
import os

import nest

DT = 0.1
PRE_TIMES = [10.0, 15.3, 22.0, 40.0, 41.5, 42.0, 42.7, 60.0, 80.2, 100.0, 130.0, 131.0,
             160.0, 190.0, 191.1, 192.2, 193.0, 230.0]
POST_TIMES = [12.0, 14.5, 21.0, 25.0, 43.0, 55.0, 61.0, 79.0, 101.0, 128.0, 150.0, 175.0,
              195.0, 228.4]
# repeated times: the parrot relays a spike of multiplicity n, which NEST unrolls into n
# events for plastic synapses (event_delivery_manager_impl.h), each updating the state
PRE_TIMES_MULTIPLE = [10.0, 10.0, 15.3, 22.0, 22.0, 22.0, 40.0, 60.0, 60.0, 100.0, 130.0,
                      130.0, 190.0, 230.0, 230.0]
T_SIM = 250.0
CHUNK = 5.0

CASES = {
    "pl_defaults_delta": dict(
        model="stdp_pl_synapse_hom", post_model="iaf_psc_delta",
        post_params={"tau_minus": 25.0}, drive_weight=100.0,
        synapse={"weight": 1.0, "delay": 1.5}, params={}),
    "pl_nondefault_exp": dict(
        model="stdp_pl_synapse_hom", post_model="iaf_psc_exp", post_params={},
        drive_weight=100000.0, synapse={"weight": 30.0, "delay": 2.3},
        params={"tau_plus": 15.0, "lambda": 0.3, "alpha": 0.05, "mu": 0.6}),
    "tsodyks_depressing": dict(
        model="tsodyks_synapse", post_model="iaf_psc_exp",
        post_params={"tau_syn_ex": 3.0, "tau_syn_in": 3.0}, drive_weight=0.0,
        synapse={"weight": 600.0, "delay": 1.0}, params={}),
    "tsodyks_facilitating": dict(
        model="tsodyks_synapse", post_model="iaf_psc_alpha", post_params={},
        drive_weight=0.0, synapse={"weight": -900.0, "delay": 1.7},
        params={"U": 0.1, "tau_psc": 2.0, "tau_fac": 100.0, "tau_rec": 120.0, "x": 0.8,
                "y": 0.1, "u": 0.05}),
    "tsodyks2_defaults": dict(
        model="tsodyks2_synapse", post_model="iaf_psc_exp", post_params={},
        drive_weight=0.0, synapse={"weight": 700.0, "delay": 1.0}, params={}),
    "tsodyks2_facilitating": dict(
        model="tsodyks2_synapse", post_model="iaf_psc_delta", post_params={},
        drive_weight=0.0, synapse={"weight": 12.0, "delay": 2.0},
        params={"U": 0.2, "u": 0.3, "x": 0.9, "tau_rec": 150.0, "tau_fac": 60.0}),
    "tsodyks2_multiplicity": dict(
        model="tsodyks2_synapse", post_model="iaf_psc_exp", post_params={},
        drive_weight=0.0, synapse={"weight": 100.0, "delay": 1.0}, params={},
        pre_times=PRE_TIMES_MULTIPLE),
    "tsodyks2_multiplicity_facilitating": dict(
        model="tsodyks2_synapse", post_model="iaf_psc_exp", post_params={},
        drive_weight=0.0, synapse={"weight": 100.0, "delay": 1.0},
        params={"U": 0.2, "u": 0.3, "x": 0.9, "tau_rec": 150.0, "tau_fac": 60.0},
        pre_times=PRE_TIMES_MULTIPLE),
    "tsodyks_multiplicity": dict(
        model="tsodyks_synapse", post_model="iaf_psc_exp",
        post_params={"tau_syn_ex": 3.0, "tau_syn_in": 3.0}, drive_weight=0.0,
        synapse={"weight": 100.0, "delay": 1.0}, params={"U": 0.3, "tau_fac": 50.0},
        pre_times=PRE_TIMES_MULTIPLE),
    "pl_multiplicity_delta": dict(
        model="stdp_pl_synapse_hom", post_model="iaf_psc_delta",
        post_params={"tau_minus": 25.0}, drive_weight=100.0,
        synapse={"weight": 1.0, "delay": 1.5}, params={}, pre_times=PRE_TIMES_MULTIPLE),
}
STATE = {"stdp_pl_synapse_hom": ("weight", "Kplus"), "tsodyks_synapse": ("x", "y", "u"),
         "tsodyks2_synapse": ("x", "u")}


def run(case):
    nest.ResetKernel()
    nest.set_verbosity("M_ERROR")
    nest.SetKernelStatus({"resolution": DT, "local_num_threads": 1, "print_time": False})
    model = case["model"]
    sg_pre = nest.Create("spike_generator",
                         params={"spike_times": case.get("pre_times", PRE_TIMES)})
    pre = nest.Create("parrot_neuron")
    post = nest.Create(case["post_model"], params=case["post_params"])
    nest.Connect(sg_pre, pre, syn_spec={"weight": 1.0, "delay": 1.0})
    if case["drive_weight"]:
        sg_post = nest.Create("spike_generator", params={"spike_times": POST_TIMES})
        nest.Connect(sg_post, post, syn_spec={"weight": case["drive_weight"], "delay": 1.0})
    if model == "stdp_pl_synapse_hom":
        nest.SetDefaults(model, case["params"])
        nest.Connect(pre, post, syn_spec={"synapse_model": model, **case["synapse"]})
    else:
        nest.Connect(pre, post, syn_spec={"synapse_model": model, **case["synapse"],
                                          **case["params"]})
    rec_pre, rec_post = nest.Create("spike_recorder"), nest.Create("spike_recorder")
    nest.Connect(pre, rec_pre)
    nest.Connect(post, rec_post)
    conn = nest.GetConnections(pre, post, synapse_model=model)
    state = {k: [] for k in STATE[model]}
    v_m = []
    for _ in range(int(round(T_SIM / CHUNK))):
        nest.Simulate(CHUNK)
        for k in state:
            state[k].append(float(conn.get(k)))
        v_m.append(float(post.get("V_m")))
    return {**case, "state": state, "V_m": v_m,
            "defaults": {k: float(v) for k, v in nest.GetDefaults(model).items()
                         if isinstance(v, float)},
            "pre_spikes": [float(t) for t in rec_pre.get("events")["times"]],
            "post_spikes": [float(t) for t in rec_post.get("events")["times"]]}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__),
                                                      "nest_plasticity_reference.json"))
    args = parser.parse_args()
    out = {"nest_version": nest.__version__, "dt": DT, "t_sim_ms": T_SIM, "chunk_ms": CHUNK,
           "pre_times": PRE_TIMES, "post_times": POST_TIMES,
           "cases": {name: run(case) for name, case in CASES.items()}}
    with open(args.out, "w") as handle:
        json.dump(out, handle, indent=1)


if __name__ == "__main__":
    main()
