#!/usr/bin/env python3
"""Generate ``tests/reference/nest_reference_equation_models.json`` from NEST 3.10 (the neuron
models brainsim implements as equation models: hh_psc_alpha, aeif_cond_alpha, aeif_psc_exp,
iaf_cond_beta, mat2_psc_exp, iaf_psc_exp_multisynapse).

brainsim's tests compare against the committed JSON and do NOT need NEST. To regenerate::

    /work/nestvenv/bin/python tests/reference/make_nest_reference_equation_models.py [--out PATH]

(venv: ``python3 -m venv /work/nestvenv && /work/nestvenv/bin/pip install
nest-simulator==3.10.0 numpy``).

The case format is that of ``make_nest_reference_models.py``: every case is a small explicit
network (a single neuron is a network of one, ``N``): ``neurons`` (names in creation order =
gid order), ``models`` and ``params`` per neuron (every model parameter and the initial state
NEST reports after creation; -inf as the string "-inf"; NEST's generic ``ignore_and_spike``,
``ignore_and_spike_offset``, ``ignore_and_spike_interval`` (False / 1.0 / 100.0 everywhere
here), ``t_spike``, ``n_synapses`` and ``has_connections`` are left out), ``connections``
(explicit one_to_one static_synapse, weight in the target's unit, delay in ms; connections
onto iaf_psc_exp_multisynapse carry ``receptor_type`` 1..n), optional ``dc_generator`` onto
``N``. Inputs: ``spike_generators`` {parrot name: {"spike_times", "weight", "delay"}}: one
spike_generator (on-grid spike times) per parrot_neuron ``S_ex`` / ``S_in``, connected with
that weight and delay (= dt), so the parrot spikes at spike_time + dt (its ``spike_steps``
are stored and are what a test should feed to ``N``). Results: ``spike_steps`` per neuron
(stamps / dt), ``vm_V_m`` per recorded neuron (voltmeter, interval dt, samples dt ..
T - min_delay, the sample at t = V_m after the update of step t/dt - 1), ``vm_<name>`` for
further recorded state (mat2_psc_exp ``V_th``, aeif ``w``), ``V_m_end`` (V_m at T).
``unconnected_spike_counts``: the same neurons without any connection or generator (shows
that N's spikes are caused by its input). ``note``: the NEST update rule (see NOTES.md,
"Equation-model references"). Resolution ``resolution_ms`` per case (0.1 ms unless the case
name ends in _dt0.05), one thread.
"""
import argparse
import json
import os

import nest
import numpy as np

DT = 0.1

# every model parameter and initial state NEST reports (nest.GetStatus) for the model
KEYS = {
    "hh_psc_alpha": ["C_m", "g_Na", "g_K", "g_L", "E_Na", "E_K", "E_L", "tau_syn_ex",
                     "tau_syn_in", "t_ref", "I_e", "V_m", "Act_m", "Inact_h", "Act_n"],
    "aeif_cond_alpha": ["C_m", "g_L", "E_L", "E_ex", "E_in", "V_th", "V_peak", "V_reset",
                        "t_ref", "Delta_T", "tau_w", "a", "b", "tau_syn_ex", "tau_syn_in",
                        "I_e", "gsl_error_tol", "V_m", "g_ex", "dg_ex", "g_in", "dg_in", "w"],
    "aeif_psc_exp": ["C_m", "g_L", "E_L", "V_th", "V_peak", "V_reset", "t_ref", "Delta_T",
                     "tau_w", "a", "b", "tau_syn_ex", "tau_syn_in", "I_e", "gsl_error_tol",
                     "V_m", "I_syn_ex", "I_syn_in", "w"],
    "iaf_cond_beta": ["C_m", "g_L", "E_L", "E_ex", "E_in", "V_th", "V_reset", "t_ref",
                      "tau_rise_ex", "tau_decay_ex", "tau_rise_in", "tau_decay_in", "I_e",
                      "V_m", "g_ex", "dg_ex", "g_in", "dg_in"],
    "mat2_psc_exp": ["C_m", "tau_m", "E_L", "tau_syn_ex", "tau_syn_in", "t_ref", "tau_1",
                     "tau_2", "alpha_1", "alpha_2", "omega", "I_e", "V_m", "V_th",
                     "V_th_alpha_1", "V_th_alpha_2"],
    "iaf_psc_exp_multisynapse": ["C_m", "tau_m", "E_L", "V_th", "V_reset", "t_ref", "tau_syn",
                                 "I_e", "V_m"],
    "parrot_neuron": [],
}

