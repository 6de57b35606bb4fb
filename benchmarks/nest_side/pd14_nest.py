#!/usr/bin/env python3
"""Potjans & Diesmann (2014) cortical microcircuit in NEST 3.10 (NEST side of the benchmark).

Built from the model definition in docs/reference/pd14_model.md (numbers only; this
is brainsim's own script, not NEST's example code).  Requires ``pip install nest-simulator``
(tested with the 3.10.0 wheel) and numpy.

    python benchmarks/nest_side/pd14_nest.py --scale 0.1 --threads 2
    python benchmarks/nest_side/pd14_nest.py --scale 1.0 --threads 2   # ~15 GiB RAM

Model: 8 populations of iaf_psc_exp, N and K scaled together by --scale, fixed_total_number
per projection (autapses/multapses allowed), weights Normal(mean, 10 %) and delays
Normal(mean, 50 %) redrawn into bounds (nest.math.redraw), weights/sqrt(K) plus DC
compensation when scale < 1, one Poisson generator per population (all_to_all,
8 Hz x K_ext), V_m(0) ~ Normal per population.  Excitatory and inhibitory recurrent
synapses use two copies of static_synapse so that full scale fits NEST's limit of 2^27-2
connections per synapse model and virtual process on 2 threads (same network otherwise).

Prints ONE JSON line on stdout at the end (NEST's own messages go to stdout earlier; take
the last line).  Times: build_s = Create + Connect + Prepare; presim_s = warm-up;
simulate_s = the measured t_sim.  Rates: spikes in (t_presim, t_presim + t_sim] / N / t_sim.
"""
import argparse
import json
import resource
import sys
import time

import numpy as np

POPS = ["L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I"]
N_FULL = np.array([20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948])
# conn_probs[target][source]
CONN_PROBS = np.array([
    [0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0.0, 0.0076, 0.0],
    [0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0.0, 0.0042, 0.0],
    [0.0077, 0.0059, 0.0497, 0.135, 0.0067, 0.0003, 0.0453, 0.0],
    [0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0.0, 0.1057, 0.0],
    [0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0.0],
    [0.0548, 0.0269, 0.0257, 0.0022, 0.06, 0.3158, 0.0086, 0.0],
    [0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252],
    [0.0364, 0.001, 0.0034, 0.0005, 0.0277, 0.008, 0.0658, 0.1443]])
K_EXT = np.array([1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100])
BG_RATE = 8.0  # Hz per external synapse
FULL_MEAN_RATES = np.array([0.903, 2.965, 4.414, 5.876, 7.569, 8.633, 1.105, 7.829])
V0_MEAN = [-68.28, -63.16, -63.33, -63.45, -63.11, -61.66, -66.72, -61.43]
V0_SD = [5.36, 4.57, 4.74, 4.94, 4.94, 4.55, 5.46, 4.48]
NEURON = dict(E_L=-65.0, V_th=-50.0, V_reset=-65.0, t_ref=2.0, tau_syn_ex=0.5, tau_syn_in=0.5,
              C_m=250.0, tau_m=10.0)
PSP_EXC = 0.15      # mV
G = -4.0
DELAY_EXC, DELAY_INH, DELAY_POISSON = 1.5, 0.75, 1.5
WEIGHT_REL_SD, DELAY_REL_SD = 0.1, 0.5
RESOLUTION = 0.1


def psc_over_psp(tau_m, tau_syn, c_m):
    """Amplitude (pA) of an exponential PSC giving a 1 mV peak PSP."""
    sub = 1.0 / (tau_syn - tau_m)
    pre = tau_m * tau_syn / c_m * sub
    frac = (tau_m / tau_syn) ** sub
    return 1.0 / (pre * (frac ** tau_m - frac ** tau_syn))


