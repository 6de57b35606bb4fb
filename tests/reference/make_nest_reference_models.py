#!/usr/bin/env python3
"""Generate ``tests/reference/nest_reference_models.json`` from NEST 3.10 (the neuron models
beyond iaf_psc_exp / iaf_psc_delta: iaf_psc_alpha, iaf_cond_exp, iaf_cond_alpha,
aeif_cond_exp, izhikevich, parrot_neuron).

brainsim's tests compare against the committed JSON and do NOT need NEST. To regenerate::

    /work/nestvenv/bin/python tests/reference/make_nest_reference_models.py [--out PATH]

Every case is a small explicit network (a single neuron is a network of one, ``N``):
``neurons`` (names in creation order = gid order), ``models`` and ``params`` per neuron
(the parameters and initial state NEST reports after creation), ``connections`` (explicit
one_to_one static_synapse, weight in the target's unit, delay in ms), optional
``dc_generator`` onto ``N``. Results: ``spike_steps`` per neuron (stamps / dt),
``vm_V_m`` per recorded neuron (voltmeter, interval dt, samples dt .. T - min_delay, the
sample at t = V_m after the update of step t/dt - 1) and ``V_m_end`` (V_m at T) per
neuron with a membrane. ``unconnected_spike_counts``: the same neurons without
connections (shows that the target's spikes are caused by its input). Resolution
``resolution_ms`` (0.1 ms unless a case says otherwise), one thread. See NOTES.md for
NEST's timing rules.
"""
import argparse
import json
import os

import nest
import numpy as np

DT = 0.1

# what to store per model: every parameter brainsim knows, plus initial state
KEYS = {
    "iaf_psc_alpha": ["C_m", "tau_m", "tau_syn_ex", "tau_syn_in", "t_ref", "E_L", "V_reset",
                      "V_th", "V_min", "I_e", "V_m"],
    "iaf_cond_exp": ["C_m", "g_L", "E_L", "E_ex", "E_in", "V_th", "V_reset", "t_ref",
                     "tau_syn_ex", "tau_syn_in", "I_e", "V_m", "g_ex", "g_in"],
    "iaf_cond_alpha": ["C_m", "g_L", "E_L", "E_ex", "E_in", "V_th", "V_reset", "t_ref",
                       "tau_syn_ex", "tau_syn_in", "I_e", "V_m", "g_ex", "g_in"],
    "aeif_cond_exp": ["C_m", "g_L", "E_L", "E_ex", "E_in", "V_th", "V_peak", "V_reset",
                      "t_ref", "Delta_T", "tau_w", "a", "b", "tau_syn_ex", "tau_syn_in",
                      "I_e", "gsl_error_tol", "V_m", "g_ex", "g_in", "w"],
    "izhikevich": ["a", "b", "c", "d", "V_th", "V_min", "I_e", "consistent_integration",
                   "V_m", "U_m"],
    "parrot_neuron": [],
    "iaf_psc_exp": ["C_m", "tau_m", "tau_syn_ex", "tau_syn_in", "t_ref", "E_L", "V_reset",
                    "V_th", "I_e", "V_m"],
    "iaf_psc_delta": ["C_m", "tau_m", "t_ref", "E_L", "V_reset", "V_th", "V_min", "I_e",
                      "refractory_input", "V_m"],
}

# Naud et al. (2008), Table 1, "regular bursting" (initial burst, then adapting spikes)
AEIF_BURSTING = dict(C_m=100.0, g_L=10.0, E_L=-58.0, V_th=-50.0, Delta_T=2.0, tau_w=120.0,
                     a=2.0, b=100.0, V_reset=-46.0, I_e=210.0, V_m=-58.0)


def reset(dt=DT):
    nest.ResetKernel()
    nest.set_verbosity("M_ERROR")
    nest.SetKernelStatus({"resolution": dt, "local_num_threads": 1, "rng_seed": 1,
                          "print_time": False})


def stored_params(node, model):
    st = node.get()
    out = {}
    for k in KEYS[model]:
        v = st[k]
        if isinstance(v, (bool, np.bool_)):
            out[k] = bool(v)
        else:
            v = float(v)
            out[k] = "-inf" if v < -1e300 else v      # V_min = -inf / -DBL_MAX
    return out


