"""Command line: `brainsim COMMAND ...` (also `python -m brainsim COMMAND ...`).

    run       build and simulate a model, write OUTDIR/spikes.h5 (and checkpoints)
    resume    continue a run from its latest (or a named) checkpoint, on any number of ranks
    validate  check a model and run config, run nothing
    info      sizes, synapse counts, delays, memory per rank; or what a checkpoint holds
    analyse   statistics and figures of a finished run (brainsim.analysis.cli)
    submit    render a SLURM/PBS job script into OUTDIR and submit it (brainsim.scheduler.cli)
    status    where a submitted (chained) run stands
    models    list the shipped models and run configs

MODEL (run, validate, info, submit) is a YAML file or the name of a shipped model, --config
a YAML file or the name of a shipped run config (brainsim.shipped); a path that exists wins.

Errors in what the user gave (model, config, --set, output directory) print one line and
exit with status 2 on every rank, before anything is written. Any other failure on one
rank of an MPI run aborts all ranks, so a job never hangs in a collective.
"""
from __future__ import annotations

import argparse
import os
import sys

EXIT_USAGE = 2


def _add_model_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="model YAML file (e.g. models/brunel_2000.yaml) or "
                        "the name of a shipped model (brainsim models lists them)")
    parser.add_argument("--config", help="run configuration YAML merged over the model, or "
                        "the name of a shipped one (e.g. laptop)")
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
    run.add_argument("--force", action="store_true", help="run even when the estimated "
                     "memory per rank exceeds what the node has available")
    _add_checkpoint_arguments(run)
    resume = commands.add_parser("resume", help="continue a run from its latest (or a named) "
                                 "checkpoint, on any number of ranks")
    resume.add_argument("output", help="output directory of the run (holds checkpoints/)")
    resume.add_argument("--from", dest="checkpoint", help="checkpoint name (default: latest; "
                        "in place only the latest, elsewhere with --fork)")
    resume.add_argument("--fork", metavar="NEWDIR", help="continue in the new directory "
                        "NEWDIR (the checkpoint and its recordings are linked or copied "
                        "there), leaving OUTPUT as it is")
    resume.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="PATH=VALUE", help="e.g. --set simulation.t_sim=2000")
    resume.add_argument("--no-progress", action="store_true", help="no progress line")
    resume.add_argument("--force", action="store_true", help="as for run")
    _add_checkpoint_arguments(resume)
    validate = commands.add_parser("validate", help="check model and config, run nothing")
    _add_model_arguments(validate)
    info = commands.add_parser("info", help="sizes, synapse counts, delays, memory per rank; "
                               "or what a checkpoint holds")
    _add_model_arguments(info)
    info.add_argument("-n", "--ranks", type=int, help="number of MPI ranks (default: the "
                      "config's run: nodes x ranks_per_node, or ranks; else 1)")
    from brainsim.analysis.cli import add_parser as add_analyse_parser
    add_analyse_parser(commands)
    from brainsim.scheduler.cli import add_parsers as add_scheduler_parsers
    add_scheduler_parsers(commands)
    commands.add_parser("models", help="list the shipped models (run one by name) and the "
                        "shipped run configs (--config NAME)")
    return parser


def _add_checkpoint_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint-every", type=float, metavar="MS",
                        help="checkpoint every MS of biological time")
    parser.add_argument("--checkpoint-wall", type=float, metavar="MINUTES",
                        help="checkpoint every MINUTES of wall-clock time")
    parser.add_argument("--checkpoint-at-end", action="store_true",
                        help="checkpoint after the last step (to extend the run later)")
    parser.add_argument("--keep-checkpoints", type=int, metavar="K",
                        help="keep the newest K checkpoints (default 2)")