# further state recorded by the voltmeter (stored as vm_<name>)
EXTRA_RECORD = {"mat2_psc_exp": ["V_th"], "aeif_cond_alpha": ["w"], "aeif_psc_exp": ["w"]}

NOTES = {
    "hh_psc_alpha": (
        "models/hh_psc_alpha.cpp update(): per step, U_old = V_m; RKF45 (gsl_odeiv_step_rkf45, "
        "gsl_odeiv_control_y_new(eps_abs=1e-3, eps_rel=0), first step size = dt, carried "
        "over) over the whole step; then dI_ex += w_ex_sum * e/tau_syn_ex, dI_in += w_in_sum "
        "(negative) * e/tau_syn_in; then if r > 0: r -= 1, else if V_m >= 0 and U_old > V_m "
        "(threshold 0 mV and past the maximum): spike, r = t_ref steps (rounded up). No reset, "
        "no clamp; the refractory counter only blocks detection. Inhibitory current is "
        "negative and added: dV/dt = (-(I_Na+I_K+I_L) + I_stim + I_e + I_ex + I_in)/C_m. "
        "Initial V_m = -65 mV, m, h, n at their steady state alpha/(alpha+beta) at -65 mV."),
    "aeif_cond_alpha": (
        "models/aeif_cond_alpha.cpp: RKF45 with gsl_odeiv_control_yp_new(gsl_error_tol, "
        "gsl_error_tol); spike test inside the integration loop after each accepted RKF step: "
        "if r > 0: V_m = V_reset, elif V_m >= V_peak (V_th if Delta_T == 0): V_m = V_reset, "
        "w += b, r = t_ref_steps + 1 if t_ref_steps > 0 else 0, spike; after the loop r -= 1 if "
        "r > 0; then dg_ex += w_ex * e/tau_syn_ex, dg_in += |w_in| * e/tau_syn_in. RHS uses "
        "V = V_reset if r > 0 else min(V_m, V_peak), dV/dt = 0 while r > 0."),
    "aeif_psc_exp": (
        "models/aeif_psc_exp.cpp: as aeif_cond_alpha (RKF45, control_yp_new(gsl_error_tol, "
        "gsl_error_tol), in-loop spike/reset/w += b), but currents: I_syn_ex += w_ex, "
        "I_syn_in += |w_in| (stored positive), dV/dt has + I_syn_ex - I_syn_in."),
    "iaf_cond_beta": (
        "models/iaf_cond_beta.cpp: RKF45 with gsl_odeiv_control_y_new(1e-3, 0) over the step; "
        "then if r > 0: r -= 1, V_m = V_reset, elif V_m >= V_th: r = t_ref steps, "
        "V_m = V_reset, spike; then dg_ex += w_ex * norm(tau_rise_ex, tau_decay_ex), dg_in += "
        "|w_in| * norm(tau_rise_in, tau_decay_in) (libnestutil/beta_normalization_factor.h; "
        "e/tau_decay when tau_rise == tau_decay). RHS uses V = V_reset if r > 0 else "
        "min(V_m, V_th), dV/dt = 0 while r > 0."),
    "mat2_psc_exp": (
        "models/mat2_psc_exp.cpp (exact propagation, no ODE solver): V (rel. E_L) = "
        "V*P22_expm1 + V + i_ex*P21ex + i_in*P21in + (I_e + i_0)*P20; V_th_1 *= exp(-dt/tau_1); "
        "V_th_2 *= exp(-dt/tau_2); i_ex *= P11ex, i_in *= P11in; i_ex += w >= 0, i_in += w < 0 "
        "(negative); if r == 0: if V >= omega + V_th_1 + V_th_2: r = t_ref steps, "
        "V_th_1 += alpha_1, V_th_2 += alpha_2, spike; else r -= 1. NO V_m reset and no clamp: "
        "V_m keeps integrating through spikes and refractoriness; only the threshold jumps. "
        "Reported V_th = E_L + omega + V_th_alpha_1 + V_th_alpha_2; omega is stored rel. E_L. "
        "P11 = exp(-dt/tau_syn), P22_expm1 = expm1(-dt/tau_m), P21 = -tau_m/(C_m*(1 - tau_m/"
        "tau_syn))*P11*expm1(dt*(1/tau_syn - 1/tau_m)), P20 = -tau_m/C_m*P22_expm1 (libm "
        "expm1 here); t_ref must be >= 1 step."),
    "iaf_psc_exp_multisynapse": (
        "models/iaf_psc_exp_multisynapse.cpp: if r == 0: V = V*P22 + (I_e + I_const)*P20, then "
        "for each receptor i in order V += P21[i]*i_syn[i]; else r -= 1. Then per receptor "
        "i_syn[i] *= exp(-dt/tau_syn[i]), i_syn[i] += weights (signed, either sign) of "
        "receptor_type i+1. Then if V >= Theta: r = t_ref steps, V = V_reset, spike. "
        "I_const = dc of this step (used next step). P22 = exp(-dt/tau_m), P20 = tau_m/C_m*(1 - "
        "P22), P21[i] = IAFPropagatorExp (libnestutil/iaf_propagator.cpp): gamma*exp(-dt*(1/"
        "tau_s))*expm1(dt*inv_beta), beta = tau_s*tau_m/(tau_m - tau_s), gamma = beta/C_m, "
        "inv_beta = (tau_m - tau_s)/(tau_s*tau_m) (singular h/C_m*exp(-dt/tau_m) if not "
        "normal/positive); the 3.10.0 wheel has no HAVE_EXPM1, so this expm1 is "
        "numerics::expm1's Taylor series (libnestutil/numerics.h), e.g. 2 ulp below libm's "
        "for tau_s = 2 ms."),
}