def derive(scale):
    n_scaling = k_scaling = scale
    n = np.round(N_FULL * n_scaling).astype(int)          # round half to even
    prod = np.outer(N_FULL, N_FULL).astype(float)
    k_full = np.log(1.0 - CONN_PROBS) / np.log(1.0 - 1.0 / prod)   # [target][source]
    n_syn = np.round(k_full * n_scaling * k_scaling).astype(int)
    conv = psc_over_psp(NEURON["tau_m"], NEURON["tau_syn_ex"], NEURON["C_m"])
    psp = np.tile([PSP_EXC, G * PSP_EXC] * 4, (8, 1))
    psp[0, 2] = 2 * PSP_EXC                                # L4E -> L23E doubled
    w_full = psp * conv
    w_ext_full = PSP_EXC * conv
    k_ext = np.round(K_EXT * k_scaling)
    dc = np.zeros(8)
    w, w_ext = w_full.copy(), w_ext_full
    if k_scaling != 1.0:
        w = w_full / np.sqrt(k_scaling)
        w_ext = w_ext_full / np.sqrt(k_scaling)
        indeg_full = k_full / N_FULL[:, None]
        dc = 0.001 * NEURON["tau_syn_ex"] * (1.0 - np.sqrt(k_scaling)) * (
            (w_full * indeg_full * FULL_MEAN_RATES[None, :]).sum(axis=1)
            + w_ext_full * K_EXT * BG_RATE)
    delays = np.tile([DELAY_EXC, DELAY_INH] * 4, (8, 1))
    return dict(n=n, n_syn=n_syn, w=w, w_ext=w_ext, dc=dc, k_ext=k_ext, delays=delays)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=0.1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--t-presim", type=float, default=500.0)
    ap.add_argument("--t-sim", type=float, default=1000.0)
    ap.add_argument("--seed", type=int, default=55)
    args = ap.parse_args()

    import nest
    nest.ResetKernel()
    nest.set_verbosity("M_WARNING")
    nest.SetKernelStatus({"resolution": RESOLUTION, "local_num_threads": args.threads,
                          "rng_seed": args.seed, "print_time": False})
    p = derive(args.scale)

    t0 = time.perf_counter()
    pops = []
    for i in range(8):
        pop = nest.Create("iaf_psc_exp", int(p["n"][i]))
        pop.set(dict(NEURON, I_e=float(p["dc"][i])))
        pop.set(V_m=nest.random.normal(mean=V0_MEAN[i], std=V0_SD[i]))
        pops.append(pop)
    recorders = [nest.Create("spike_recorder", params={"start": args.t_presim,
                                                       "stop": args.t_presim + args.t_sim})
                 for _ in range(8)]
    generators = [nest.Create("poisson_generator", params={"rate": BG_RATE * float(p["k_ext"][i])})
                  for i in range(8)]
    nest.CopyModel("static_synapse", "static_exc")
    nest.CopyModel("static_synapse", "static_inh")

    n_recurrent = 0
    for i in range(8):            # target
        for j in range(8):        # source
            mean_w = float(p["w"][i, j])
            mean_d = float(p["delays"][i, j])
            exc = mean_w >= 0
            weight = nest.math.redraw(nest.random.normal(mean=mean_w, std=abs(mean_w) * WEIGHT_REL_SD),
                                      min=0.0 if exc else -np.inf, max=np.inf if exc else 0.0)
            delay = nest.math.redraw(nest.random.normal(mean=mean_d, std=mean_d * DELAY_REL_SD),
                                     min=RESOLUTION - 0.5 * RESOLUTION, max=np.inf)
            nest.Connect(pops[j], pops[i],
                         conn_spec={"rule": "fixed_total_number", "N": int(p["n_syn"][i, j])},
                         syn_spec={"synapse_model": "static_exc" if exc else "static_inh",
                                   "weight": weight, "delay": delay})
            n_recurrent += int(p["n_syn"][i, j])
    for i in range(8):
        nest.Connect(pops[i], recorders[i])
        nest.Connect(generators[i], pops[i], conn_spec="all_to_all",
                     syn_spec={"weight": float(p["w_ext"]), "delay": DELAY_POISSON})
    nest.Prepare()
    build_s = time.perf_counter() - t0

    t1 = time.perf_counter()
    nest.Run(args.t_presim)
    presim_s = time.perf_counter() - t1
    t2 = time.perf_counter()
    nest.Run(args.t_sim)
    simulate_s = time.perf_counter() - t2
    nest.Cleanup()

    rates, total = {}, 0
    for i, name in enumerate(POPS):
        cnt = int(recorders[i].n_events)
        total += cnt
        rates[name] = round(cnt / float(p["n"][i]) / (args.t_sim / 1000.0), 4)
    out = {"tool": "nest", "nest_version": nest.__version__, "model": "pd14",
           "scale": args.scale, "threads": args.threads, "seed": args.seed,
           "build_s": round(build_s, 3), "presim_s": round(presim_s, 3),
           "simulate_s": round(simulate_s, 3), "t_presim_ms": args.t_presim, "t_sim_ms": args.t_sim,
           "num_synapses": int(nest.num_connections), "num_recurrent_synapses": n_recurrent,
           "num_neurons": int(p["n"].sum()), "rates_hz": rates, "total_spikes": total,
           "dc_pA": [round(float(x), 6) for x in p["dc"]],
           "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)}
    sys.stdout.flush()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
