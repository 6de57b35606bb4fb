#!/usr/bin/env python3
"""NEST's hpc_benchmark network in NEST 3.10 (NEST side of benchmarks/run_benchmarks.py;
our own script from the parameters in models/hpc_benchmark.yaml).

    python benchmarks/nest_side/hpc_benchmark_nest.py --scale 1.0 --threads 2 --t-presim 50 --t-sim 250

9000*scale E + 2250*scale I iaf_psc_alpha, in-degrees 9000 / 2250 (all scales), weights from a
0.14 mV PSP, g = -5, Poisson drive eta = 1.685, stdp_pl_synapse_hom between E neurons,
V_m(0) ~ Normal(5.7, 7.2). Prints ONE JSON line at the end (take the last line).
"""
import argparse
import json
import math
import resource
import sys
import time

TAU_M, C_M, V_TH, TAU_SYN = 10.0, 250.0, 20.0, 0.32582722403722841
JE, G, ETA, DELAY = 0.14, -5.0, 1.685, 1.5


def psc_per_psp_alpha(c_m, tau_m, tau_syn):
    """pA of alpha-PSC amplitude per mV of peak PSP (peak found by bisection on dV/dt)."""
    a, b = 1.0 / tau_syn, 1.0 / tau_m

    def v(t):  # PSP of a unit alpha current (pA) peaking at tau_syn
        return (math.e / (c_m * tau_syn)) * (
            (math.exp(-t * b) - math.exp(-t * a)) / (a - b) ** 2
            - t * math.exp(-t * a) / (a - b))

    lo, hi = 1e-6, 10 * tau_m
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if v(mid + 1e-9) > v(mid):
            lo = mid
        else:
            hi = mid
    return 1.0 / v(0.5 * (lo + hi))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--t-presim", type=float, default=50.0)
    ap.add_argument("--t-sim", type=float, default=250.0)
    ap.add_argument("--seed", type=int, default=55)
    ap.add_argument("--static", action="store_true", help="static E->E synapses (no STDP)")
    args = ap.parse_args()
    import nest
    nest.ResetKernel()
    nest.set_verbosity("M_ERROR")
    nest.SetKernelStatus({"resolution": 0.1, "local_num_threads": args.threads,
                          "rng_seed": args.seed})
    n_e, n_i = int(round(9000 * args.scale)), int(round(2250 * args.scale))
    ce, ci = 9000, 2250
    je_pa = JE * psc_per_psp_alpha(C_M, TAU_M, TAU_SYN)
    nu_thresh = V_TH / (ce * TAU_M / C_M * je_pa * math.e * TAU_SYN)
    params = {"E_L": 0.0, "C_m": C_M, "tau_m": TAU_M, "t_ref": 0.5, "V_th": V_TH,
              "V_reset": 0.0, "tau_syn_ex": TAU_SYN, "tau_syn_in": TAU_SYN, "tau_minus": 30.0}
    t0 = time.perf_counter()
    e = nest.Create("iaf_psc_alpha", n_e, params=params)
    i = nest.Create("iaf_psc_alpha", n_i, params=params)
    (e + i).V_m = nest.random.normal(5.7, 7.2)
    noise = nest.Create("poisson_generator", params={"rate": ETA * nu_thresh * ce * 1000.0})
    nest.SetDefaults("stdp_pl_synapse_hom", {"alpha": 0.0513, "lambda": 0.1, "mu": 0.4,
                                             "tau_plus": 15.0})
    conn = {"rule": "fixed_indegree", "allow_autapses": False, "allow_multapses": True}
    nest.Connect(noise, e + i, "all_to_all", {"weight": je_pa, "delay": DELAY})
    nest.Connect(e, e, dict(conn, indegree=ce),
                 {"synapse_model": "static_synapse" if args.static else "stdp_pl_synapse_hom",
                  "weight": je_pa, "delay": DELAY})
    nest.Connect(i, e, dict(conn, indegree=ci), {"weight": G * je_pa, "delay": DELAY})
    nest.Connect(e, i, dict(conn, indegree=ce), {"weight": je_pa, "delay": DELAY})
    nest.Connect(i, i, dict(conn, indegree=ci), {"weight": G * je_pa, "delay": DELAY})
    recorders = {name: nest.Create("spike_recorder", params={"start": args.t_presim})
                 for name in ("E", "I")}
    nest.Connect(e, recorders["E"])
    nest.Connect(i, recorders["I"])
    nest.Prepare()
    build_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    nest.Run(args.t_presim)
    presim_s = time.perf_counter() - t1
    t2 = time.perf_counter()
    nest.Run(args.t_sim)
    simulate_s = time.perf_counter() - t2
    nest.Cleanup()
    sizes = {"E": n_e, "I": n_i}
    rates = {k: recorders[k].n_events / sizes[k] / (args.t_sim / 1000.0) for k in sizes}
    print(json.dumps({"tool": "nest", "nest_version": nest.__version__, "model": "hpc_benchmark",
                      "scale": args.scale, "threads": args.threads, "build_s": build_s,
                      "presim_s": presim_s, "simulate_s": simulate_s,
                      "t_presim_ms": args.t_presim, "t_sim_ms": args.t_sim,
                      "num_synapses": int(nest.num_connections), "num_neurons": n_e + n_i,
                      "rates_hz": rates, "je_pA": je_pa,
                      "total_spikes": int(sum(r.n_events for r in recorders.values())),
                      "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