def reset(dt=DT):
    nest.ResetKernel()
    nest.set_verbosity("M_ERROR")
    nest.SetKernelStatus({"resolution": dt, "local_num_threads": 1, "rng_seed": 1,
                          "print_time": False})


def _plain(v):
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (list, tuple, np.ndarray)):
        return [_plain(x) for x in v]
    v = float(v)
    return "-inf" if v < -1e300 else v      # V_min = -inf / -DBL_MAX


def stored_params(node, model):
    st = node.get()
    return {k: _plain(st[k]) for k in KEYS[model]}


def run_case(neurons, connections, T, record_v=None, dc=None, dt=DT, generators=None,
             note=None):
    """neurons: {name: (model, params)}; connections: [(src, tgt, weight, delay)] or
    [(src, tgt, weight, delay, receptor_type)]; generators: {parrot: spike_times};
    dt: the resolution (ms)."""
    generators = generators or {}

    def build(connect):
        reset(dt)
        nodes, recs, vms = {}, {}, {}
        for name, (model, p) in neurons.items():
            nodes[name] = nest.Create(model, params=p)
            recs[name] = nest.Create("spike_recorder")
            nest.Connect(nodes[name], recs[name])
        if connect:
            for name in (record_v or []):
                model = neurons[name][0]
                vms[name] = nest.Create("voltmeter", params={
                    "interval": dt, "record_from": ["V_m"] + EXTRA_RECORD.get(model, [])})
                nest.Connect(vms[name], nodes[name])
            for name, times in generators.items():
                gen = nest.Create("spike_generator", params={"spike_times": times})
                nest.Connect(gen, nodes[name], syn_spec={"weight": 1.0, "delay": dt})
            for c in connections:
                s, t, w, d = c[:4]
                syn = {"synapse_model": "static_synapse", "weight": w, "delay": d}
                if len(c) > 4:
                    syn["receptor_type"] = c[4]
                nest.Connect(nodes[s], nodes[t], conn_spec={"rule": "one_to_one"},
                             syn_spec=syn)
            if dc is not None:
                gen = nest.Create("dc_generator", params={
                    "amplitude": dc["amplitude"], "start": dc["start"], "stop": dc["stop"]})
                nest.Connect(gen, nodes["N"], syn_spec={"weight": 1.0, "delay": dc["delay"]})
        return nodes, recs, vms

    nodes, recs, vms = build(True)
    conns = []
    for c in connections:
        entry = {"source": c[0], "target": c[1], "weight": c[2], "delay": c[3]}
        if len(c) > 4:
            entry["receptor_type"] = c[4]
        conns.append(entry)
    case = {"t_sim_ms": T, "resolution_ms": dt, "neurons": list(neurons),
            "models": {n: m for n, (m, _) in neurons.items()},
            "params": {n: stored_params(nodes[n], m) for n, (m, _) in neurons.items()},
            "connections": conns}
    if generators:
        case["spike_generators"] = {n: {"spike_times": list(ts), "weight": 1.0, "delay": dt}
                                    for n, ts in generators.items()}
    if dc is not None:
        case["dc_generator"] = dc
    if note:
        case["note"] = note
    nest.Simulate(T)
    case["spike_steps"] = {n: sorted(int(round(t / dt)) for t in r.events["times"])
                           for n, r in recs.items()}
    case["V_m_end"] = {n: float(nodes[n].get("V_m")) for n, (m, _) in neurons.items()
                       if m != "parrot_neuron"}
    case["vm_V_m"] = {}
    for n, vm in vms.items():
        ev = vm.events
        order = np.argsort(np.asarray(ev["times"], float), kind="stable")
        for rec in ["V_m"] + EXTRA_RECORD.get(neurons[n][0], []):
            case.setdefault(f"vm_{rec}", {})[n] = [
                float(x) for x in np.asarray(ev[rec], float)[order]]
    if connections or generators or dc is not None:
        _, recs, _ = build(False)
        nest.Simulate(T)
        case["unconnected_spike_counts"] = {n: len(r.events["times"]) for n, r in recs.items()}
    return case


