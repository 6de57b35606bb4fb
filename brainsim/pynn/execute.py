"""Running the network: the document of brainsim.pynn.document, resolved and run by
brainsim's engine (brainsim.engine.run.run_model) into a scratch directory, its spikes
and sampled state read back into memory (Results).

A run always simulates from time 0 to the stop time: the engine is deterministic, so
run(a); run(b) gives exactly the spikes and samples of one run of a + b. What would
make that replay differ from continuing (a change of parameters, initial values, inputs,
connections or recordings after time 0) is refused.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass

import numpy as np
from pyNN import errors

from brainsim.pynn.unsupported import NotSupportedByBrainsim

from brainsim.pynn.document import model_document


@dataclass
class Results:
    """spikes: brainsim population -> (times ms, local ids); signals: (population, NEST
    variable) -> (times ms, values [n_times, n_recorded], local ids)."""
    spikes: dict
    signals: dict


def run_network(state, tstop: float) -> Results:
    if state.changed_after_start is not None:
        raise NotSupportedByBrainsim(
            f"{state.changed_after_start} changed after the simulation started: "
            "brainsim.pynn continues a run only with the network unchanged (call reset() "
            "first)")
    from brainsim.engine.comm import make_comm
    comm = make_comm()
    workdir = comm.bcast(tempfile.mkdtemp(prefix="brainsim_pynn_") if comm.rank == 0 else None)
    try:
        model = _resolve(model_document(state, tstop, workdir))
        from brainsim.engine.run import run_model
        run_model(model, comm, os.path.join(workdir, "run"), overwrite=True,
                  show_progress=False)
        results = _read(os.path.join(workdir, "run")) if comm.rank == 0 else None
        return comm.bcast(results)
    finally:
        comm.barrier()
        if comm.rank == 0:
            shutil.rmtree(workdir, ignore_errors=True)


def _resolve(doc: dict):
    from brainsim.spec.errors import SpecError, Sources
    from brainsim.spec.resolve import resolve
    try:
        return resolve(doc, Sources("<brainsim.pynn>", []), "<brainsim.pynn>")
    except SpecError as err:
        raise errors.InvalidParameterValueError(f"brainsim refused the network: {err}") from None


def _read(outdir: str) -> Results:
    from brainsim.io.sonata_report import read_report
    from brainsim.io.sonata_spikes import read_spikes
    spikes = {name: (np.asarray(t, dtype=float), np.asarray(i, dtype=np.int64))
              for name, (t, i) in read_spikes(os.path.join(outdir, "spikes.h5")).items()}
    signals = {}
    for entry in sorted(os.listdir(outdir)):
        if entry.startswith("report_") and entry.endswith(".h5"):
            variable = entry[len("report_"):-len(".h5")]
            for population, r in read_report(os.path.join(outdir, entry)).items():
                signals[(population, variable)] = (r["times"], np.asarray(r["data"], float),
                                                   np.asarray(r["node_ids"], np.int64))
    return Results(spikes, signals)
