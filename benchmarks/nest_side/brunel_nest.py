#!/usr/bin/env python3
"""Brunel (2000) sparse random network, asynchronous-irregular regime, in NEST 3.10
(NEST side of the benchmark; brainsim's own script built from the parameters in
models/brunel_2000.yaml).  Requires ``pip install nest-simulator`` (3.10.0).

    python benchmarks/nest_side/brunel_nest.py --threads 2 --t-sim 1000

Model: N_E = 10000, N_I = 2500 iaf_psc_delta (tau_m 20 ms, C_m 1 pF, V_th 20 mV, V_reset 10 mV
(--v-reset; NEST's brunel_delta_nest example and the 31.9 Hz in nest_baseline.md use 0 mV),
E_L 0, t_ref 2 ms, V_m(0) = 0); fixed_indegree C_E = 1000 excitatory inputs of J (--J, default
0.2 mV as models/brunel_2000.yaml; NEST's example uses 0.1) and
C_I = 250 inhibitory inputs of -g J (g = 5), all with delay D = 1.5 ms; external Poisson drive
eta = 2: rate = eta * nu_th * C_E with nu_th = V_th / (J C_E tau_m), one poisson_generator
connected all_to_all (independent trains per target) with weight J, delay D.
All neurons are recorded.  Prints ONE JSON line on stdout at the end (take the last line).
build_s = Create + Connect + Prepare; simulate_s = Run(t_sim); rate over [0, t_sim].
"""
import argparse
import json
import resource
import sys
import time

N_E, N_I = 10000, 2500
C_E, C_I = 1000, 250
G, ETA, D = 5.0, 2.0, 1.5
NEURON = dict(tau_m=20.0, C_m=1.0, V_th=20.0, V_reset=10.0, E_L=0.0, t_ref=2.0, V_m=0.0)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--t-sim", type=float, default=1000.0)
    ap.add_argument("--seed", type=int, default=55)
    ap.add_argument("--v-reset", type=float, default=NEURON["V_reset"],
                    help="reset potential in mV (default 10 as in Brunel 2000; NEST's own "
                         "brunel_delta_nest example uses 0, which gives ~31.9 Hz instead of ~37 Hz)")
    ap.add_argument("--J", type=float, default=0.2, help="excitatory weight in mV")
    args = ap.parse_args()
    neuron = dict(NEURON, V_reset=args.v_reset)
    J = args.J

    import nest
    nest.ResetKernel()
    nest.set_verbosity("M_WARNING")
    nest.SetKernelStatus({"resolution": 0.1, "local_num_threads": args.threads,
                          "rng_seed": args.seed, "print_time": False})

    nu_th = NEURON["V_th"] / (J * C_E * NEURON["tau_m"])   # 1/ms
    p_rate = 1000.0 * ETA * nu_th * C_E                      # Hz (= 20 kHz)

    t0 = time.perf_counter()
    exc = nest.Create("iaf_psc_delta", N_E, params=neuron)
    inh = nest.Create("iaf_psc_delta", N_I, params=neuron)
    noise = nest.Create("poisson_generator", params={"rate": p_rate})
    rec = nest.Create("spike_recorder")
    alln = exc + inh
    nest.Connect(exc, alln, conn_spec={"rule": "fixed_indegree", "indegree": C_E},
                 syn_spec={"synapse_model": "static_synapse", "weight": J, "delay": D})
    nest.Connect(inh, alln, conn_spec={"rule": "fixed_indegree", "indegree": C_I},
                 syn_spec={"synapse_model": "static_synapse", "weight": -G * J, "delay": D})
    nest.Connect(noise, alln, conn_spec="all_to_all", syn_spec={"weight": J, "delay": D})
    nest.Connect(alln, rec)
    nest.Prepare()
    build_s = time.perf_counter() - t0

    t1 = time.perf_counter()
    nest.Run(args.t_sim)
    simulate_s = time.perf_counter() - t1
    nest.Cleanup()

    senders = rec.events["senders"]
    n_all = N_E + N_I
    total = int(len(senders))
    n_exc_spikes = int((senders <= exc[-1].global_id).sum())
    tsec = args.t_sim / 1000.0
    out = {"tool": "nest", "nest_version": nest.__version__, "model": "brunel2000",
           "scale": 1.0, "threads": args.threads, "seed": args.seed,
           "build_s": round(build_s, 3), "simulate_s": round(simulate_s, 3), "t_sim_ms": args.t_sim,
           "num_synapses": int(nest.num_connections),
           "num_recurrent_synapses": n_all * (C_E + C_I), "num_neurons": n_all,
           "rates_hz": {"E": round(n_exc_spikes / N_E / tsec, 4),
                        "I": round((total - n_exc_spikes) / N_I / tsec, 4),
                        "all": round(total / n_all / tsec, 4)},
           "total_spikes": total, "poisson_rate_hz": p_rate, "v_reset_mV": args.v_reset,
           "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)}
    sys.stdout.flush()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