def single(model, params, T=300.0, dc=None, dt=DT, note=None):
    return run_case({"N": (model, params)}, [], T, record_v=["N"], dc=dc, dt=dt,
                    note=note or NOTES[model])


# input spike trains (ms, on the 0.05 and 0.1 ms grids); the parrots re-emit them dt later.
# Coincidences (parrot times + delay): S_ex 50.0 via 2.0 ms, S_ex 51.0 via 1.0 ms and S_in
# 51.0 via 1.0 ms all reach N in the same step (52.1 ms); S_ex 230.0 (1.0 ms) and S_in 229.5
# (1.5 ms) too (231.1 ms).
EX_TIMES = [20.0, 20.5, 21.0, 50.0, 51.0, 52.3, 80.0, 80.1, 80.2, 80.3, 110.0, 140.0,
            140.4, 141.0, 170.0, 200.0, 200.2, 200.4, 230.0, 230.1, 260.0, 260.3]
IN_TIMES = [35.0, 51.0, 95.0, 140.5, 185.0, 229.5, 245.0]


def inputs_case(model, params, w_ex, w_in, dt=DT, T=300.0):
    """S_ex (excitatory, weights w_ex and w_ex/2) and S_in (inhibitory, w_in < 0 and w_in/2)
    parrots onto N, several delays."""
    neurons = {"S_ex": ("parrot_neuron", {}), "S_in": ("parrot_neuron", {}),
               "N": (model, params)}
    conns = [("S_ex", "N", w_ex, 1.0), ("S_ex", "N", 0.5 * w_ex, 2.0),
             ("S_in", "N", w_in, 1.5), ("S_in", "N", 0.5 * w_in, 1.0)]
    return run_case(neurons, conns, T, record_v=["N"], dt=dt,
                    generators={"S_ex": EX_TIMES, "S_in": IN_TIMES}, note=NOTES[model])