def run_case(neurons, connections, T, record_v=None, dc=None, dt=DT):
    """neurons: {name: (model, params)}; connections: [(src, tgt, weight, delay)];
    dt: the resolution (ms)."""
    def build(connect):
        reset(dt)
        nodes, recs, vms = {}, {}, {}
        for name, (model, p) in neurons.items():
            nodes[name] = nest.Create(model, params=p)
            recs[name] = nest.Create("spike_recorder")
            nest.Connect(nodes[name], recs[name])
        if connect:
            for name in (record_v or []):
                vms[name] = nest.Create("voltmeter", params={"interval": dt})
                nest.Connect(vms[name], nodes[name])
            for s, t, w, d in connections:
                nest.Connect(nodes[s], nodes[t], conn_spec={"rule": "one_to_one"},
                             syn_spec={"synapse_model": "static_synapse", "weight": w,
                                       "delay": d})
            if dc is not None:
                gen = nest.Create("dc_generator", params={
                    "amplitude": dc["amplitude"], "start": dc["start"], "stop": dc["stop"]})
                nest.Connect(gen, nodes["N"], syn_spec={"weight": 1.0, "delay": dc["delay"]})
        return nodes, recs, vms

    nodes, recs, vms = build(True)
    case = {"t_sim_ms": T, "resolution_ms": dt, "neurons": list(neurons),
            "models": {n: m for n, (m, _) in neurons.items()},
            "params": {n: stored_params(nodes[n], m) for n, (m, _) in neurons.items()},
            "connections": [{"source": s, "target": t, "weight": w, "delay": d}
                            for s, t, w, d in connections]}
    if dc is not None:
        case["dc_generator"] = dc
    nest.Simulate(T)
    case["spike_steps"] = {n: sorted(int(round(t / dt)) for t in r.events["times"])
                           for n, r in recs.items()}
    case["V_m_end"] = {n: float(nodes[n].get("V_m")) for n, (m, _) in neurons.items()
                       if m != "parrot_neuron"}
    case["vm_V_m"] = {}
    for n, vm in vms.items():
        t = np.asarray(vm.events["times"], float)
        v = np.asarray(vm.events["V_m"], float)[np.argsort(t, kind="stable")]
        case["vm_V_m"][n] = [float(x) for x in v]
    if connections:
        _, recs, _ = build(False)
        nest.Simulate(T)
        case["unconnected_spike_counts"] = {n: len(r.events["times"]) for n, r in recs.items()}
    return case


def three_neurons(model, a, b, c, w_ab, w_cb, T=1000.0, d_ab=1.5, d_cb=2.3):
    """A (driven by I_e) -> B (just below threshold) <- C (inhibitory)."""
    return run_case({"A": (model, a), "B": (model, b), "C": (model, c)},
                    [("A", "B", w_ab, d_ab), ("C", "B", w_cb, d_cb)], T, record_v=["B"])


def single(model, params, T=1000.0, dc=None, dt=DT):
    return run_case({"N": (model, params)}, [], T, record_v=["N"], dc=dc, dt=dt)


def refractory_times(model, t_refs, params, dt, T=200.0):
    """Unconnected neurons, one per t_ref (ms, not whole steps of dt): NEST rounds t_ref to
    tics, then up to whole steps (Time(Time::ms(t_ref)).get_steps())."""
    neurons = {f"R{k}": (model, {**params, "t_ref": t}) for k, t in enumerate(t_refs)}
    return run_case(neurons, [], T, record_v=list(neurons), dt=dt)


