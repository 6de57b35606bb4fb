"""A whole run on every rank: check output, build, simulate, write results, report.

config -> build -> simulate -> write, each a function; the output carries its provenance
(model hash, seed, ranks, dt, phase wall times, real-time factor, peak memory per rank).
A resumed run is the same path with the state of a checkpoint put back before simulating.
"""
from __future__ import annotations

import os
import resource
import socket
import time
from dataclasses import dataclass

import numpy as np

import brainsim
from brainsim.engine.checkpointing import Checkpointer, CheckpointPolicy, kill_for_test
from brainsim.engine.guards import FiniteStateGuard, inject_test_fault, storage_failure
from brainsim.engine.progress import Progress
from brainsim.engine.simulation import Engine
from brainsim.engine.spike_recorder import SpikeRecorder, rate_window_steps
from brainsim.io.checkpoint import CheckpointError
from brainsim.io.files import (OutputError, check_output_dir, check_output_target,
                               clear_partial_results, prepare_output_dir,
                               set_aside_previous_results, write_json_atomic)
from brainsim.network.build import build_local_network
from brainsim.network.neurons import load_generated_kernels
from brainsim.network.inputs import ms_to_steps
from brainsim.network.partition import make_partition
from brainsim.spec.model import ResolvedModel


@dataclass
class RunResult:
    """What rank 0 reports at the end (other ranks get empty fields)."""
    rates_hz: dict[str, float]
    build_s: float
    simulate_s: float
    real_time_factor: float
    metadata: dict
    completed: bool = True
    checkpoints: tuple[str, ...] = ()


