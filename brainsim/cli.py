"""Command line: brainsim run | validate | info.

Errors in what the user gave (model, config, --set, output directory) print one line and
exit with status 2 on every rank, before anything is written. Any other failure on one
rank of an MPI run aborts all ranks, so a job never hangs in a collective.
"""
from __future__ import annotations

import argparse
import sys
import traceback

EXIT_USAGE = 2


def _add_model_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="model YAML file (e.g. models/potjans_diesmann_2014.yaml)")
    parser.add_argument("--config", help="run configuration YAML merged over the model")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="PATH=VALUE",
                        help="override one value, e.g. --set simulation.t_sim=500 --set scale=0.1")


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="brainsim", description=(
        "Simulate spiking neural networks with NEST semantics, serially or under mpiexec."))
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="build and simulate a model, write OUTDIR/spikes.h5")
    _add_model_arguments(run)
    run.add_argument("-o", "--output", help="output directory (default: the model's "
                     "output.directory, else output/<model name>)")
    run.add_argument("--overwrite", action="store_true",
                     help="replace results already in the output directory")
    run.add_argument("--no-progress", action="store_true", help="no progress line")
    validate = commands.add_parser("validate", help="check model and config, run nothing")
    _add_model_arguments(validate)
    info = commands.add_parser("info", help="sizes, synapse counts, delays, memory per rank")
    _add_model_arguments(info)
    info.add_argument("-n", "--ranks", type=int, default=1, help="number of MPI ranks")
    return parser


def command_validate(args) -> int:
    from brainsim.spec import load_model
    model = load_model(args.model, args.config, args.overrides)
    print(f"{args.model}: valid ({len(model.populations)} populations, "
          f"{model.num_neurons:,} neurons, {len(model.projections)} projections)")
    return 0


def command_info(args) -> int:
    from brainsim.network.estimate import delay_extent_steps, estimate_memory, expected_synapses
    from brainsim.spec import SpecError, load_model
    model = load_model(args.model, args.config, args.overrides)
    if args.ranks < 1:
        raise SpecError(f"-n {args.ranks}: expected a number of ranks >= 1")
    dt = model.simulation.dt
    incoming = [0.0] * len(model.populations)
    for proj in model.projections:
        incoming[proj.target] += expected_synapses(model, proj)
    print(f"model {model.name}  ({model.source})  scale {model.scale:g}  "
          f"indegree scale {model.indegree_scale:g}  hash {model.model_hash[:12]}")
    print(f"{'population':<12}{'model':<16}{'neurons':>10}{'in-synapses':>14}{'in-degree':>11}")
    for pop in model.populations:
        print(f"{pop.name:<12}{pop.model:<16}{pop.size:>10,}{incoming[pop.index]:>14,.0f}"
              f"{incoming[pop.index] / pop.size:>11.1f}")
    total = sum(incoming)
    print(f"{'total':<28}{model.num_neurons:>10,}{total:>14,.0f}")
    lo, hi = delay_extent_steps(model)
    if hi:
        print(f"delays: min {lo * dt:g} ms ({lo} steps), max ~{hi * dt:g} ms ({hi} steps)")
    memory = estimate_memory(model, args.ranks)
    print(f"estimated peak memory per rank on {args.ranks} rank(s): {memory.total_mib:,.0f} MiB "
          f"(synapses {memory.synapse_mib:,.0f}, neurons {memory.neuron_mib:,.0f}, "
          f"ring buffers {memory.ring_mib:,.0f}); total {memory.total_mib * args.ranks:,.0f} MiB")
    return 0


def print_rate_table(model, result) -> None:
    sim = model.simulation
    print(f"\nmean firing rates over ({sim.warmup:g}, {sim.t_sim:g}] ms")
    print(f"{'population':<12}{'neurons':>10}{'rate (Hz)':>12}")
    for pop in model.populations:
        print(f"{pop.name:<12}{pop.size:>10,}{result.rates_hz[pop.name]:>12.3f}")
    meta = result.metadata
    print(f"\nneurons {meta['num_neurons']:,}  synapses {meta['num_synapses']:,}  "
          f"ranks {meta['ranks']}  spikes {meta['total_spikes']:,}")
    print(f"build {result.build_s:.2f} s  simulate {result.simulate_s:.2f} s for "
          f"{sim.t_sim:g} ms  real-time factor {result.real_time_factor:.2f}  "
          f"peak RSS/rank {max(meta['peak_rss_mib_per_rank']):.0f} MiB")


def command_run(args) -> int:
    import os
    from brainsim.engine.comm import make_comm
    from brainsim.engine.run import run_model
    from brainsim.spec import load_model
    model = load_model(args.model, args.config, args.overrides)
    output_dir = args.output or model.output_dir or os.path.join("output", model.name)
    comm = make_comm()
    try:
        result = run_model(model, comm, output_dir, overwrite=args.overwrite,
                           show_progress=not args.no_progress)
    except Exception as err:
        if comm.size > 1 and not _is_user_error(err):
            sys.stderr.write(f"brainsim: rank {comm.rank} failed:\n{traceback.format_exc()}")
            sys.stderr.flush()
            comm.abort(1)
        raise
    if comm.rank == 0:
        print_rate_table(model, result)
        print(f"output: {os.path.join(output_dir, 'spikes.h5')}")
    return 0


def _is_user_error(err: Exception) -> bool:
    from brainsim.io.files import OutputError
    from brainsim.spec import SpecError
    return isinstance(err, (SpecError, OutputError))


COMMANDS = {"run": command_run, "validate": command_validate, "info": command_info}


def main(argv: list[str] | None = None) -> int:
    from brainsim.engine.comm import rank_from_environment
    args = make_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except Exception as err:
        if not _is_user_error(err):
            raise
        if rank_from_environment() == 0:
            sys.stderr.write(f"brainsim: error: {err}\n")
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
