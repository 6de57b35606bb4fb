"""Export to Neo (neo.SpikeTrain per neuron) so Elephant's statistics apply directly."""
from __future__ import annotations

import numpy as np

from brainsim.analysis.errors import AnalysisError
from brainsim.analysis.run_output import SpikeFile, load_run


def _import_neo():
    try:
        import neo
        import quantities
    except ImportError as err:
        raise ImportError(f"to_neo needs Neo and quantities ({err.name} is missing): "
                          "pip install neo quantities") from None
    return neo, quantities


def to_neo(outdir: str, window_ms: tuple[float, float] | None = None,
           populations: list[str] | None = None) -> dict[str, list]:
    """{population: [neo.SpikeTrain of node 0, 1, ...]} of the run in OUTDIR.

    Every neuron gets a train, silent ones empty; times in ms with t_start, t_stop the
    window (default (0, t_sim]; spikes with t_start < t <= t_stop); each train is annotated
    with its population and node_id. Populations in display order (layers top down)."""
    neo, pq = _import_neo()
    run = load_run(outdir)
    t0, t1 = window_ms if window_ms is not None else (0.0, run.t_sim_ms)
    wanted = populations if populations is not None else run.populations
    unknown = [name for name in wanted if name not in run.population_sizes]
    if unknown:
        raise AnalysisError(f"{outdir}: no population {', '.join(unknown)}; found "
                            + ", ".join(run.populations))
    out = {}
    with SpikeFile(run.spikes_path) as spikes:
        present = set(spikes.populations)
        for name in wanted:
            size = run.population_sizes[name]
            times, ids = spikes.read_window(name, t0, t1) if name in present else \
                (np.empty(0), np.empty(0, dtype=np.int64))
            order = np.argsort(ids, kind="stable")            # time order kept per neuron
            bounds = np.searchsorted(ids[order], np.arange(size + 1))
            sorted_times = times[order]
            out[name] = [neo.SpikeTrain(sorted_times[bounds[i]:bounds[i + 1]], units=pq.ms,
                                        t_start=t0 * pq.ms, t_stop=t1 * pq.ms,
                                        name=f"{name}:{i}", population=name, node_id=i)
                         for i in range(size)]
    return out