def checkpoint_policy(args, model):
    """Command line over the run config's `run.checkpoint` mapping (whose keys and values
    load_model has checked: brainsim.spec.run_settings)."""
    from brainsim.engine.checkpointing import CheckpointPolicy
    from brainsim.spec import SpecError
    from brainsim.spec.run_settings import positive_finite
    configured = (model.document.get("run") or {}).get("checkpoint") or {}
    every = positive_finite(args.checkpoint_every, "--checkpoint-every", "ms")
    wall = positive_finite(args.checkpoint_wall, "--checkpoint-wall", "minutes")
    if args.keep_checkpoints is not None and args.keep_checkpoints < 1:
        raise SpecError(f"--keep-checkpoints {args.keep_checkpoints}: expected at least 1")
    return CheckpointPolicy(
        every_ms=every if every is not None else configured.get("every"),
        wall_minutes=wall if wall is not None else configured.get("wall_minutes"),
        at_end=args.checkpoint_at_end or configured.get("at_end", False),
        keep=args.keep_checkpoints if args.keep_checkpoints is not None
        else configured.get("keep", 2))


def command_validate(args) -> int:
    from brainsim.shipped import resolve_arguments
    from brainsim.spec import load_model
    resolve_arguments(args)
    model = load_model(args.model, args.config, args.overrides)
    print(f"{args.model}: valid ({len(model.populations)} populations, "
          f"{model.num_neurons:,} neurons, {len(model.projections)} projections)")
    return 0


def command_info(args) -> int:
    import os
    from brainsim.network.estimate import delay_extent_steps, estimate_memory, expected_synapses
    from brainsim.scheduler.memory import config_memory_warning, configured_ranks
    from brainsim.spec import SpecError, load_model
    from brainsim.shipped import resolve_arguments
    if os.path.isdir(args.model):
        return info_checkpoint(args.model)
    resolve_arguments(args)
    model = load_model(args.model, args.config, args.overrides)
    if args.ranks is not None and args.ranks < 1:
        raise SpecError(f"-n {args.ranks}: expected a number of ranks >= 1")
    where = run_setting_source(args)
    nodes, ranks_per_node = configured_ranks(model.document.get("run"), where)
    num_ranks = args.ranks if args.ranks is not None else nodes * ranks_per_node
    warning = config_memory_warning(model, args.ranks, where)   # checks run: before output
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
    memory = estimate_memory(model, num_ranks)
    plastic = f", plastic state {memory.plastic_mib:,.1f}" if memory.plastic_mib else ""
    print(f"estimated peak memory per rank on {num_ranks} rank(s): {memory.total_mib:,.0f} MiB "
          f"(synapses {memory.synapse_mib:,.0f}{plastic}, neurons {memory.neuron_mib:,.0f}, "
          f"ring buffers {memory.ring_mib:,.0f}); total {memory.total_mib * num_ranks:,.0f} MiB")
    if warning:
        sys.stderr.write(f"brainsim: {warning}\n")
    return 0


def run_setting_source(args):
    """where(key): what set run.<key>, for messages: --set, else the config, else the model."""
    def where(key: str) -> str:
        for text in args.overrides:
            path = text.split("=", 1)[0].strip()
            if path == "run" or path == f"run.{key}" or path.startswith(f"run.{key}."):
                return "--set"
        return args.config or args.model
    return where


def info_checkpoint(path: str) -> int:
    from brainsim.resume import load_checkpoint
    manifest = load_checkpoint(path)
    size = sum(shard["bytes"] for shard in manifest["shards"])
    neurons = sum(manifest.get("population_sizes", {}).values())
    print(f"checkpoint {path}")
    print(f"model {manifest['model']}  hash {manifest['model_hash'][:12]}  "
          f"file {manifest['model_source']}")
    print(f"time {manifest['t_ms']:g} ms (step {manifest['step']})  seed {manifest['seed']}  "
          f"written by {manifest['ranks']} rank(s) with brainsim {manifest['brainsim_version']} "
          f"at {manifest['written_at']}")
    per_neuron = f", {size / neurons:.0f} bytes/neuron" if neurons else ""
    print(f"size {size / (1 << 20):.1f} MiB in {len(manifest['shards'])} shard(s){per_neuron}; "
          f"spikes recorded so far: {sum(manifest['spikes']['counts'].values()):,}")
    return 0


