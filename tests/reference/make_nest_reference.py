#!/usr/bin/env python3
"""Generate ``tests/reference/nest_reference.json`` from NEST.

brainsim's tests compare against the committed JSON and do NOT need NEST.
This script is only needed to regenerate that file.

How to run (NEST 3.10.0 wheel from PyPI, Python 3.11)::

    python3 -m venv /tmp/nestvenv
    /tmp/nestvenv/bin/pip install nest-simulator numpy      # nest-simulator==3.10.0
    /tmp/nestvenv/bin/python tests/reference/make_nest_reference.py
    # optional: --out PATH  (default: nest_reference.json beside this script)

Generated with NEST 3.10.0 (the version string is stored in the JSON as
``nest_version``).  All cases: resolution 0.1 ms, 1 thread, T = 1000 ms unless
stated in the case, all neuron parameters not listed are NEST defaults (the full
parameter dict of every neuron, as reported by NEST after creation, is stored as
``params`` so a test can rebuild the case without knowing NEST defaults).

Conventions in the JSON (see NOTES.md beside this file):

* spike times are NEST's grid-constrained spike stamps in ms: a threshold
  crossing detected in the update of step s (interval s*dt .. (s+1)*dt) is
  stamped (s+1)*dt.  ``spike_steps`` holds the same as integers round(t/dt).
* a voltmeter sample at time t (interval 0.1 ms, so t = 0.1, 0.2, ...)
  is V_m after the update of step round(t/dt) - 1.  Traces stop at T - min_delay
  (NEST delivers the last min_delay of samples only in a later Simulate call);
  ``V_m_end`` is V_m at T.
* connections: explicit one_to_one static_synapse with the given weight
  (pA for iaf_psc_exp, mV for iaf_psc_delta) and delay (ms).
"""

import argparse
import json
import os
import re
import sys

import numpy as np
import nest

DT = 0.1
T_SIM = 1000.0

# parameter keys we store for each neuron model (everything that matters for the dynamics)
KEYS = {
    "iaf_psc_exp": ["C_m", "tau_m", "E_L", "V_th", "V_reset", "t_ref", "V_m", "I_e",
                    "tau_syn_ex", "tau_syn_in", "delta", "rho"],
    "iaf_psc_delta": ["C_m", "tau_m", "E_L", "V_th", "V_reset", "t_ref", "V_m", "I_e",
                      "V_min", "refractory_input"],
}

PD14_NEURON = dict(E_L=-65.0, V_th=-50.0, V_reset=-65.0, t_ref=2.0,
                   tau_syn_ex=0.5, tau_syn_in=0.5, C_m=250.0, tau_m=10.0, V_m=-65.0)
BRUNEL_NEURON = dict(tau_m=20.0, C_m=1.0, V_th=20.0, V_reset=10.0, E_L=0.0, t_ref=2.0, V_m=0.0)


def reset():
    nest.ResetKernel()
    nest.set_verbosity("M_ERROR")
    nest.SetKernelStatus({"resolution": DT, "local_num_threads": 1, "rng_seed": 1,
                          "print_time": False})


def neuron_params(node, model):
    st = node.get()
    out = {}
    for k in KEYS[model]:
        v = st[k]
        out[k] = bool(v) if isinstance(v, (bool, np.bool_)) else float(v)
    return out


def spikes_of(rec):
    t = np.asarray(rec.events["times"], dtype=float)
    t.sort()
    return [float(x) for x in t], [int(round(x / DT)) for x in t]


def vtrace(vm):
    ev = vm.events
    t = np.asarray(ev["times"], dtype=float)
    v = np.asarray(ev["V_m"], dtype=float)
    order = np.argsort(t, kind="stable")
    return [float(x) for x in t[order]], [float(x) for x in v[order]]


def single_neuron(model, params, T=T_SIM, record_v=False):
    """One neuron with constant I_e (given in params)."""
    reset()
    n = nest.Create(model, params=params)
    sr = nest.Create("spike_recorder")
    nest.Connect(n, sr)
    vm = None
    if record_v:
        vm = nest.Create("voltmeter", params={"interval": DT})
        nest.Connect(vm, n)
    stored = neuron_params(n, model)  # before simulation: initial V_m
    nest.Simulate(T)
    ts, steps = spikes_of(sr)
    case = {"model": model, "t_sim_ms": T, "params": stored,
            "spike_times_ms": ts, "spike_steps": steps,
            "V_m_end": float(n.get("V_m"))}
    if record_v:
        tv, v = vtrace(vm)
        case["vm_t_ms"] = tv
        case["vm_V_m"] = v
    return case


