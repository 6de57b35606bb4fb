#!/usr/bin/env python3
"""brainsim vs NEST, side by side in the same run: PD14 (--model pd14) or Brunel 2000.

    python benchmarks/run_benchmarks.py --model pd14 --scale 0.1 --ranks 2 --repeats 2 \
        [--nest-python /path/to/venv-with-nest/bin/python] [--results benchmarks/RESULTS.md]

brainsim runs under `mpiexec -n RANKS`; NEST (when an interpreter with `import nest` is
found: --nest-python, else this one) runs with RANKS OpenMP threads, the same model, dt,
seed and warm-up. Runs alternate A/B to share the machine's noise. Prints a table of phase
wall times, real-time factor (wall / biological time), peak RSS per rank and in total,
synapses, bytes per synapse and synaptic events per second, and the brainsim/NEST ratios.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
MODELS = {"pd14": "models/potjans_diesmann_2014.yaml", "brunel": "models/brunel_2000.yaml",
          "hpc": "models/hpc_benchmark.yaml"}
NEST_SCRIPTS = {"pd14": "nest_side/pd14_nest.py", "brunel": "nest_side/brunel_nest.py",
                "hpc": "nest_side/hpc_benchmark_nest.py"}
SCALED = ("pd14", "hpc")


def mpiexec() -> str:
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    return beside if os.path.exists(beside) else "mpiexec"


def run_brainsim(args, outdir: str) -> dict:
    """One brainsim run; returns its run.json with derived figures added."""
    overrides = ["--set", f"simulation.t_sim={args.t_presim + args.t_sim}",
                 "--set", f"simulation.warmup={args.t_presim}",
                 "--set", f"simulation.seed={args.seed}"]
    if args.model in SCALED:
        overrides += ["--set", f"scale={args.scale}"]
    command = [mpiexec(), "-n", str(args.ranks), sys.executable, "-m", "brainsim", "run",
               os.path.join(REPO, MODELS[args.model]), "-o", outdir, "--overwrite",
               "--no-progress", *overrides]
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    if done.returncode != 0:
        sys.exit(f"brainsim failed:\n{done.stderr}")
    with open(os.path.join(outdir, "run.json")) as handle:
        meta = json.load(handle)
    per_rank = meta["per_rank"]
    bio_s = (args.t_presim + args.t_sim) * 1e-3
    construction = [r["peak_rss_mib"] - r["rss_before_build_mib"] for r in per_rank]
    return {
        "build_s": meta["build_s"], "rtf": meta["simulate_s"] / bio_s,
        "peak_rss_mib": [r["peak_rss_mib"] for r in per_rank],
        "synapses": meta["num_synapses"], "spikes": meta["total_spikes"],
        "storage_bytes_per_synapse": sum(r["synapse_bytes"] for r in per_rank) / max(1, meta["num_synapses"]),
        "peak_growth_bytes_per_synapse": sum(construction) * (1 << 20) / max(1, meta["num_synapses"]),
        "rates_hz": meta["rates_hz"], "phase_s": per_rank[0]["phase_s"], "bio_s": bio_s,
        "num_neurons": meta["num_neurons"], "population_sizes": meta["population_sizes"],
    }


def find_nest_python(args) -> str | None:
    for candidate in filter(None, [args.nest_python, sys.executable]):
        probe = subprocess.run([candidate, "-c", "import nest"], capture_output=True)
        if probe.returncode == 0:
            return candidate
    return None


def run_nest(args, python: str) -> dict:
    command = [python, os.path.join(HERE, NEST_SCRIPTS[args.model]), "--threads",
               str(args.ranks), "--t-sim", str(args.t_sim), "--seed", str(args.seed)]
    if args.model in SCALED:
        command += ["--scale", str(args.scale), "--t-presim", str(args.t_presim)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    if done.returncode != 0:
        sys.exit(f"NEST failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    sim_s = result["simulate_s"] + result.get("presim_s", 0.0)
    bio_s = (result["t_sim_ms"] + result.get("t_presim_ms", 0.0)) * 1e-3
    return {"build_s": result["build_s"], "rtf": sim_s / bio_s,
            "peak_rss_mib": [result["peak_rss_mib"]], "synapses": result["num_synapses"],
            "spikes": result.get("total_spikes", 0), "rates_hz": result["rates_hz"],
            "bio_s": bio_s, "num_neurons": result["num_neurons"]}


def summarise(samples: list[dict]) -> dict:
    """Median over repeats of each figure."""
    first = samples[0]
    return {**first,
            "build_s": statistics.median(s["build_s"] for s in samples),
            "rtf": statistics.median(s["rtf"] for s in samples),
            "peak_rss_mib": [statistics.median(s["peak_rss_mib"][i] for s in samples)
                             for i in range(len(first["peak_rss_mib"]))]}


def table(brainsim: dict, nest: dict | None, args) -> str:
    rows = [("build (s)", "build_s", "{:.2f}"), ("real-time factor", "rtf", "{:.2f}")]
    lines = [f"| figure | brainsim ({args.ranks} ranks) | NEST ({args.ranks} threads) | ratio |",
             "|---|---|---|---|"]

    def cell(result, key, fmt):
        return fmt.format(result[key]) if result else "—"

    for label, key, fmt in rows:
        ratio = f"{brainsim[key] / nest[key]:.2f}" if nest else "—"
        lines.append(f"| {label} | {cell(brainsim, key, fmt)} | {cell(nest, key, fmt)} | {ratio} |")
    total_b = sum(brainsim["peak_rss_mib"])
    total_n = sum(nest["peak_rss_mib"]) if nest else None
    per_rank = " + ".join(f"{m:.0f}" for m in brainsim["peak_rss_mib"])
    lines.append(f"| peak RSS (MiB) | {per_rank} = {total_b:.0f} | "
                 f"{total_n:.0f} | {total_b / total_n:.2f} |" if nest else
                 f"| peak RSS (MiB) | {per_rank} = {total_b:.0f} | — | — |")
    lines.append(f"| synapses | {brainsim['synapses']:,} | "
                 f"{nest['synapses']:,} | |" if nest else f"| synapses | {brainsim['synapses']:,} | — | |")
    b_per_syn = total_b * (1 << 20) / brainsim["synapses"]
    n_per_syn = total_n * (1 << 20) / nest["synapses"] if nest else None
    lines.append(f"| peak RSS / synapse (B) | {b_per_syn:.1f} | "
                 + (f"{n_per_syn:.1f} | {b_per_syn / n_per_syn:.2f} |" if nest else "— | — |"))
    lines.append(f"| synapse storage (B/synapse) | {brainsim['storage_bytes_per_synapse']:.1f} | — | |")
    lines.append(f"| peak growth during build+run (B/synapse) | "
                 f"{brainsim['peak_growth_bytes_per_synapse']:.1f} | — | |")
    sizes = brainsim["population_sizes"]
    events = [synaptic_events_per_wall_second(r, sizes) if r else None for r in (brainsim, nest)]
    lines.append(f"| synaptic events / wall s | {events[0]:.3g} | "
                 + (f"{events[1]:.3g} | {events[0] / events[1]:.2f} |" if nest else "— | — |"))
    return "\n".join(lines)


def synaptic_events_per_wall_second(result: dict, sizes: dict) -> float:
    """Spikes per biological second (measured rates x population sizes) x mean out-degree
    (synapses / neurons), divided by the real-time factor."""
    spikes_per_bio_s = sum(result["rates_hz"][name] * size for name, size in sizes.items())
    return spikes_per_bio_s * result["synapses"] / result["num_neurons"] / result["rtf"]


def machine_line() -> str:
    model = platform.processor() or "unknown CPU"
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in lscpu.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores"


def commit() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True, cwd=REPO)
    return done.stdout.strip() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(MODELS), default="pd14")
    parser.add_argument("--scale", type=float, default=0.1, help="PD14 scale (N and K)")
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--t-presim", type=float, default=500.0, help="warm-up (ms)")
    parser.add_argument("--t-sim", type=float, default=1000.0, help="measured time (ms)")
    parser.add_argument("--seed", type=int, default=55)
    parser.add_argument("--nest-python", help="interpreter that can `import nest`")
    parser.add_argument("--no-nest", action="store_true")
    parser.add_argument("--results", help="append the table to this markdown file")
    args = parser.parse_args()
    if args.model == "brunel":
        args.t_presim = 0.0

    nest_python = None if args.no_nest else find_nest_python(args)
    brainsim_runs, nest_runs = [], []
    with tempfile.TemporaryDirectory() as scratch:
        for repeat in range(args.repeats):
            brainsim_runs.append(run_brainsim(args, os.path.join(scratch, f"run{repeat}")))
            if nest_python:
                nest_runs.append(run_nest(args, nest_python))
    brainsim = summarise(brainsim_runs)
    nest = summarise(nest_runs) if nest_runs else None
    scale = f" scale {args.scale:g}" if args.model in SCALED else ""
    heading = (f"### {args.model}{scale}, {args.ranks} ranks/threads, "
               f"{args.t_presim:g} + {args.t_sim:g} ms, seed {args.seed}, "
               f"median of {args.repeats}\n"
               f"{datetime.date.today()} · {machine_line()} · commit {commit()}"
               + ("" if nest else " · NEST not installed: brainsim only"))
    report = heading + "\n\n" + table(brainsim, nest, args) + "\n"
    phases = ", ".join(f"{k} {v:.2f}" for k, v in brainsim["phase_s"].items())
    report += f"\nbrainsim simulate phases (rank 0, first run, s): {phases}\n"
    rates = " ".join(f"{k} {v:.2f}" for k, v in brainsim["rates_hz"].items())
    report += f"brainsim rates (Hz): {rates}\n"
    if nest:
        report += "NEST rates (Hz): " + " ".join(f"{k} {v:.2f}" for k, v in nest["rates_hz"].items()) + "\n"
    print(report)
    if args.results:
        with open(args.results, "a") as handle:
            handle.write("\n" + report)


if __name__ == "__main__":
    main()