def print_rate_table(model, result) -> None:
    from brainsim.engine.spike_recorder import warmup_covers_run
    sim = model.simulation
    meta = result.metadata
    first_ms, stop_ms = meta["rate_window_ms"]
    print(f"\nmean firing rates over ({first_ms:g}, {stop_ms:g}] ms")
    if warmup_covers_run(sim):
        print(f"warm-up {sim.warmup:g} ms is not shorter than the run: rates cover the whole run")
    print(f"{'population':<12}{'neurons':>10}{'rate (Hz)':>12}")
    for pop in model.populations:
        print(f"{pop.name:<12}{pop.size:>10,}{result.rates_hz[pop.name]:>12.3f}")
    print(f"\nneurons {meta['num_neurons']:,}  synapses {meta['num_synapses']:,}  "
          f"ranks {meta['ranks']}  spikes {meta['total_spikes']:,}")
    print(f"build {result.build_s:.2f} s  simulate {result.simulate_s:.2f} s for "
          f"{meta['simulated_ms']:g} ms  real-time factor {result.real_time_factor:.2f}  "
          f"peak RSS/rank {max(meta['peak_rss_mib_per_rank']):.0f} MiB")
    kernels = meta.get("generated_kernels")
    if kernels:
        print(f"equation models {', '.join(kernels['models'])}: {kernels['compiled']} "
              f"kernel(s) compiled, {len(kernels['models']) - kernels['compiled']} from the "
              f"cache {kernels['cache']} ({kernels['seconds']:.2f} s before the build)")


def provenance(model, model_path: str, config_path: str | None, overrides: list[str]) -> dict:
    """What a checkpoint needs to rebuild the same network later."""
    import os
    return {"model": model.name, "model_hash": model.model_hash, "seed": model.simulation.seed,
            "model_source": os.path.abspath(model_path),
            "config_source": os.path.abspath(config_path) if config_path else None,
            "overrides": list(overrides), "document": model.document,
            "population_sizes": {p.name: p.size for p in model.populations}}


def command_run(args) -> int:
    import os
    from brainsim.shipped import resolve_arguments
    from brainsim.spec import load_model
    resolve_arguments(args)        # shipped model / config names -> their files
    model = load_model(args.model, args.config, args.overrides)
    policy = checkpoint_policy(args, model)
    output_dir = args.output or model.output_dir or os.path.join("output", model.name)
    return _simulate(model, output_dir, policy, args, resume=None,
                     provenance=provenance(model, args.model, args.config, args.overrides))


def command_resume(args) -> int:
    from brainsim.engine.run import Resume
    from brainsim.io.finish import pending_finish
    from brainsim.resume import (check_fork_target, check_in_place, check_rate_counts,
                                 check_same_recording, check_same_run, checkpoint_path,
                                 finish_pending_run, load_checkpoint, load_resumed_model)
    from brainsim.spec import SpecError
    if args.fork is None and pending_finish(args.output):
        return finish_pending_run(args)      # the simulation ended, writing its files not
    path = checkpoint_path(args.output, args.checkpoint)
    manifest = load_checkpoint(path)
    if args.fork is not None:
        check_fork_target(args.output, args.fork)
    else:
        check_same_run(args.output, manifest)
    model = load_resumed_model(manifest, args.overrides, path)
    if model.simulation.t_sim <= manifest["t_ms"] + 1e-9:
        raise SpecError(f"simulation.t_sim: {model.simulation.t_sim:g} ms; expected more than "
                        f"the checkpoint's {manifest['t_ms']:g} ms (extend it with --set "
                        "simulation.t_sim=...)")
    check_rate_counts(manifest, model)
    check_same_recording(manifest, model)
    if args.fork is None:
        check_in_place(args.output, path, manifest, model)
    policy = checkpoint_policy(args, model)
    keys = ("model", "model_hash", "run_id", "seed", "model_source", "config_source",
            "document", "population_sizes")
    origin = {key: manifest.get(key) for key in keys}
    origin["overrides"] = list(manifest.get("overrides", [])) + list(args.overrides)
    args.overwrite = False
    resume = Resume(path, manifest, fork_from=args.output if args.fork else None)
    return _simulate(model, args.fork or args.output, policy, args, resume=resume,
                     provenance=origin)