def dc_case(delay, amplitude=376.0, start=50.0, stop=600.0, T=T_SIM, record_v=True):
    reset()
    n = nest.Create("iaf_psc_exp")
    dc = nest.Create("dc_generator", params={"amplitude": amplitude, "start": start, "stop": stop})
    sr = nest.Create("spike_recorder")
    nest.Connect(dc, n, syn_spec={"weight": 1.0, "delay": delay})
    nest.Connect(n, sr)
    vm = None
    if record_v:
        vm = nest.Create("voltmeter", params={"interval": DT})
        nest.Connect(vm, n)
    stored = neuron_params(n, "iaf_psc_exp")
    nest.Simulate(T)
    ts, steps = spikes_of(sr)
    case = {"model": "iaf_psc_exp", "t_sim_ms": T, "params": stored,
            "dc_generator": {"amplitude": amplitude, "start": start, "stop": stop, "origin": 0.0,
                             "weight": 1.0, "delay": delay},
            "spike_times_ms": ts, "spike_steps": steps, "V_m_end": float(n.get("V_m"))}
    if record_v:
        tv, v = vtrace(vm)
        case["vm_t_ms"] = tv
        case["vm_V_m"] = v
    return case


def network_case(model, neurons, connections, T=T_SIM, record_v=("B",)):
    """neurons: ordered dict name -> params; connections: list of (src, tgt, weight, delay)."""
    reset()
    nodes = {}
    recs = {}
    for name, p in neurons.items():
        nodes[name] = nest.Create(model, params=p)
        recs[name] = nest.Create("spike_recorder")
        nest.Connect(nodes[name], recs[name])
    vms = {}
    for name in record_v:
        vms[name] = nest.Create("voltmeter", params={"interval": DT})
        nest.Connect(vms[name], nodes[name])
    for (s, t, w, d) in connections:
        nest.Connect(nodes[s], nodes[t], conn_spec={"rule": "one_to_one"},
                     syn_spec={"synapse_model": "static_synapse", "weight": w, "delay": d})
    stored = {name: neuron_params(nodes[name], model) for name in neurons}
    nest.Simulate(T)
    out = {"model": model, "t_sim_ms": T,
           "neurons": list(neurons.keys()),
           "params": stored,
           "connections": [{"source": s, "target": t, "weight": w, "delay": d,
                            "synapse_model": "static_synapse", "rule": "one_to_one"}
                           for (s, t, w, d) in connections],
           "spike_times_ms": {}, "spike_steps": {}}
    for name in neurons:
        ts, steps = spikes_of(recs[name])
        out["spike_times_ms"][name] = ts
        out["spike_steps"][name] = steps
    for name, vm in vms.items():
        tv, v = vtrace(vm)
        out.setdefault("vm_t_ms", {})[name] = tv
        out.setdefault("vm_V_m", {})[name] = v
    # control: the same neurons without any connections (shows that B's spikes are
    # caused by synaptic input)
    reset()
    ctrl = {}
    for name, p in neurons.items():
        n = nest.Create(model, params=p)
        r = nest.Create("spike_recorder")
        nest.Connect(n, r)
        ctrl[name] = r
    nest.Simulate(T)
    out["unconnected_spike_counts"] = {name: len(r.events["times"]) for name, r in ctrl.items()}
    return out