def multisynapse_inputs_case(dt=DT, T=300.0):
    params = {"I_e": 350.0, "tau_syn": [2.0, 5.0, 0.5]}
    neurons = {"S_ex": ("parrot_neuron", {}), "S_in": ("parrot_neuron", {}),
               "N": ("iaf_psc_exp_multisynapse", params)}
    conns = [("S_ex", "N", 300.0, 1.0, 1), ("S_ex", "N", 120.0, 2.0, 2),
             ("S_ex", "N", 800.0, 1.0, 3),
             ("S_in", "N", -250.0, 1.5, 1), ("S_in", "N", -100.0, 1.0, 2),
             ("S_in", "N", -600.0, 1.0, 3)]
    return run_case(neurons, conns, T, record_v=["N"], dt=dt,
                    generators={"S_ex": EX_TIMES, "S_in": IN_TIMES},
                    note=NOTES["iaf_psc_exp_multisynapse"])


def cases():
    out = {}
    # hh_psc_alpha
    out["hh_psc_alpha_Ie"] = single("hh_psc_alpha", {"I_e": 800.0})
    out["hh_psc_alpha_inputs"] = inputs_case("hh_psc_alpha", {"I_e": 100.0}, 700.0, -400.0)
    # aeif_cond_alpha
    out["aeif_cond_alpha_Ie"] = single("aeif_cond_alpha", {"I_e": 1000.0})
    out["aeif_cond_alpha_tref2_Ie"] = single("aeif_cond_alpha", {"I_e": 1000.0, "t_ref": 2.0})
    out["aeif_cond_alpha_inputs"] = inputs_case("aeif_cond_alpha", {"I_e": 500.0}, 40.0, -8.0)
    out["aeif_cond_alpha_inputs_dt0.05"] = inputs_case(
        "aeif_cond_alpha", {"I_e": 500.0}, 40.0, -8.0, dt=0.05)
    # aeif_psc_exp
    out["aeif_psc_exp_Ie"] = single("aeif_psc_exp", {"I_e": 1000.0})
    out["aeif_psc_exp_tref2_Ie"] = single("aeif_psc_exp", {"I_e": 1000.0, "t_ref": 2.0})
    out["aeif_psc_exp_inputs"] = inputs_case("aeif_psc_exp", {"I_e": 500.0}, 5000.0, -800.0)
    out["aeif_psc_exp_inputs_dt0.05"] = inputs_case(
        "aeif_psc_exp", {"I_e": 500.0}, 5000.0, -800.0, dt=0.05)
    # iaf_cond_beta
    out["iaf_cond_beta_Ie"] = single("iaf_cond_beta", {"I_e": 300.0})
    out["iaf_cond_beta_inputs"] = inputs_case("iaf_cond_beta", {"I_e": 240.0}, 12.0, -3.0)
    out["iaf_cond_beta_inputs_dt0.05"] = inputs_case(
        "iaf_cond_beta", {"I_e": 240.0}, 12.0, -3.0, dt=0.05)
    out["iaf_cond_beta_rise_decay_inputs"] = inputs_case(
        "iaf_cond_beta", {"I_e": 240.0, "tau_rise_ex": 0.5, "tau_decay_ex": 3.0,
                          "tau_rise_in": 1.0, "tau_decay_in": 6.0}, 3.0, -1.0)
    # mat2_psc_exp
    out["mat2_psc_exp_Ie"] = single("mat2_psc_exp", {"I_e": 500.0})
    out["mat2_psc_exp_inputs"] = inputs_case("mat2_psc_exp", {"I_e": 300.0}, 400.0, -300.0)
    out["mat2_psc_exp_adaptation_dc"] = single(
        "mat2_psc_exp", {}, dc={"amplitude": 2000.0, "start": 20.0, "stop": 250.0,
                                "delay": 1.0})
    # iaf_psc_exp_multisynapse
    out["iaf_psc_exp_multisynapse_Ie"] = single(
        "iaf_psc_exp_multisynapse", {"I_e": 400.0, "tau_syn": [2.0, 5.0, 0.5]})
    out["iaf_psc_exp_multisynapse_inputs"] = multisynapse_inputs_case()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                   "nest_reference_equation_models.json"))
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
