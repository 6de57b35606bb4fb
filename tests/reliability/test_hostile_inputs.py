"""Hostile and careless inputs that the file-based catalogue (tests/bad_inputs/cases.yaml)
cannot hold: special files (FIFO, /dev/zero, /dev/urandom, a directory) as model or config,
command-line values (inf, nan), limits tied to the kernels, and the memory guard's parts.
Each refusal is one line, exit status 2, nothing written, within seconds."""
from __future__ import annotations

import math
import os
import time

import numpy as np
import pytest

from cli_runner import REPO, run_brainsim

BAD = os.path.join(REPO, "tests", "bad_inputs")
BASE = os.path.join(BAD, "valid_base.yaml")


def refused(args, tmp_path, expect, ranks=None, timeout=60):
    """Run `brainsim run ARGS -o tmp/out`; assert one line naming `expect`, status 2, no
    output directory, and a quick answer."""
    out = tmp_path / "out"
    started = time.monotonic()
    done = run_brainsim(["run", *args, "-o", str(out), "--no-progress"], ranks=ranks,
                        timeout=timeout)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert len([line for line in lines if line.startswith("brainsim: error:")]) == 1, \
        done.stderr
    assert expect in done.stderr, done.stderr
    assert not out.exists()
    assert time.monotonic() - started < timeout / 2
    return lines[0]


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "model.yaml"
    os.mkfifo(path)
    return str(path)


@pytest.mark.parametrize("special, kind", [("/dev/zero", "a character device"),
                                           ("/dev/urandom", "a character device")])
def test_device_as_model_or_config_is_refused_without_reading_it(special, kind, tmp_path):
    refused([special], tmp_path, f"{special}: {kind}, not a regular file")
    refused([BASE, "--config", special], tmp_path, f"{special}: {kind}, not a regular file")


def test_fifo_as_model_or_config_does_not_hang(fifo, tmp_path):
    refused([fifo], tmp_path, "a FIFO (named pipe), not a regular file", timeout=30)
    refused([BASE, "--config", fifo], tmp_path, "a FIFO (named pipe)", timeout=30)


@pytest.mark.mpi
def test_fifo_as_model_under_mpiexec_does_not_hang(fifo, tmp_path, mpiexec):
    refused([fifo], tmp_path, "a FIFO (named pipe), not a regular file", ranks=2, timeout=60)


def test_directory_as_model_or_config_is_refused(tmp_path):
    folder = tmp_path / "model.yaml"
    folder.mkdir()
    refused([str(folder)], tmp_path, "a directory, not a regular file")
    refused([BASE, "--config", str(folder)], tmp_path, "a directory, not a regular file")


def test_model_file_above_the_size_limit_is_refused_unread(tmp_path, monkeypatch):
    from brainsim.spec import SpecError, load_model
    from brainsim.spec import yaml_loader
    big = tmp_path / "big.yaml"
    big.write_text("# " + "x" * 2000 + "\n")
    monkeypatch.setattr(yaml_loader, "MAX_FILE_BYTES", 1000)
    with pytest.raises(SpecError, match="2,003 bytes; expected a YAML file of at most"):
        load_model(str(big))


@pytest.mark.parametrize("flag, value", [("--checkpoint-every", "inf"),
                                         ("--checkpoint-every", "nan"),
                                         ("--checkpoint-wall", "inf"),
                                         ("--checkpoint-wall", "-1")])
def test_non_finite_checkpoint_intervals_are_refused(flag, value, tmp_path):
    line = refused([BASE, flag, value], tmp_path, f"{flag} {value}: expected a positive "
                   "finite number")
    assert line.startswith("brainsim: error: ")


def _many_populations(count: int) -> dict:
    return {"name": "many", "simulation": {"t_sim": 1.0},
            "populations": [{"name": f"P{i}", "size": 1, "model": "iaf_psc_delta"}
                            for i in range(count)]}