def spike_generator_case(T=200.0):
    """spike_generator (on-grid spike times) -> iaf_psc_exp, exact input times."""
    reset()
    times = [10.0, 10.1, 25.3, 25.3, 40.0, 41.7, 41.8, 41.9, 42.0, 60.5]
    sg = nest.Create("spike_generator", params={"spike_times": times})
    n = nest.Create("iaf_psc_exp", params={"I_e": 370.0})
    sr = nest.Create("spike_recorder")
    vm = nest.Create("voltmeter", params={"interval": DT})
    nest.Connect(sg, n, syn_spec={"weight": 300.0, "delay": 1.0})
    nest.Connect(n, sr)
    nest.Connect(vm, n)
    stored = neuron_params(n, "iaf_psc_exp")
    nest.Simulate(T)
    ts, steps = spikes_of(sr)
    tv, v = vtrace(vm)
    return {"model": "iaf_psc_exp", "t_sim_ms": T, "params": stored,
            "spike_generator": {"spike_times": times, "weight": 300.0, "delay": 1.0},
            "spike_times_ms": ts, "spike_steps": steps, "V_m_end": float(n.get("V_m")),
            "vm_t_ms": tv, "vm_V_m": v,
            "note": "spike_generator spike at time t (on grid) with delay d: the target adds "
                    "the weight in its update of step round((t+d)/dt)-1, i.e. exactly like a "
                    "neuron spike stamped t. Repeated times = multiplicity 2."}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                  "nest_reference.json"))
    args = ap.parse_args()

    cases = {}

    # 1. iaf_psc_exp defaults, I_e = 376 pA, with full V_m trace
    cases["iaf_psc_exp_default_Ie376"] = single_neuron("iaf_psc_exp", {"I_e": 376.0}, record_v=True)
    # 2. iaf_psc_exp with PD14 neuron parameters, I_e = 400 pA
    cases["iaf_psc_exp_pd14_Ie400"] = single_neuron("iaf_psc_exp", dict(PD14_NEURON, I_e=400.0))
    # 3. iaf_psc_delta defaults, I_e = 376 pA (V trace); Brunel parameters, I_e = 1.05 pA
    cases["iaf_psc_delta_default_Ie376"] = single_neuron("iaf_psc_delta", {"I_e": 376.0}, record_v=True)
    cases["iaf_psc_delta_brunel_Ie1.05"] = single_neuron("iaf_psc_delta", dict(BRUNEL_NEURON, I_e=1.05),
                                                         record_v=True)
    # 4. dc_generator 376 pA, start 50, stop 600, delay 0.1 and 1.0 ms
    cases["dc_generator_delay0.1"] = dc_case(0.1)
    cases["dc_generator_delay1.0"] = dc_case(1.0)
    cases["dc_generator_delay0.1_start0_nostop"] = dc_case(0.1, start=0.0, stop=float("inf"),
                                                           record_v=False)
    # JSON cannot hold inf portably: store stop as null = never stops
    cases["dc_generator_delay0.1_start0_nostop"]["dc_generator"]["stop"] = None

    # 5. small networks with explicit one_to_one connections
    A, B, C = 376.0, 370.0, 380.0
    cases["net_iaf_psc_exp"] = network_case(
        "iaf_psc_exp",
        {"A": {"I_e": A}, "B": {"I_e": B}, "C": {"I_e": C}},
        [("A", "B", 200.0, 1.0), ("C", "B", -150.0, 2.3)])
    fast = {"tau_syn_ex": 0.5, "tau_syn_in": 0.5}
    cases["net_iaf_psc_exp_tausyn0.5"] = network_case(
        "iaf_psc_exp",
        {"A": {"I_e": A}, "B": dict(fast, I_e=B), "C": {"I_e": C}},
        [("A", "B", 200.0, 1.0), ("C", "B", -150.0, 2.3)])
    cases["net_iaf_psc_delta"] = network_case(
        "iaf_psc_delta",
        {"A": {"I_e": A}, "B": {"I_e": B}, "C": {"I_e": C}},
        [("A", "B", 2.0, 1.5), ("C", "B", -1.5, 2.3)])
    # a denser variant: recurrent loop with several delays incl. the minimum delay dt,
    # inputs arriving during refractoriness and in the same step as other inputs
    cases["net_iaf_psc_exp_loop"] = network_case(
        "iaf_psc_exp",
        {"A": {"I_e": 376.0}, "B": {"I_e": 370.0}, "C": {"I_e": 372.0, "V_m": -60.0},
         "D": {"I_e": 390.0, "tau_syn_ex": 0.5, "tau_syn_in": 1.0}},
        [("A", "B", 250.0, 1.0), ("B", "C", 300.0, 0.1), ("C", "D", 400.0, 0.7),
         ("D", "A", -50.0, 1.3), ("D", "B", -100.0, 0.1), ("A", "C", 150.0, 2.0),
         ("C", "B", 120.0, 1.1)],
        record_v=("B", "C"))

    # 6. extra: spike_generator input
    cases["spike_generator_to_iaf_psc_exp"] = spike_generator_case()

    out = {
        "nest_version": nest.__version__,
        "generator": "tests/reference/make_nest_reference.py",
        "resolution_ms": DT,
        "threads": 1,
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "conventions": {
            "spike_times": "grid stamps: crossing in update of step s -> (s+1)*dt; spike_steps = round(t/dt)",
            "voltmeter": "sample at t = V_m after update of step round(t/dt)-1 (interval 0.1 ms, "
                         "t = 0.1 .. T - min_delay: NEST hands the last min_delay of samples over "
                         "only in a following Simulate call, so traces end at 999.0 ms when "
                         "min_delay = 1 ms and at 999.9 when a 0.1 ms delay exists; V_m_end is "
                         "V_m at T)",
            "weights": "pA for iaf_psc_exp (sign selects ex/in synapse), mV for iaf_psc_delta",
            "params": "initial parameter/state values read back from NEST after Create",
        },
        "cases": cases,
    }
    # indented structure, but every list of numbers on one line (keeps the file small)
    text = json.dumps(out, indent=1)
    text = re.sub(r"\[\s*([-0-9.eE+,\s]*?)\s*\]",
                  lambda mm: "[" + ", ".join(x.strip() for x in mm.group(1).split(",") if x.strip()) + "]",
                  text)
    assert json.loads(text) == json.loads(json.dumps(out))
    with open(args.out, "w") as f:
        f.write(text)
        f.write("\n")
    # summary
    for name, c in cases.items():
        st = c["spike_times_ms"]
        if isinstance(st, dict):
            print(name, {k: len(v) for k, v in st.items()}, "unconnected:", c["unconnected_spike_counts"])
        else:
            print(name, len(st), st[:5])
    print("wrote", args.out)


if __name__ == "__main__":
    main()
