"""Synthetic spike trains with known statistics, and brainsim-shaped output directories
(spikes.h5 written by brainsim's own SONATA writer, run.json) holding them."""
from __future__ import annotations

import json
import os

import numpy as np

from brainsim.io.sonata_spikes import SpikeFileWriter


def poisson_trains(num_neurons: int, rate_hz: float, t0_ms: float, t1_ms: float,
                   rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Independent homogeneous Poisson trains on (t0, t1], sorted by time."""
    counts = rng.poisson(rate_hz * (t1_ms - t0_ms) * 1e-3, num_neurons)
    ids = np.repeat(np.arange(num_neurons), counts)
    times = rng.uniform(t0_ms, t1_ms, ids.size)
    order = np.argsort(times, kind="stable")
    return times[order], ids[order]


def regular_trains(num_neurons: int, period_ms: float, t0_ms: float, t1_ms: float,
                   rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Perfectly periodic trains, a random phase per neuron, sorted by time."""
    phase = rng.uniform(0, period_ms, num_neurons)
    k = np.arange(int((t1_ms - t0_ms) / period_ms))
    times = (t0_ms + phase[:, None] + k[None, :] * period_ms).ravel()
    ids = np.repeat(np.arange(num_neurons), k.size)
    keep = times <= t1_ms
    order = np.argsort(times[keep], kind="stable")
    return times[keep][order], ids[keep][order]


def modulated_trains(num_neurons: int, rate_hz: float, depth: float, frequency_hz: float,
                     t0_ms: float, t1_ms: float, rng: np.random.Generator):
    """Inhomogeneous Poisson trains of rate r (1 + depth sin(2 pi f t)) by thinning."""
    times, ids = poisson_trains(num_neurons, rate_hz * (1 + depth), t0_ms, t1_ms, rng)
    accept = rng.uniform(size=times.size) * (1 + depth) < \
        1 + depth * np.sin(2 * np.pi * frequency_hz * times * 1e-3)
    return times[accept], ids[accept]


def write_output(outdir, populations: dict, t_sim_ms: float, warmup_ms: float = 0.0,
                 extra_meta: dict | None = None) -> str:
    """A brainsim output directory: populations = {name: (times, ids, size)}."""
    os.makedirs(outdir, exist_ok=True)
    writer = SpikeFileWriter(os.path.join(outdir, "spikes.h5"), list(populations))
    for name, (times, ids, _) in populations.items():
        order = np.argsort(times, kind="stable")
        writer.append(name, np.asarray(times, np.float64)[order],
                      np.asarray(ids, np.uint64)[order])
    writer.close()
    meta = {"model": "synthetic", "seed": 1, "scale": 1.0, "dt_ms": 0.1,
            "t_sim_ms": t_sim_ms, "warmup_ms": warmup_ms,
            "population_sizes": {name: int(size) for name, (_, _, size) in populations.items()},
            **(extra_meta or {})}
    with open(os.path.join(outdir, "run.json"), "w") as handle:
        json.dump(meta, handle)
    return str(outdir)
