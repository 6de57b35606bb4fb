"""A whole run on every rank: check output, build, simulate, write results, report.

config -> build -> simulate -> write, each a function; the output carries its provenance
(model hash, seed, ranks, dt, phase wall times, real-time factor, peak memory per rank).
"""
from __future__ import annotations

import os
import resource
import socket
import time
from dataclasses import dataclass

import numpy as np

import brainsim
from brainsim.engine.progress import Progress
from brainsim.engine.simulation import Engine
from brainsim.engine.spike_recorder import SpikeRecorder
from brainsim.io.files import (OutputError, check_output_dir, partial_name,
                               prepare_output_dir, write_json_atomic)
from brainsim.network.build import build_local_network
from brainsim.network.inputs import ms_to_steps
from brainsim.network.partition import make_partition
from brainsim.spec.model import ResolvedModel


@dataclass
class RunResult:
    """What rank 0 reports at the end (other ranks get None fields where noted)."""
    rates_hz: dict[str, float]
    build_s: float
    simulate_s: float
    real_time_factor: float
    metadata: dict


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


def agree_on_output(comm, output_dir: str, overwrite: bool) -> None:
    """Rank 0 checks and creates the output directory; every rank raises the same error."""
    message = None
    if comm.rank == 0:
        try:
            check_output_dir(output_dir, overwrite)
            prepare_output_dir(output_dir)
        except OutputError as err:
            message = str(err)
    message = comm.bcast(message)
    if message is not None:
        raise OutputError(message)


def run_model(model: ResolvedModel, comm, output_dir: str, overwrite: bool = False,
              show_progress: bool = True) -> RunResult:
    agree_on_output(comm, output_dir, overwrite)
    sim = model.simulation
    stop_step = ms_to_steps(sim.t_sim, sim.dt)

    rss_before_build_mib = current_rss_mib()
    comm.barrier()
    started = time.perf_counter()
    partition = make_partition(model, comm.size)
    network = build_local_network(model, partition, comm.rank)
    spikes_path = os.path.join(output_dir, "spikes.h5")
    writer, recorder, progress = None, None, None
    if comm.rank == 0:
        # Only the writing rank imports HDF5 (it costs each process ~13 MiB).
        from brainsim.io.sonata_spikes import SpikeFileWriter
        names = [p.name for p in model.populations]
        writer = SpikeFileWriter(partial_name(spikes_path), names)
        offsets = np.array([p.offset for p in model.populations] + [model.num_neurons])
        recorder = SpikeRecorder(writer, offsets, names, set(model.recording.spikes),
                                 step_to_ms_converter(sim.dt),
                                 (ms_to_steps(sim.warmup, sim.dt), stop_step),
                                 capacity=model.recording.flush_every_spikes)
        if show_progress:
            progress = Progress(stop_step, sim.dt)
    engine = Engine(network, comm, sim.seed, sim.dt, recorder=recorder, progress=progress)
    comm.barrier()
    build_s = time.perf_counter() - started

    started = time.perf_counter()
    engine.run_until(stop_step)
    comm.barrier()
    simulate_s = time.perf_counter() - started
    if progress is not None:
        progress.finish()

    per_rank = comm.gather({
        "rank": comm.rank, "host": socket.gethostname(), "num_neurons": network.num_local,
        "num_synapses": network.synapses.num_synapses,
        "synapse_bytes": network.synapses.nbytes, "peak_rss_mib": peak_rss_mib(),
        "rss_before_build_mib": rss_before_build_mib,
        "build_s": network.build_seconds, "phase_s": engine.timings})
    if comm.rank != 0:
        return RunResult({}, build_s, simulate_s, 0.0, {})

    recorder.flush()
    window_s = (sim.t_sim - sim.warmup) * 1e-3
    rates = {p.name: float(recorder.counts_in_window[p.index]) / (p.size * window_s)
             for p in model.populations}
    real_time_factor = simulate_s / (sim.t_sim * 1e-3)
    metadata = {
        "brainsim_version": brainsim.__version__, "model": model.name,
        "model_file": model.source, "model_hash": model.model_hash, "seed": sim.seed,
        "ranks": comm.size, "dt_ms": sim.dt, "t_sim_ms": sim.t_sim, "warmup_ms": sim.warmup,
        "scale": model.scale, "indegree_scale": model.indegree_scale,
        "num_neurons": model.num_neurons,
        "population_sizes": {p.name: p.size for p in model.populations},
        "num_synapses": int(sum(r["num_synapses"] for r in per_rank)),
        "min_delay_ms": engine.min_delay_steps * sim.dt,
        "max_delay_ms": engine.max_delay_steps * sim.dt,
        "build_s": build_s, "simulate_s": simulate_s, "real_time_factor": real_time_factor,
        "total_spikes": int(recorder.total_spikes), "rates_hz": rates,
        "peak_rss_mib_per_rank": [r["peak_rss_mib"] for r in per_rank],
        "per_rank": per_rank,
    }
    writer.set_attributes({key: metadata[key] for key in (
        "brainsim_version", "model", "model_hash", "seed", "ranks", "dt_ms", "t_sim_ms",
        "build_s", "simulate_s", "real_time_factor", "num_neurons", "num_synapses")})
    writer.file.attrs["peak_rss_mib_per_rank"] = np.array(metadata["peak_rss_mib_per_rank"])
    writer.close()
    os.replace(partial_name(spikes_path), spikes_path)
    write_json_atomic(os.path.join(output_dir, "run.json"), metadata)
    return RunResult(rates, build_s, simulate_s, real_time_factor, metadata)