def cases():
    out = {}
    out["iaf_psc_alpha_Ie376"] = single("iaf_psc_alpha", {"I_e": 376.0})
    out["iaf_psc_alpha_tau_syn_eq_tau_m_Ie400"] = single(
        "iaf_psc_alpha", {"I_e": 400.0, "tau_syn_ex": 10.0, "tau_syn_in": 10.0, "V_m": -60.0})
    out["iaf_psc_alpha_network"] = three_neurons(
        "iaf_psc_alpha", {"I_e": 450.0}, {"I_e": 370.0, "tau_syn_ex": 0.5, "tau_syn_in": 1.0},
        {"I_e": 500.0, "V_m": -60.0}, 150.0, -80.0)
    out["iaf_cond_exp_Ie300"] = single("iaf_cond_exp", {"I_e": 300.0})
    out["iaf_cond_exp_dc"] = single("iaf_cond_exp", {}, dc={
        "amplitude": 400.0, "start": 50.0, "stop": 600.0, "delay": 1.0})
    out["iaf_cond_exp_network"] = three_neurons(
        "iaf_cond_exp", {"I_e": 400.0}, {"I_e": 249.0}, {"I_e": 350.0, "V_m": -60.0},
        60.0, -2.0)
    out["iaf_cond_alpha_Ie300"] = single("iaf_cond_alpha", {"I_e": 300.0})
    out["iaf_cond_alpha_network"] = three_neurons(
        "iaf_cond_alpha", {"I_e": 400.0}, {"I_e": 249.0}, {"I_e": 350.0, "V_m": -60.0},
        12.0, -1.0)
    out["aeif_cond_exp_Ie700"] = single("aeif_cond_exp", {"I_e": 700.0})
    out["aeif_cond_exp_bursting"] = single("aeif_cond_exp", dict(AEIF_BURSTING))
    out["aeif_cond_exp_tref2_Ie1000"] = single("aeif_cond_exp", {"I_e": 1000.0, "t_ref": 2.0})
    out["aeif_cond_exp_network"] = three_neurons(
        "aeif_cond_exp", {"I_e": 700.0}, {"I_e": 580.0, "t_ref": 2.0},
        {"I_e": 800.0, "V_m": -60.0}, 400.0, -5.0)
    out["izhikevich_Ie10"] = single("izhikevich", {"I_e": 10.0})
    out["izhikevich_euler2003_Ie10"] = single(
        "izhikevich", {"I_e": 10.0, "consistent_integration": False})
    out["izhikevich_network"] = three_neurons(
        "izhikevich", {"I_e": 10.0}, {"I_e": 3.0}, {"I_e": 14.0, "V_m": -70.0}, 6.0, -3.0)
    # t_ref off the grid: rounded up to whole steps (2.03 ms at dt 0.1: 21 steps)
    out["iaf_psc_exp_tref2.03_Ie1000"] = single(
        "iaf_psc_exp", {"I_e": 1000.0, "t_ref": 2.03}, T=100.0)
    out["iaf_psc_exp_tref0.15_Ie1000"] = single(
        "iaf_psc_exp", {"I_e": 1000.0, "t_ref": 0.15}, T=100.0)
    drive = {"I_e": 1000.0}
    for model, params in (("iaf_psc_exp", drive), ("iaf_psc_delta", drive),
                          ("iaf_psc_alpha", drive), ("iaf_cond_exp", drive),
                          ("iaf_cond_alpha", drive),
                          ("aeif_cond_exp", {"I_e": 2000.0, "a": 0.0, "b": 0.0})):
        out[f"{model}_tref_offgrid_dt0.2"] = refractory_times(
            model, (2.3, 4.1, 0.9, 0.15, 2.0005, 2.0004), params, dt=0.2)
    # the first RKF45 step of aeif_cond_exp is the resolution (NEST's init_buffers_)
    out["aeif_cond_exp_first_step_dt0.2"] = single(
        "aeif_cond_exp", {"I_e": 776.824}, T=200.0, dt=0.2)
    out["parrot_neuron_relay"] = run_case(
        {"A": ("iaf_psc_exp", {"I_e": 376.0}), "P": ("parrot_neuron", {}),
         "B": ("iaf_psc_exp", {"I_e": 370.0})},
        [("A", "P", 1.0, 1.0), ("A", "P", 1.0, 1.0), ("P", "B", 300.0, 2.0)], 1000.0,
        record_v=["B"])
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                   "nest_reference_models.json"))
    args = ap.parse_args()
    doc = {"nest_version": nest.__version__, "resolution_ms": DT, "cases": cases()}
    with open(args.out, "w") as handle:
        json.dump(doc, handle, indent=None, separators=(",", ":"))
        handle.write("\n")
    for name, case in doc["cases"].items():
        print(name, {n: len(s) for n, s in case["spike_steps"].items()},
              case.get("unconnected_spike_counts", ""))


if __name__ == "__main__":
    main()