@dataclass(frozen=True)
class Resume:
    """The checkpoint a run continues from: its directory and manifest; fork_from: the
    run's directory when continuing it in a new one (`resume --fork`), else None."""
    path: str
    manifest: dict
    fork_from: str | None = None


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (MiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def current_rss_mib() -> float:
    """Resident memory of this process now (MiB), from /proc; 0 where unavailable."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
    except OSError:
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / (1 << 20)


def step_to_ms_converter(dt: float):
    """Exact decimal stamps when 1/dt is a whole number (59.3, not 59.300000000000004)."""
    steps_per_ms = 1.0 / dt
    if abs(steps_per_ms - round(steps_per_ms)) < 1e-9:
        steps_per_ms = float(round(steps_per_ms))
        return lambda steps: np.asarray(steps, dtype=np.float64) / steps_per_ms
    return lambda steps: np.asarray(steps, dtype=np.float64) * dt


def agree_on_output(comm, output_dir: str, overwrite: bool, resume: Resume | None):
    """Rank 0 checks, creates and locks the output directory (and, for a resume, checks the
    recordings up to the checkpoint, or forks it); every rank raises the same error.

    Returns (the lock, held by rank 0 until the run ends, else None; the Resume to use)."""
    message, locks, path = None, [], resume.path if resume else None
    if comm.rank == 0:
        try:
            locks, path = _claim_output(output_dir, overwrite, resume)
        except (OutputError, CheckpointError) as err:
            message = str(err)
            for lock in locks:
                lock.release()
            locks = []
    message, path = comm.bcast((message, path))
    if message is not None:
        raise OutputError(message, agreed=True)
    if resume is not None and path != resume.path:
        resume = Resume(path, resume.manifest, resume.fork_from)
    return locks, resume


def _claim_output(output_dir: str, overwrite: bool, resume: Resume | None):
    """Rank 0: see agree_on_output; returns (locks held, the checkpoint's path to use)."""
    from brainsim.io.lock import lock_output_dir
    check_output_target(output_dir)
    if resume is None or resume.fork_from:
        try:
            check_output_dir(output_dir, overwrite and resume is None)
        except OutputError:
            _refuse_if_locked(output_dir)      # a run in progress there: name it instead
            raise
    prepare_output_dir(output_dir)
    locks = [lock_output_dir(output_dir, "resume" if resume else "run")]
    try:
        if resume is None:
            check_output_dir(output_dir, overwrite)      # again, now that it is ours
            if overwrite:
                set_aside_previous_results(output_dir)
            else:
                clear_partial_results(output_dir)
            return locks, None
        return locks, _claim_checkpoint(output_dir, resume, locks)
    except BaseException:
        for lock in locks:
            lock.release()
        raise


def _refuse_if_locked(output_dir: str) -> None:
    """Raise the lock's refusal (naming the holder) when another run holds output_dir."""
    from brainsim.io.lock import LOCK_NAME, lock_output_dir
    if os.path.exists(os.path.join(output_dir, LOCK_NAME)):
        lock_output_dir(output_dir, "check").release()


def _claim_checkpoint(output_dir: str, resume: Resume, locks: list) -> str:
    """Rank 0, output locked: the checkpoint is still the one read before (nothing changed
    it meanwhile) and its recordings are intact; for a fork, copy it over first (the run's
    own directory stays locked too while the fork runs)."""
    from brainsim.io.checkpoint import read_manifest
    from brainsim.io.lock import lock_output_dir
    from brainsim.resume import fork_checkpoint, verify_recordings
    results_dir = output_dir
    if resume.fork_from:
        results_dir = resume.fork_from
        locks.append(lock_output_dir(resume.fork_from, f"resume --fork {output_dir}"))
        clear_partial_results(output_dir)
    if read_manifest(resume.path) != resume.manifest:
        raise CheckpointError(f"{resume.path}: changed while the resume started; try again")
    path = resume.path
    if resume.fork_from:
        path = fork_checkpoint(resume.fork_from, output_dir, resume.path, resume.manifest)
    verify_recordings(resume.manifest, output_dir, results_dir)
    return path


def _spike_recording(model: ResolvedModel, output_dir: str, resume: Resume | None):
    """Rank 0's recorder writing into spike segments, positioned at the start step."""
    # Only the writing rank imports HDF5 (it costs each process ~13 MiB).
    from brainsim.io.spike_segments import SpikeSegments
    sim = model.simulation
    names = [p.name for p in model.populations]
    segments = SpikeSegments(output_dir, names)
    offsets = np.array([p.offset for p in model.populations] + [model.num_neurons])
    recorder = SpikeRecorder(segments, offsets, names, set(model.recording.spikes),
                             step_to_ms_converter(sim.dt), rate_window_steps(sim),
                             capacity=model.recording.flush_every_spikes)
    first_step = 0
    if resume is not None:
        spikes = resume.manifest["spikes"]
        first_step = resume.manifest["step"]
        segments.resume(os.path.join(resume.fork_from or output_dir, "spikes.h5"),
                        spikes["segments"], spikes["counts"], first_step)
        recorder.restore(resume.manifest["recorder"], first_step)
    segments.start(first_step)
    return recorder, segments


def _report_recording(model: ResolvedModel, network, comm, output_dir: str,
                      resume: Resume | None):
    """The state sampler (every rank) and, on rank 0, one report segment chain per variable."""
    from brainsim.engine.state_recorder import StateSampler
    activity = None
    if model.recording.activity_bin or model.recording.mean_V_m_interval:
        from brainsim.engine.population_activity import PopulationActivity
        activity = PopulationActivity(model, network, comm)
    if not model.recording.state and activity is None:
        return None, None
    sampler = StateSampler(model, network, comm, activity)
    if comm.rank != 0:
        return sampler, None
    from brainsim.io.report_segments import ReportSegments, report_file_name
    writers = {}
    for variable, layout in sampler.layouts(model.simulation.dt).items():
        chain = ReportSegments(output_dir, variable, layout)
        first_step = 0
        if resume is not None:
            saved = resume.manifest["reports"][variable]     # same recording: checked
            first_step = resume.manifest["step"]
            chain.resume(os.path.join(resume.fork_from or output_dir,
                                      report_file_name(variable)),
                         saved["segments"], saved["counts"], first_step)
        chain.start(first_step)
        writers[variable] = chain
    return sampler, writers


def _restore(engine: Engine, resume: Resume, partition, rank: int) -> None:
    from brainsim.io.checkpoint import read_local_state
    size = partition.num_ranks
    local = read_local_state(resume.path, resume.manifest,
                             owns=lambda gids: gids % size == rank)
    engine.restore(resume.manifest["step"], partition.local_index(local["gids"]).astype(np.int64),
                   local["state"], local["pending_input"])
    if engine.network.plastic:
        from brainsim.io.checkpoint import read_plastic
        plastic = read_plastic(resume.path, resume.manifest,
                               owns=lambda gids: gids % size == rank)
        engine.restore_plastic(plastic, lambda gids: partition.local_index(gids))


def run_model(model: ResolvedModel, comm, output_dir: str, overwrite: bool = False,
              show_progress: bool = True, policy: CheckpointPolicy | None = None,
              resume: Resume | None = None, provenance: dict | None = None) -> RunResult:
    """Check and lock output_dir, build, simulate, write the results (see module doc)."""
    import uuid
    from brainsim.resume import recording_signature, what_next
    # run_id: one per run, kept by its resumes and forks; checkpoints, segments' merged
    # files and run.json carry it, so that nothing of another run is spliced in.
    provenance = {"run_id": uuid.uuid4().hex, **(provenance or {}),
                  "recording": recording_signature(model)}
    locks = []
    # before the output directory is touched: a kernel that does not compile leaves nothing
    kernels = load_generated_kernels(model.neuron_models.values(), comm,
                                     (model.document.get("run") or {}).get("kernel_cache"),
                                     announce=show_progress)
    if kernels is not None:
        provenance["generated_kernels"] = kernels
    try:
        locks, resume = agree_on_output(comm, output_dir, overwrite, resume)
        return _run_locked(model, comm, output_dir, show_progress, policy, resume, provenance)
    except Exception as err:
        if storage_failure(err) is not None:
            err.brainsim_advice = what_next(output_dir)    # read by guards.describe
        raise
    finally:
        for lock in locks:
            lock.release()


def _run_locked(model: ResolvedModel, comm, output_dir: str, show_progress: bool,
                policy: CheckpointPolicy | None, resume: Resume | None,
                provenance: dict) -> RunResult:
    sim = model.simulation
    stop_step = ms_to_steps(sim.t_sim, sim.dt)
    policy = policy or CheckpointPolicy()

    rss_before_build_mib = current_rss_mib()
    comm.barrier()
    started = time.perf_counter()
    partition = make_partition(model, comm.size)
    inject_test_fault("build", comm.rank)
    kill_for_test("build", comm.rank)
    network = build_local_network(model, partition, comm.rank)
    recorder = segments = progress = None
    if comm.rank == 0:
        recorder, segments = _spike_recording(model, output_dir, resume)
    sampler, report_writers = _report_recording(model, network, comm, output_dir, resume)
    engine = Engine(network, comm, sim.seed, sim.dt, recorder=recorder, sampler=sampler,
                    report_writers=report_writers)
    activity = sampler.population_activity if sampler is not None else None
    if activity is not None and comm.rank == 0:
        recorder.activity = activity
        if resume is not None and resume.manifest.get("population_activity"):
            activity.restore(os.path.join(resume.path, resume.manifest["population_activity"]))
    if resume is not None:
        _restore(engine, resume, partition, comm.rank)
    if comm.rank == 0 and show_progress:
        progress = Progress(stop_step, sim.dt, first_step=engine.step)
        engine.progress = progress
    checkpointer = Checkpointer(policy, output_dir, comm, engine, recorder, segments,
                                provenance)
    comm.barrier()
    build_s = time.perf_counter() - started

    started = time.perf_counter()
    first_step = engine.step
    guard = FiniteStateGuard(checkpointer, engine, model)
    with checkpointer.signals_polled():     # Ctrl-C: every rank stops in one epoch
        completed = engine.run_until(stop_step, control=guard)
    fault = guard.agree()     # collective: NaN/inf in any rank's state, or None
    if completed and fault is None:
        checkpointer.at_end(engine.step)
    engine.flush_reports()
    comm.barrier()
    simulate_s = time.perf_counter() - started
    if progress is not None:
        progress.finish()

    per_rank = comm.gather({
        "rank": comm.rank, "host": socket.gethostname(), "num_neurons": network.num_local,
        "num_synapses": network.synapses.num_synapses
        + sum(p.num_synapses for p in network.plastic),
        "synapse_bytes": network.synapses.nbytes + sum(
            sum(a.nbytes for a in (p.row_ptr, p.target, p.weight, p.delay_steps))
            for p in network.plastic),
        "peak_rss_mib": peak_rss_mib(),
        "rss_before_build_mib": rss_before_build_mib,
        "build_s": network.build_seconds, "phase_s": engine.timings})
    if comm.rank != 0:
        if fault is not None:
            raise fault
        return RunResult({}, build_s, simulate_s, 0.0, {}, completed,
                         tuple(checkpointer.written))
    recorder.flush()
    simulated_ms = (engine.step - first_step) * sim.dt
    metadata = _metadata(model, comm, engine, recorder, per_rank, build_s, simulate_s,
                         simulated_ms, resume, completed)
    metadata["checkpoints"] = [{"path": path, "write_s": seconds} for path, seconds
                               in zip(checkpointer.written, checkpointer.write_seconds)]
    metadata["run_id"] = provenance["run_id"]
    if "generated_kernels" in provenance:
        metadata["generated_kernels"] = provenance["generated_kernels"]
    chains = [segments] + list((report_writers or {}).values())
    for chain in chains:
        chain.close_current(engine.step)
    metadata["numerical_fault"] = str(fault) if fault is not None else None
    if completed or fault is not None:     # a numerical fault keeps what was recorded
        from brainsim.io.finish import finish, stage
        record = stage(output_dir, metadata, _file_attributes(metadata), segments,
                       report_writers or {}, activity)
        finish(output_dir, record, on_step=lambda where: kill_for_test(where, 0))
    else:
        write_json_atomic(os.path.join(output_dir, "run_interrupted.json"), metadata)
    if fault is not None:
        raise fault
    return RunResult(metadata["rates_hz"], build_s, simulate_s, metadata["real_time_factor"],
                     metadata, completed, tuple(checkpointer.written))


def _metadata(model, comm, engine, recorder, per_rank, build_s, simulate_s, simulated_ms,
              resume, completed) -> dict:
    sim = model.simulation
    window_ms = [float(t) for t in step_to_ms_converter(sim.dt)(recorder.rate_window_steps)]
    window_s = (window_ms[1] - window_ms[0]) * 1e-3
    rates = {p.name: float(recorder.counts_in_window[p.index]) / (p.size * window_s)
             for p in model.populations}
    return {
        "brainsim_version": brainsim.__version__, "model": model.name,
        "model_file": model.source, "model_hash": model.model_hash, "seed": sim.seed,
        "ranks": comm.size, "dt_ms": sim.dt, "t_sim_ms": sim.t_sim, "warmup_ms": sim.warmup,
        "rate_window_ms": window_ms,
        "scale": model.scale, "indegree_scale": model.indegree_scale,
        "num_neurons": model.num_neurons,
        "population_sizes": {p.name: p.size for p in model.populations},
        "recorded_populations": [p.name for p in model.populations
                                 if p.name in model.recording.spikes],
        "num_synapses": int(sum(r["num_synapses"] for r in per_rank)),
        "min_delay_ms": engine.min_delay_steps * sim.dt,
        "max_delay_ms": engine.max_delay_steps * sim.dt,
        "build_s": build_s, "simulate_s": simulate_s, "simulated_ms": simulated_ms,
        "real_time_factor": simulate_s / (simulated_ms * 1e-3) if simulated_ms else 0.0,
        "completed": completed, "stopped_at_ms": engine.step * sim.dt,
        "resumed_from": resume.path if resume else None,
        "resumed_from_ranks": resume.manifest["ranks"] if resume else None,
        "total_spikes": int(recorder.total_spikes), "rates_hz": rates,
        "peak_rss_mib_per_rank": [r["peak_rss_mib"] for r in per_rank],
        "per_rank": per_rank,
    }


def _file_attributes(metadata: dict) -> dict:
    keys = ("brainsim_version", "model", "model_hash", "run_id", "seed", "ranks", "dt_ms",
            "t_sim_ms", "build_s", "simulate_s", "real_time_factor", "num_neurons", "num_synapses",
            "peak_rss_mib_per_rank")
    return {key: metadata[key] for key in keys}