def _simulate(model, output_dir, policy, args, resume, provenance) -> int:
    import os
    from brainsim.engine.checkpointing import EXIT_CHECKPOINTED
    from brainsim.engine.comm import make_comm, rank_from_environment
    from brainsim.engine.run import run_model
    from brainsim.engine.guards import (abort_on_rank_local, agree_setup, check_memory,
                                        inject_test_fault)
    from brainsim.engine.signals import agree_no_stop_before_start, StoppedBeforeStart
    args.output_dir = output_dir        # for the advice of the exit path
    inject_test_fault("start", rank_from_environment())
    comm = make_comm()
    agree_setup(comm)     # first collective: meets any rank whose setup failed
    args.met_other_ranks = True
    try:
        check_memory(model, comm, force=getattr(args, "force", False))
        agree_no_stop_before_start(comm)
        result = run_model(model, comm, output_dir, overwrite=args.overwrite,
                           show_progress=not args.no_progress, policy=policy, resume=resume,
                           provenance=provenance)
    except StoppedBeforeStart as stopped:
        if comm.rank == 0:
            print(f"{stopped}; " + (f"continue with: brainsim resume {output_dir}" if resume
                                    else "run the same command again"))
        return EXIT_CHECKPOINTED
    except Exception as err:
        abort_on_rank_local(comm, err, output_dir)     # known to this rank only: end the job
        raise
    if not result.completed:
        if comm.rank == 0:
            print(f"stopped by a signal at {result.metadata['stopped_at_ms']:g} ms after "
                  f"checkpointing to {result.checkpoints[-1]}; continue with: brainsim resume "
                  f"{output_dir}")
        return EXIT_CHECKPOINTED
    if comm.rank == 0:
        print_rate_table(model, result)
        print(f"output: {os.path.join(output_dir, 'spikes.h5')}")
        for path in result.checkpoints[-1:]:
            print(f"checkpoint: {path}")
    return 0


def command_analyse(args) -> int:
    from brainsim.analysis.cli import run
    return run(args)


def command_models(args) -> int:
    from brainsim.shipped import catalogue
    print(catalogue())
    return 0


from brainsim.scheduler.cli import command_status, command_submit  # noqa: E402  (argparse only)

COMMANDS = {"run": command_run, "resume": command_resume, "validate": command_validate,
            "info": command_info, "analyse": command_analyse,
            "submit": command_submit, "status": command_status, "models": command_models}


def single_threaded_blas() -> None:
    """One process per core (one rank each): numpy's OpenBLAS threads, started at import,
    would only spin beside the ranks (a run does no linear algebra): 7-10 % of the CPU
    time of a PD14 run. Must run before numpy is imported; the user's setting wins."""
    for name in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    simulating = argv[:1] in (["run"], ["resume"])
    if simulating:
        # First of all: a time-limit warning (SIGUSR1), SIGTERM or Ctrl-C from now on is
        # kept and acted on (engine.signals), even while the model loads and MPI starts.
        from brainsim.engine.signals import signal_watch
        signal_watch().install(interrupt=True)
        single_threaded_blas()      # before the parser, which imports numpy (analyse's)
    from brainsim.engine.guards import exit_after_error, exit_after_interrupt
    from brainsim.engine.signals import Interrupted
    args = None
    try:
        args = make_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except (KeyboardInterrupt, Interrupted):
        return exit_after_interrupt(getattr(args, "output_dir", None), simulating)
    except Exception as err:
        met = not simulating or getattr(args, "met_other_ranks", False)
        return exit_after_error(err, met_other_ranks=met,
                                output_dir=getattr(args, "output_dir", None))


if __name__ == "__main__":
    sys.exit(main())