def test_more_populations_than_int16_indices_are_refused():
    from brainsim.spec import SpecError
    from brainsim.spec.errors import Sources
    from brainsim.spec.resolve import MAX_POPULATIONS, resolve
    assert MAX_POPULATIONS == np.iinfo(np.int16).max
    with pytest.raises(SpecError, match=r"populations\[32767\]: 32,768 populations; "
                       r"expected at most 32,767"):
        resolve(_many_populations(MAX_POPULATIONS + 1), Sources("many.yaml", {}), "many.yaml")


def test_poisson_limit_is_the_kernels():
    """The spec refuses exactly what the Poisson sampler refuses (700 events per step)."""
    from cython_kernels import poisson as poisson_kernel
    from brainsim.spec import SpecError, load_model
    from brainsim.spec.connections import POISSON_MAX_MEAN_PER_STEP
    poisson_kernel.cdf_table(POISSON_MAX_MEAN_PER_STEP)
    with pytest.raises(ValueError):
        poisson_kernel.cdf_table(POISSON_MAX_MEAN_PER_STEP + 1e-6)
    # inputs[0]: in-degree 100 at dt 0.1 ms: 70,000 Hz each is 700 events per step
    load_model(BASE, None, ["inputs[0].rate=70000"])
    with pytest.raises(SpecError, match="700.07 events per step"):
        load_model(BASE, None, ["inputs[0].rate=70007"])


def test_delay_limit_is_the_uint16_of_the_build():
    from brainsim.spec import SpecError, load_model
    from brainsim.spec.connections import MAX_DELAY_STEPS
    assert MAX_DELAY_STEPS == np.iinfo(np.uint16).max
    load_model(BASE, None, ["projections[0].synapse.delay=6553.5"])    # 65535 steps
    with pytest.raises(SpecError, match="65536 steps"):
        load_model(BASE, None, ["projections[0].synapse.delay=6553.6"])


def test_memory_estimate_counts_spike_generator_times(tmp_path):
    from brainsim.network.estimate import BYTES_PER_GENERATOR_TIME, estimate_memory
    from brainsim.spec import load_model
    times = tmp_path / "times.npy"
    np.save(times, np.full(200_000, 10.0))
    model = tmp_path / "generator.yaml"
    model.write_text(open(BASE).read().replace(
        "inputs:\n", f"inputs:\n  - {{type: spike_generator, target: E, file: {times}, "
        "weight: 0.1}\n"))
    without = estimate_memory(load_model(BASE), 4)
    with_times = estimate_memory(load_model(str(model)), 4)
    added = (with_times.total_mib - without.total_mib) * (1 << 20)
    assert added == pytest.approx(200_000 * BYTES_PER_GENERATOR_TIME)   # every rank: not / 4
    assert BYTES_PER_GENERATOR_TIME >= 66                      # measured peak, see estimate


def test_memory_guard_refuses_population_activity_over_a_huge_t_sim(tmp_path, monkeypatch):
    """745 GiB of activity bins were allocated during the build, after the output
    directory existed; the guard now refuses before, naming the bin as the fix."""
    refused([BASE, "--set", "simulation.t_sim=1e12", "--set",
             "recording.population_activity.bin=0.1"], tmp_path,
            "population activity takes")


def test_population_names_differing_only_by_case_are_distinct():
    """HDF5 groups (/spikes/<population>) and SONATA names are case-sensitive and no file
    is named after a population, so E and e may coexist."""
    from brainsim.spec import load_model
    model = load_model(BASE, None, ["populations[1].name=e", "projections[0].target=e",
                                    "projections[1].source=e"])
    assert [p.name for p in model.populations] == ["E", "e"]


def test_documents_of_too_many_values_are_refused_while_parsing(tmp_path, monkeypatch):
    from brainsim.spec import SpecError, load_model
    from brainsim.spec import yaml_loader
    flat = tmp_path / "flat.yaml"
    flat.write_text("name: t\nx: [" + "1, " * 2000 + "1]\n")
    monkeypatch.setattr(yaml_loader, "MAX_NODES", 1000)
    with pytest.raises(SpecError, match=r"flat.yaml:2: more than 1,000 values"):
        load_model(str(flat))
